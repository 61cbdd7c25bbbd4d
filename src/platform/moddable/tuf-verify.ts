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

const OID_EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1
const OID_P256 = '2a8648ce3d030107'; // 1.2.840.10045.3.1.7
const OID_RSA = '2a864886f70d010101'; // 1.2.840.113549.1.1.1
/** DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1). */
const SHA256_DIGEST_INFO = '3031300d060960864801650304020105000420';
const SHA256_BYTES = 32;
/** P-256 field prime, curve coefficient b and group order (SEC 2, secp256r1); a = p - 3. */
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P256_BYTES = 32;

function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Hex to bytes; null unless an even number of hex digits. */
function hexBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(hex.charCodeAt(2 * i));
    const lo = hexDigit(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function base64Value(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === 43) return 62;
  if (c === 47) return 63;
  return -1;
}

/** Standard base64, padding only at the end; null when malformed. */
function base64Bytes(text: string): Uint8Array | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (text.length - end > 2 || end % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const v = base64Value(text.charCodeAt(i));
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return o === out.length ? out : null;
}

/** The DER of a `PUBLIC KEY` PEM block; null unless exactly one such block and nothing else. */
function pemDer(pem: string): Uint8Array | null {
  if (pem.length > BOARD_MAX_PEM_CHARS) return null;
  const begin = '-----BEGIN PUBLIC KEY-----';
  const finish = '-----END PUBLIC KEY-----';
  const a = pem.indexOf(begin);
  const b = pem.indexOf(finish);
  if (a < 0 || b < a || pem.indexOf(begin, a + 1) >= 0) return null;
  if (pem.slice(0, a).trim() !== '' || pem.slice(b + finish.length).trim() !== '') return null;
  let body = '';
  for (let i = a + begin.length; i < b; i++) {
    const c = pem[i]!;
    if (c !== '\n' && c !== '\r' && c !== ' ' && c !== '\t') body += c;
  }
  return base64Bytes(body);
}

interface Spki {
  algorithm: string;
  parameters: Tlv;
  key: Uint8Array;
}

/** SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID, params }, BIT STRING (0 unused bits) }. */
function parseSpki(der: Uint8Array): Spki | null {
  const top = derTlv(der, 0, der.length);
  if (top === null || top.tag !== 0x30 || top.end !== der.length) return null;
  const parts = derChildren(der, top, 2);
  if (parts === null || parts.length !== 2) return null;
  const alg = parts[0]!;
  const bits = parts[1]!;
  if (alg.tag !== 0x30 || bits.tag !== 0x03 || bits.end - bits.start < 2 || der[bits.start] !== 0) return null;
  const algParts = derChildren(der, alg, 2);
  if (algParts === null || algParts.length !== 2 || algParts[0]!.tag !== 0x06) return null;
  return { algorithm: hexOf(der.subarray(algParts[0]!.start, algParts[0]!.end)), parameters: algParts[1]!, key: der.subarray(bits.start + 1, bits.end) };
}

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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** SHA-256 of the concatenation of `parts`, on the native Digest. */
function sha256(digest: Digest, ...parts: Uint8Array[]): Uint8Array {
  digest.reset();
  for (const p of parts) if (p.length > 0) digest.write(p as unknown as ArrayBuffer);
  return new Uint8Array(digest.close());
}

/** MGF1 with SHA-256 (RFC 8017 B.2.1). */
function mgf1(digest: Digest, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let c = 0, o = 0; o < length; c++) {
    counter[0] = (c >>> 24) & 0xff;
    counter[1] = (c >>> 16) & 0xff;
    counter[2] = (c >>> 8) & 0xff;
    counter[3] = c & 0xff;
    const h = sha256(digest, seed, counter);
    for (let i = 0; i < h.length && o < length; i++) out[o++] = h[i]!;
  }
  return out;
}

/**
 * EMSA-PSS-VERIFY (RFC 8017 9.1.2), SHA-256 and MGF1-SHA-256, with the salt
 * length recovered from the encoding: securesystemslib signs with the
 * longest salt and verifies any length, as src/update/verify-noble.ts does.
 */
function pssVerify(digest: Digest, mHash: Uint8Array, em: Uint8Array, emBits: number): boolean {
  const emLen = em.length;
  if (emLen < SHA256_BYTES + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - SHA256_BYTES - 1);
  const h = em.subarray(emLen - SHA256_BYTES - 1, emLen - 1);
  const unused = 8 * emLen - emBits;
  if (unused > 0 && maskedDb[0]! >> (8 - unused) !== 0) return false;
  const mask = mgf1(digest, h, maskedDb.length);
  const db = new Uint8Array(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  if (unused > 0) db[0]! &= 0xff >> unused;
  let i = 0;
  while (i < db.length && db[i] === 0) i++;
  if (i >= db.length || db[i] !== 0x01) return false;
  return equalBytes(sha256(digest, new Uint8Array(8), mHash, db.subarray(i + 1)), h);
}

/** EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 9.2): the one encoding, compared whole. */
function pkcs1v15Verify(mHash: Uint8Array, em: Uint8Array): boolean {
  const t = hexBytes(SHA256_DIGEST_INFO)!;
  const k = em.length;
  if (k < t.length + SHA256_BYTES + 11) return false;
  const expected = new Uint8Array(k);
  expected[1] = 0x01;
  const psEnd = k - t.length - SHA256_BYTES - 1;
  for (let i = 2; i < psEnd; i++) expected[i] = 0xff;
  expected.set(t, psEnd + 1);
  expected.set(mHash, psEnd + 1 + t.length);
  return equalBytes(em, expected);
}

function ecdsaVerify(digest: Digest, publicKey: string, message: Uint8Array, sig: Uint8Array): boolean {
  const der = pemDer(publicKey);
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
  const hash = sha256(digest, message);
  // The SDK compares the point's x with r without reducing it mod n: a valid
  // signature whose x is in [n, p) (probability about 2^-128) is refused.
  return new ECDSA(new ECPoint(x, y), new Curve('secp256r1')).verify(hash.buffer as ArrayBuffer, raw.buffer, false) === true;
}

function rsaVerify(digest: Digest, scheme: string, publicKey: string, message: Uint8Array, sig: Uint8Array): boolean {
  if (scheme !== 'rsassa-pss-sha256' && scheme !== 'rsa-pkcs1v15-sha256') return false;
  const der = pemDer(publicKey);
  const spki = der === null ? null : parseSpki(der);
  if (spki === null || spki.algorithm !== OID_RSA) return false;
  const p = spki.parameters;
  if (p.tag !== 0x05 || p.end !== p.start) return false;
  // RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }
  const key = spki.key;
  const seq = derTlv(key, 0, key.length);
  if (seq === null || seq.tag !== 0x30 || seq.end !== key.length) return false;
  const parts = derChildren(key, seq, 2);
  if (parts === null || parts.length !== 2) return false;
  const nBytes = unsignedInteger(key, parts[0]!);
  const eBytes = unsignedInteger(key, parts[1]!);
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
  const mHash = sha256(digest, message);
  if (scheme === 'rsa-pkcs1v15-sha256') {
    const em = bytesOf(m, k);
    return em !== null && pkcs1v15Verify(mHash, em);
  }
  const emBits = bits - 1;
  const em = bytesOf(m, Math.ceil(emBits / 8));
  return em !== null && pssVerify(digest, mHash, em, emBits);
}

export class ModdableSignatureVerifier implements SignatureVerifier {
  private readonly digest = new Digest('SHA256');

  verify(keytype: string, scheme: string, publicKey: string, message: Uint8Array, signatureHex: string): boolean {
    try {
      if (typeof publicKey !== 'string' || typeof signatureHex !== 'string' || !(message instanceof Uint8Array)) return false;
      if (signatureHex.length === 0 || signatureHex.length > BOARD_MAX_SIGNATURE_HEX_CHARS) return false;
      const sig = hexBytes(signatureHex);
      if (sig === null) return false;
      if ((keytype === 'ecdsa' || keytype === 'ecdsa-sha2-nistp256') && scheme === 'ecdsa-sha2-nistp256') return ecdsaVerify(this.digest, publicKey, message, sig);
      if (keytype === 'rsa') return rsaVerify(this.digest, scheme, publicKey, message, sig);
      // ed25519 and anything else: no native code, so no signature.
      return false;
    } catch {
      return false;
    }
  }
}
