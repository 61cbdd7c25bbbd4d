// The portable SignatureVerifier (src/update/verify-noble.ts) on Node and XS,
// against keys and signatures OpenSSL made at test time (update-verify.data.ts):
// valid signatures of every key type verify; wrong keys, flipped bits, r or s
// out of range, points off the curve, out-of-bound key sizes and unknown
// types do not, and nothing throws.
import type { PortableSuite } from '../harness/portable.js';
import { hexBytes, NobleSignatureVerifier } from '../../src/update/verify-noble.js';

/** One vector made by update-verify.data.ts; `sig` as TUF carries it (hex). */
export interface VerifyVector {
  name: string;
  keytype: string;
  scheme: string;
  publicKey: string;
  messageHex: string;
  sig: string;
  expected: boolean;
}

const suite: PortableSuite = (data) => {
  const { vectors } = data as { vectors: VerifyVector[] };
  const verifier = new NobleSignatureVerifier();
  return vectors.map((x) => ({
    name: x.name,
    run(t) {
      const message = hexBytes(x.messageHex)!;
      t.equal(verifier.verify(x.keytype, x.scheme, x.publicKey, message, x.sig), x.expected, x.name);
    },
  }));
};

export default suite;
