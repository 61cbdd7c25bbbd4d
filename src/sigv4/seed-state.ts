// What a chunked upload needs from the signing that produced its seed
// signature. It holds no copies: its arrays are views of the Signer's own
// buffers (signing key, X-Amz-Date, credential scope, signature), which stay
// as they are until the next signing starts and marks the seed invalid. The
// ChunkSigner copies what it needs in begin(), so later signings do not
// disturb an upload in progress.
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
  /** The signing key (32 bytes). */
  readonly key: Uint8Array;
  /** X-Amz-Date (16 bytes). */
  readonly amzDate: Uint8Array;
  /** The scope is scope[scopeStart, scopeEnd). */
  readonly scope: Uint8Array;
  scopeStart = 0;
  scopeEnd = 0;
  /** The seed signature, 64 hex bytes. */
  readonly signature: Uint8Array;
  streaming = SEED_NOT_STREAMING;
  valid = false;

  constructor(key: Uint8Array, amzDate: Uint8Array, scope: Uint8Array, signature: Uint8Array) {
    this.key = key;
    this.amzDate = amzDate;
    this.scope = scope;
    this.signature = signature;
  }
}
