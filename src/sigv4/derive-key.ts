// Derives a SigV4 signing key off the device (provisioning tools, tests),
// so that a device can be given DerivedKeyCredentials instead of the secret.
import type { Sha256Factory } from '../ports.js';
import { SigV4Error } from './errors.js';
import { HMAC_SHA256_BYTES, HmacSha256 } from './hmac.js';
import { nobleSha256 } from './sha256-noble.js';
import { utf8Bytes } from '../shared/utf8.js';

/** HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". Allocates; not for hot paths. */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string, sha256: Sha256Factory = nobleSha256): Uint8Array {
  if (!/^[0-9]{8}$/.test(date)) throw new SigV4Error('INVALID_CREDENTIALS', "date must be 'YYYYMMDD'");
  const hmac = new HmacSha256(sha256());
  let key = utf8Bytes(`AWS4${secretAccessKey}`);
  for (const part of [date, region, service, 'aws4_request']) {
    const msg = utf8Bytes(part);
    const next = new Uint8Array(HMAC_SHA256_BYTES);
    hmac.setKey(key, 0, key.length);
    hmac.mac(msg, 0, msg.length, next, 0);
    key.fill(0);
    key = next;
  }
  hmac.wipe();
  return key;
}
