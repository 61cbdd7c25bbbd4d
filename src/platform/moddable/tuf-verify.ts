// SignatureVerifier (src/update/ports.ts) for boards, on the SDK's native
// public-key code: ECDSA P-256 through `ecdsa`/`curve` (C point arithmetic,
// arith/ec.c) and RSA through `rsa` (C modular power, arith/modular.c),
// SHA-256 through the native `crypt` Digest. @noble/curves is not in a board
// firmware: too big for a Pico W (docs/updates.md, board verification).
//
// The SDK does no checking of its own: ECDSA.verify() takes r and s as given
// and any point as the key, and its PKCS#1 v1.5 verify skips the DigestInfo's
// algorithm and ignores trailing bytes; it has no PSS. So this module parses
// keys and signatures (src/shared/der.ts), checks r and s in [1, n-1] and the
// key on P-256, and does both RSA encodings itself, leaving the SDK only the
// arithmetic. Ed25519: the SDK has none, so it counts as no signature; a
// fleet of boards needs P-256 or RSA keys in every role it must verify.
// Anything malformed is false, never an exception.
import { Digest } from 'crypt';
import Curve from 'curve';
import ECDSA from 'ecdsa';
import ECPoint from 'ecp';
import RSA from 'rsa';
import { derChildren, derTlv, type Tlv } from '../../shared/der.js';
import { emsaPkcs1v15Sha256Matches, emsaPssSha256Verify, hexBytes, hexOf, OID_EC_PUBLIC_KEY, OID_P256, parseSpki, pemPublicKeyDer, rsaPublicKeyIntegers, type Sha256Of } from '../../shared/public-key.js';
import type { SignatureVerifier } from '../../update/ports.js';

/** Characters of a PEM public key accepted (an RSA-4096 SPKI is about 800). */
export const BOARD_MAX_PEM_CHARS = 4096;
/** Hex characters of a signature accepted (RSA-4096 is 1024). */
export const BOARD_MAX_SIGNATURE_HEX_CHARS = 1024;
/** RSA modulus sizes a board accepts, in bits: below 2048 is too weak to trust a fleet to; above 4096 costs too much time on an MCU. */
export const BOARD_MIN_RSA_BITS = 2048;
export const BOARD_MAX_RSA_BITS = 4096;
/** Bits of an RSA public exponent accepted (65537 has 17); bounds the native modular power. */
export const BOARD_MAX_RSA_EXPONENT_BITS = 64;

/** P-256 field prime, curve coefficient b and group order (SEC 2, secp256r1); a = p - 3. */
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P256_BYTES = 32;

/** The magnitude bytes (leading zero dropped) of a positive, minimally encoded DER INTEGER; null otherwise. Zero is empty. */
function unsignedInteger(der: Uint8Array, t: Tlv): Uint8Array | null {
  if (t.tag !== 0x02 || t.end === t.start) return null;
  const first = der[t.start]!;
  if (first & 0x80) return null;
  if (first === 0 && t.end - t.start > 1 && (der[t.start + 1]! & 0x80) === 0) return null;
  return der.subarray(first === 0 ? t.start + 1 : t.start, t.end);
}

/** Big-endian unsigned bytes to a bigint through XS's native conversion (which refuses an empty buffer). */
function bigOf(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const xs = BigInt as unknown as { fromArrayBuffer(buffer: ArrayBuffer): bigint };
  return xs.fromArrayBuffer(bytes.slice().buffer);
}

/** A non-negative bigint as exactly `length` big-endian bytes; null when it does not fit. */
function bytesOf(v: bigint, length: number): Uint8Array | null {
  const xs = ArrayBuffer as unknown as { fromBigInt(value: bigint, minBytes: number): ArrayBuffer };
  const out = new Uint8Array(xs.fromBigInt(v, length));
  for (let i = 0; i < out.length - length; i++) if (out[i] !== 0) return null;
  return out.length === length ? out : out.subarray(out.length - length);
}

function bitLength(magnitude: Uint8Array): number {
  if (magnitude.length === 0) return 0;
  let top = magnitude[0]!;
  let bits = 0;
  while (top > 0) {
    bits++;
    top >>= 1;
  }
  return (magnitude.length - 1) * 8 + bits;
}

/** SHA-256 over the native Digest, reused across calls. */
function nativeSha256(digest: Digest): Sha256Of {
  return (...parts: Uint8Array[]): Uint8Array => {
    digest.reset();
    for (const p of parts) if (p.length > 0) digest.write(p as unknown as ArrayBuffer);
    return new Uint8Array(digest.close());
  };
}

function ecdsaVerify(sha256: Sha256Of, publicKey: string, message: Uint8Array, sig: Uint8Array): boolean {
  const der = pemPublicKeyDer(publicKey, BOARD_MAX_PEM_CHARS);
  const spki = der === null ? null : parseSpki(der);
  if (spki === null || spki.algorithm !== OID_EC_PUBLIC_KEY) return false;
  const p = spki.parameters;
  if (p.tag !== 0x06 || hexOf(der!.subarray(p.start, p.end)) !== OID_P256) return false;
  // Uncompressed point only (what every TUF signer writes). The identity has
  // no such encoding, and (0, 0) is not on the curve since b != 0.
  const key = spki.key;
  if (key.length !== 1 + 2 * P256_BYTES || key[0] !== 0x04) return false;
  const x = bigOf(key.subarray(1, 1 + P256_BYTES));
  const y = bigOf(key.subarray(1 + P256_BYTES));
  if (x >= P256_P || y >= P256_P) return false;
  // y^2 = x^3 - 3x + b (mod p)
  if ((y * y - (x * x * x - 3n * x + P256_B)) % P256_P !== 0n) return false;
  // Ecdsa-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, nothing after it.
  const seq = derTlv(sig, 0, sig.length);
  if (seq === null || seq.tag !== 0x30 || seq.end !== sig.length) return false;
  const parts = derChildren(sig, seq, 2);
  if (parts === null || parts.length !== 2) return false;
  const rBytes = unsignedInteger(sig, parts[0]!);
  const sBytes = unsignedInteger(sig, parts[1]!);
  if (rBytes === null || sBytes === null || rBytes.length > P256_BYTES || sBytes.length > P256_BYTES) return false;
  const r = bigOf(rBytes);
  const s = bigOf(sBytes);
  if (r < 1n || r >= P256_N || s < 1n || s >= P256_N) return false;
  // High S is accepted, as OpenSSL (and so securesystemslib) does.
  const raw = new Uint8Array(2 * P256_BYTES);
  raw.set(rBytes, P256_BYTES - rBytes.length);
  raw.set(sBytes, 2 * P256_BYTES - sBytes.length);
  const hash = sha256(message);
  // The SDK compares the point's x with r without reducing it mod n: a valid
  // signature whose x is in [n, p) (probability about 2^-128) is refused.
  return new ECDSA(new ECPoint(x, y), new Curve('secp256r1')).verify(hash.buffer as ArrayBuffer, raw.buffer, false) === true;
}

function rsaVerify(sha256: Sha256Of, scheme: string, publicKey: string, message: Uint8Array, sig: Uint8Array): boolean {
  if (scheme !== 'rsassa-pss-sha256' && scheme !== 'rsa-pkcs1v15-sha256') return false;
  const der = pemPublicKeyDer(publicKey, BOARD_MAX_PEM_CHARS);
  const spki = der === null ? null : parseSpki(der);
  const ints = spki === null ? null : rsaPublicKeyIntegers(spki);
  if (ints === null) return false;
  const key = spki!.key;
  const nBytes = unsignedInteger(key, ints[0]);
  const eBytes = unsignedInteger(key, ints[1]);
  if (nBytes === null || eBytes === null) return false;
  const bits = bitLength(nBytes);
  if (bits < BOARD_MIN_RSA_BITS || bits > BOARD_MAX_RSA_BITS || (nBytes[nBytes.length - 1]! & 1) === 0) return false;
  const eBits = bitLength(eBytes);
  if (eBits < 2 || eBits > BOARD_MAX_RSA_EXPONENT_BITS || (eBytes[eBytes.length - 1]! & 1) === 0) return false;
  const k = nBytes.length;
  if (sig.length !== k) return false;
  const n = bigOf(nBytes);
  const s = bigOf(sig);
  if (s >= n) return false;
  const m = new RSA(bigOf(eBytes), n).process(s);
  const mHash = sha256(message);
  if (scheme === 'rsa-pkcs1v15-sha256') {
    const em = bytesOf(m, k);
    return em !== null && emsaPkcs1v15Sha256Matches(mHash, em);
  }
  const emBits = bits - 1;
  const em = bytesOf(m, Math.ceil(emBits / 8));
  return em !== null && emsaPssSha256Verify(sha256, mHash, em, emBits);
}

export class ModdableSignatureVerifier implements SignatureVerifier {
  private readonly sha256 = nativeSha256(new Digest('SHA256'));

  verify(keytype: string, scheme: string, publicKey: string, message: Uint8Array, signatureHex: string): boolean {
    try {
      if (typeof publicKey !== 'string' || typeof signatureHex !== 'string' || !(message instanceof Uint8Array)) return false;
      if (signatureHex.length === 0 || signatureHex.length > BOARD_MAX_SIGNATURE_HEX_CHARS) return false;
      const sig = hexBytes(signatureHex);
      if (sig === null) return false;
      if ((keytype === 'ecdsa' || keytype === 'ecdsa-sha2-nistp256') && scheme === 'ecdsa-sha2-nistp256') return ecdsaVerify(this.sha256, publicKey, message, sig);
      if (keytype === 'rsa') return rsaVerify(this.sha256, scheme, publicKey, message, sig);
      // ed25519 and anything else: no native code, so no signature.
      return false;
    } catch {
      return false;
    }
  }
}
