// What a chunked upload needs from the signing that produced its seed
// signature. The Signer fills it after every successful signing; the
// ChunkSigner copies it in begin(), so later signings do not disturb an
// upload in progress.
import { AMZ_DATE_BYTES } from './amz-date.js';
import { HMAC_SHA256_BYTES } from './hmac.js';
import { MAX_REGION_BYTES, MAX_SERVICE_BYTES } from './limits.js';
import { DATE_BYTES } from './signing-key.js';

/** `YYYYMMDD/region/service/aws4_request` at its longest. */
export const MAX_SCOPE_BYTES = DATE_BYTES + 3 + 'aws4_request'.length + MAX_REGION_BYTES + MAX_SERVICE_BYTES;
export const SIGNATURE_HEX_BYTES = 64;

/** Payload kinds a seed can start (0: not a streaming signing). */
export const SEED_NOT_STREAMING = 0;
export const SEED_STREAMING = 1;
export const SEED_STREAMING_TRAILER = 2;

export class SeedState {
  readonly key = new Uint8Array(HMAC_SHA256_BYTES);
  readonly amzDate = new Uint8Array(AMZ_DATE_BYTES);
  readonly scope = new Uint8Array(MAX_SCOPE_BYTES);
  scopeLen = 0;
  /** The seed signature, 64 hex bytes. */
  readonly signature = new Uint8Array(SIGNATURE_HEX_BYTES);
  streaming = SEED_NOT_STREAMING;
  valid = false;
}
