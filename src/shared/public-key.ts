// Public-key encodings shared by the signature verifiers (the portable one,
// src/update/verify-noble.ts, and the boards', src/platform/moddable/tuf-verify.ts):
// hex, base64, PEM `PUBLIC KEY` blocks, SubjectPublicKeyInfo, and the RSA
// signature encodings of RFC 8017 with SHA-256. The hash is a parameter so
// each platform brings its own (noble in the core, the native Digest on
// boards). Malformed input is null or false, never an exception.
import { derChildren, derTlv, type Tlv } from './der.js';

export const OID_EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1
export const OID_P256 = '2a8648ce3d030107'; // 1.2.840.10045.3.1.7
export const OID_RSA = '2a864886f70d010101'; // 1.2.840.113549.1.1.1
/** DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1). */
const SHA256_DIGEST_INFO = '3031300d060960864801650304020105000420';
const SHA256_BYTES = 32;

/** SHA-256 of the concatenation of its arguments. */
export type Sha256Of = (...parts: Uint8Array[]) => Uint8Array;

export function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

/** Hex to bytes; null unless an even number of hex digits. */
export function hexBytes(hex: string): Uint8Array | null {
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

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function base64Value(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === 43) return 62;
  if (c === 47) return 63;
  return -1;
}

/** Standard base64 (padding optional at the end only); null when malformed. */
export function base64Bytes(text: string): Uint8Array | null {
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

/** The DER bytes of a `PUBLIC KEY` PEM block of at most `maxChars`; null unless exactly one such block and nothing else. */
export function pemPublicKeyDer(pem: string, maxChars: number): Uint8Array | null {
  if (pem.length > maxChars) return null;
  const begin = '-----BEGIN PUBLIC KEY-----';
  const finish = '-----END PUBLIC KEY-----';
  const a = pem.indexOf(begin);
  const b = pem.indexOf(finish);
  if (a < 0 || b < a || pem.indexOf(begin, a + 1) >= 0) return null;
  if (pem.slice(0, a).trim() !== '' || pem.slice(b + finish.length).trim() !== '') return null;
  let body = '';
  const inner = pem.slice(a + begin.length, b);
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\n' || c === '\r' || c === ' ' || c === '\t') continue;
    body += c;
  }
  return base64Bytes(body);
}

export interface Spki {
  /** The algorithm OID's content, hex. */
  algorithm: string;
  parameters: Tlv;
  /** The BIT STRING's bytes. */
  key: Uint8Array;
}

/** SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID, params }, BIT STRING (0 unused bits) }. */
export function parseSpki(der: Uint8Array): Spki | null {
  const top = derTlv(der, 0, der.length);
  if (top === null || top.tag !== 0x30 || top.end !== der.length) return null;
  const parts = derChildren(der, top, 2);
  if (parts === null || parts.length !== 2) return null;
  const [alg, bits] = parts as [Tlv, Tlv];
  if (alg.tag !== 0x30 || bits.tag !== 0x03 || bits.end - bits.start < 2 || der[bits.start] !== 0) return null;
  const algParts = derChildren(der, alg, 2);
  if (algParts === null || algParts.length !== 2 || algParts[0]!.tag !== 0x06) return null;
  return { algorithm: hexOf(der.subarray(algParts[0]!.start, algParts[0]!.end)), parameters: algParts[1]!, key: der.subarray(bits.start + 1, bits.end) };
}

/**
 * The modulus and exponent INTEGERs of an RSA key (rsaEncryption with NULL
 * parameters, the RSAPublicKey SEQUENCE filling the key exactly), as TLVs in
 * `spki.key`; null for anything else. Each verifier decodes them its way.
 */
export function rsaPublicKeyIntegers(spki: Spki): [n: Tlv, e: Tlv] | null {
  if (spki.algorithm !== OID_RSA) return null;
  const p = spki.parameters;
  if (p.tag !== 0x05 || p.end !== p.start) return null;
  // RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }
  const key = spki.key;
  const seq = derTlv(key, 0, key.length);
  if (seq === null || seq.tag !== 0x30 || seq.end !== key.length) return null;
  const parts = derChildren(key, seq, 2);
  if (parts === null || parts.length !== 2) return null;
  return [parts[0]!, parts[1]!];
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** MGF1 with SHA-256 (RFC 8017 B.2.1). */
function mgf1(sha256: Sha256Of, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let c = 0, o = 0; o < length; c++) {
    counter[0] = (c >>> 24) & 0xff;
    counter[1] = (c >>> 16) & 0xff;
    counter[2] = (c >>> 8) & 0xff;
    counter[3] = c & 0xff;
    const h = sha256(seed, counter);
    for (let i = 0; i < h.length && o < length; i++) out[o++] = h[i]!;
  }
  return out;
}

/**
 * EMSA-PSS-VERIFY (RFC 8017 9.1.2), SHA-256, MGF1-SHA-256, any salt length
 * (recovered from the encoding): securesystemslib signs with the longest salt.
 */
export function emsaPssSha256Verify(sha256: Sha256Of, mHash: Uint8Array, em: Uint8Array, emBits: number): boolean {
  const emLen = em.length;
  if (emLen < SHA256_BYTES + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - SHA256_BYTES - 1);
  const h = em.subarray(emLen - SHA256_BYTES - 1, emLen - 1);
  const unused = 8 * emLen - emBits;
  if (unused > 0 && maskedDb[0]! >> (8 - unused) !== 0) return false;
  const mask = mgf1(sha256, h, maskedDb.length);
  const db = new Uint8Array(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  if (unused > 0) db[0]! &= 0xff >> unused;
  let i = 0;
  while (i < db.length && db[i] === 0) i++;
  if (i >= db.length || db[i] !== 0x01) return false;
  return equalBytes(sha256(new Uint8Array(8), mHash, db.subarray(i + 1)), h);
}

/** EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 9.2): `em` (k bytes) must be the one encoding of `mHash`. */
export function emsaPkcs1v15Sha256Matches(mHash: Uint8Array, em: Uint8Array): boolean {
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
