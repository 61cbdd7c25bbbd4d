// Our signer driven on Node from a BenchShape: the signing closure used for
// signatures per second, and a debug-mode run that yields the canonical
// request and string to sign (the inputs of the hash floor).
import { createHash, createHmac } from 'node:crypto';
import { Signer, type SigningRequest } from '../../src/sigv4/index.js';
import type { Sha256, Sha256Factory } from '../../src/ports.js';
import { BENCH_ACCESS_KEY_ID, BENCH_SECRET_ACCESS_KEY, BENCH_SIGNING_TIME_MS, wirePath, type BenchShape } from './sigv4-shapes.js';

export interface OursOptions {
  debug?: boolean;
  limits?: Record<string, number>;
  sha256?: Sha256Factory;
}

function request(shape: BenchShape): SigningRequest {
  return {
    method: shape.method,
    path: wirePath(shape),
    headers: shape.headers,
    body: shape.body.length ? new Uint8Array(Buffer.from(shape.body, 'latin1')) : null,
    timeMs: BENCH_SIGNING_TIME_MS,
    ...(shape.mode === 'query' ? { expiresSeconds: shape.expiresSeconds, sessionTokenLast: true } : {}),
  };
}

export function oursSigner(shape: BenchShape, options: OursOptions = {}): { signer: Signer; sign: () => string } {
  const signer = new Signer({
    credentials: {
      accessKeyId: BENCH_ACCESS_KEY_ID,
      secretAccessKey: BENCH_SECRET_ACCESS_KEY,
      ...(shape.sessionToken !== null ? { sessionToken: shape.sessionToken } : {}),
    },
    region: shape.region,
    service: shape.service,
    signBody: shape.signBody,
    omitSessionToken: shape.omitSessionToken,
    // No bench shape streams an upload: sized as a device that never does (no chunk signer).
    chunkedUploads: false,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.sha256 ? { sha256: options.sha256 } : {}),
    debug: options.debug === true,
  });
  const req = request(shape);
  const sign = shape.mode === 'header' ? () => signer.sign(req).signature() : () => signer.presign(req).signature();
  return { signer, sign };
}

/** SigV4 signing key by the AWS derivation, with node:crypto (independent of every signer here). */
export function signingKeyNode(shape: BenchShape): Buffer {
  const date = new Date(BENCH_SIGNING_TIME_MS).toISOString().slice(0, 10).replace(/-/g, '');
  let key: Buffer = createHmac('sha256', `AWS4${BENCH_SECRET_ACCESS_KEY}`).update(date).digest();
  for (const part of [shape.region, shape.service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

export interface OursCapture {
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
}

export function oursDebugCapture(shape: BenchShape): OursCapture {
  const { signer, sign } = oursSigner(shape, { debug: true });
  const signature = sign();
  return { signature, canonicalRequest: signer.debugCanonicalRequest, stringToSign: signer.debugStringToSign };
}

/**
 * A Sha256 port on node:crypto (OpenSSL), for the Node figure with a native
 * hash. Node's Hash cannot be reset, so reset() makes a new one: it
 * allocates, which is fine on Node and is why the portable default is noble.
 */
class NodeCryptoSha256 implements Sha256 {
  private hash = createHash('sha256');
  reset(): void {
    this.hash = createHash('sha256');
  }
  update(bytes: Uint8Array, start: number, end: number): void {
    this.hash.update(bytes.subarray(start, end));
  }
  finish(out: Uint8Array, offset: number): void {
    out.set(this.hash.digest(), offset);
  }
}

export const nodeCryptoSha256: Sha256Factory = () => new NodeCryptoSha256();
