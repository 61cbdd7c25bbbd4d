// Node adapters of the TUF client's verify and hash ports, on node:crypto.
// Key formats as securesystemslib writes them: ed25519 public keys as hex of
// the 32 raw bytes, ecdsa and rsa as PEM SubjectPublicKeyInfo; signatures as
// hex (DER for ecdsa). Anything malformed or unknown verifies as false.
import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { HashPort, SignatureVerifier } from '../../src/update/ports.js';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function key(keytype: string, publicKey: string): KeyObject | null {
  try {
    if (keytype === 'ed25519') {
      if (!HEX.test(publicKey) || publicKey.length !== 64) return null;
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'hex').toString('base64url') }, format: 'jwk' });
    }
    return createPublicKey({ key: publicKey, format: 'pem' });
  } catch {
    return null;
  }
}

export class NodeSignatureVerifier implements SignatureVerifier {
  verify(keytype: string, scheme: string, publicKey: string, message: Uint8Array, signatureHex: string): boolean {
    if (!HEX.test(signatureHex) || signatureHex.length === 0) return false;
    const k = key(keytype, publicKey);
    if (k === null) return false;
    const sig = Buffer.from(signatureHex, 'hex');
    try {
      if (keytype === 'ed25519' && scheme === 'ed25519') {
        return k.asymmetricKeyType === 'ed25519' && verify(null, message, k, sig);
      }
      if ((keytype === 'ecdsa' || keytype === 'ecdsa-sha2-nistp256') && scheme === 'ecdsa-sha2-nistp256') {
        if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return false;
        return verify('sha256', message, { key: k, dsaEncoding: 'der' }, sig);
      }
      if (keytype === 'rsa' && k.asymmetricKeyType === 'rsa') {
        if (scheme === 'rsassa-pss-sha256') {
          return verify('sha256', message, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
        }
        if (scheme === 'rsa-pkcs1v15-sha256') return verify('sha256', message, { key: k, padding: constants.RSA_PKCS1_PADDING }, sig);
      }
    } catch {
      return false;
    }
    return false;
  }
}

const HASHES: Record<string, string> = { sha256: 'sha256', sha512: 'sha512', sha384: 'sha384' };

export class NodeHash implements HashPort {
  digest(algorithm: string, bytes: Uint8Array): Uint8Array | null {
    const alg = HASHES[algorithm];
    if (alg === undefined) return null;
    return new Uint8Array(createHash(alg).update(bytes).digest());
  }
}
