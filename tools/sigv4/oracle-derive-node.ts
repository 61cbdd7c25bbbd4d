// SigV4 signing-key derivation with node:crypto, independent of src/sigv4:
// the differential test hands such keys to a derived-key-only signer.
import { createHmac } from 'node:crypto';
import type { OracleRequest } from './oracle-request.js';

/** HMAC-SHA256 chain "AWS4"+secret -> date -> region -> service -> "aws4_request". */
export function signingKeyNode(secret: string, date: string, region: string, service: string): Uint8Array {
  let key: Buffer = Buffer.from(`AWS4${secret}`, 'utf8');
  for (const part of [date, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part, 'utf8').digest();
  return new Uint8Array(key);
}

/** The derived key for a request's own date (UTC), region and service. */
export function derivedKeyFor(r: OracleRequest): { signingKey: Uint8Array; date: string } {
  const date = new Date(r.timeMs).toISOString().slice(0, 10).replace(/-/g, '');
  return { signingKey: signingKeyNode(r.secretAccessKey, date, r.region, r.service), date };
}
