// The portable SignatureVerifier: ecdsa-sha2-nistp256 and ed25519 on
// @noble/curves, RSA (rsassa-pss-sha256, rsa-pkcs1v15-sha256) with BigInt
// arithmetic and the RFC 8017 encodings written here. Pure ES2022 (runs on
// XS). Key formats as securesystemslib writes them: ed25519 as hex of the 32
// raw bytes, ecdsa and rsa as PEM SubjectPublicKeyInfo; signatures as hex
// (ASN.1 DER for ecdsa). Anything malformed, out of range or of an unknown
// type verifies as false; nothing throws out of verify().
import { derChildren, derTlv, type Tlv } from '../shared/der.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { SignatureVerifier } from './ports.js';

/** Characters of a PEM public key accepted (an RSA-4096 SPKI is about 800). */
export const MAX_PEM_CHARS = 4096;
/** Hex characters of a signature accepted (RSA-4096 is 1024). */
export const MAX_SIGNATURE_HEX_CHARS = 1024;
/** RSA modulus sizes accepted, in bits. */
export const MIN_RSA_BITS = 1024;
export const MAX_RSA_BITS = 4096;
/** Bits of an RSA public exponent accepted (65537 has 17); bounds the modular exponentiation. */
export const MAX_RSA_EXPONENT_BITS = 64;

const OID_EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1
const OID_P256 = '2a8648ce3d030107'; // 1.2.840.10045.3.1.7
const OID_RSA = '2a864886f70d010101'; // 1.2.840.113549.1.1.1
/** DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1). */
const SHA256_DIGEST_INFO = '3031300d060960864801650304020105000420';

function hexOf(b: Uint8Array): string {
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

/** The DER bytes of a `PUBLIC KEY` PEM block; null unless exactly one such block. */
export function pemDer(pem: string): Uint8Array | null {
  if (pem.length > MAX_PEM_CHARS) return null;
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

interface Spki {
  algorithm: string;
  parameters: Tlv;
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

function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + hexOf(b));
}

function bigIntToBytes(v: bigint, length: number): Uint8Array | null {
  let hex = v.toString(16);
  if (hex.length > length * 2) return null;
  while (hex.length < length * 2) hex = '0' + hex;
  return hexBytes(hex);
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** A positive DER INTEGER (minimal encoding); null otherwise. */
function positiveInteger(der: Uint8Array, t: Tlv): bigint | null {
  if (t.tag !== 0x02 || t.end === t.start) return null;
  const first = der[t.start]!;
  if (first & 0x80) return null;
  if (first === 0 && t.end - t.start > 1 && (der[t.start + 1]! & 0x80) === 0) return null;
  return bytesToBigInt(der.subarray(t.start, t.end));
}

interface RsaKey {
  n: bigint;
  e: bigint;
  bits: number;
}

function rsaKey(spki: Spki, der: Uint8Array): RsaKey | null {
  if (spki.algorithm !== OID_RSA) return null;
  const p = spki.parameters;
  if (p.tag !== 0x05 || p.end !== p.start) return null;
  const key = spki.key;
  const seq = derTlv(key, 0, key.length);
  if (seq === null || seq.tag !== 0x30 || seq.end !== key.length) return null;
  const parts = derChildren(key, seq, 2);
  if (parts === null || parts.length !== 2) return null;
  const n = positiveInteger(key, parts[0]!);
  const e = positiveInteger(key, parts[1]!);
  if (n === null || e === null || der.length === 0) return null;
  const bits = bitLength(n);
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || (n & 1n) === 0n) return null;
  if (e < 3n || (e & 1n) === 0n || bitLength(e) > MAX_RSA_EXPONENT_BITS) return null;
  return { n, e, bits };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** MGF1 with SHA-256 (RFC 8017 B.2.1). */
function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed, 0);
  for (let counter = 0, o = 0; o < length; counter++) {
    input[seed.length] = (counter >>> 24) & 0xff;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    const h = sha256(input);
    for (let i = 0; i < h.length && o < length; i++) out[o++] = h[i]!;
  }
  return out;
}

/** EMSA-PSS-VERIFY (RFC 8017 9.1.2), SHA-256, MGF1-SHA-256, any salt length (recovered from the encoding). */
function pssVerify(mHash: Uint8Array, em: Uint8Array, emBits: number): boolean {
  const hLen = 32;
  const emLen = em.length;
  if (emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const unused = 8 * emLen - emBits;
  if (unused > 0 && (maskedDb[0]! >> (8 - unused)) !== 0) return false;
  const mask = mgf1(h, maskedDb.length);
  const db = new Uint8Array(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  if (unused > 0) db[0]! &= 0xff >> unused;
  let i = 0;
  while (i < db.length && db[i] === 0) i++;
  if (i >= db.length || db[i] !== 0x01) return false;
  const salt = db.subarray(i + 1);
  const mPrime = new Uint8Array(8 + hLen + salt.length);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + hLen);
  return equalBytes(sha256(mPrime), h);
}

function rsaVerify(scheme: string, publicKey: string, message: Uint8Array, sig: Uint8Array): boolean {
  if (scheme !== 'rsassa-pss-sha256' && scheme !== 'rsa-pkcs1v15-sha256') return false;
  const der = pemDer(publicKey);
  const spki = der === null ? null : parseSpki(der);
  const key = spki === null ? null : rsaKey(spki, der!);
  if (key === null) return false;
  const k = Math.ceil(key.bits / 8);
  if (sig.length !== k) return false;
  const s = bytesToBigInt(sig);
  if (s >= key.n) return false;
  const m = modPow(s, key.e, key.n);
  const mHash = sha256(message);
  if (scheme === 'rsa-pkcs1v15-sha256') {
    const em = bigIntToBytes(m, k);
    const t = hexBytes(SHA256_DIGEST_INFO)!;
    if (em === null || k < t.length + 32 + 11) return false;
    const expected = new Uint8Array(k);
    expected[1] = 0x01;
    const psEnd = k - t.length - 32 - 1;
    for (let i = 2; i < psEnd; i++) expected[i] = 0xff;
    expected.set(t, psEnd + 1);
    expected.set(mHash, psEnd + 1 + t.length);
    return equalBytes(em, expected);
  }
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const em = bigIntToBytes(m, emLen);
  return em !== null && pssVerify(mHash, em, emBits);
}

function ecdsaVerify(publicKey: string, message: Uint8Array, sig: Uint8Array): boolean {
  const der = pemDer(publicKey);
  const spki = der === null ? null : parseSpki(der);
  if (spki === null || spki.algorithm !== OID_EC_PUBLIC_KEY) return false;
  const p = spki.parameters;
  if (p.tag !== 0x06 || hexOf(der!.subarray(p.start, p.end)) !== OID_P256) return false;
  // fromBytes checks the point is on the curve and not the identity; the DER
  // parse and verify check r and s in [1, n-1]. High S is accepted: OpenSSL
  // (pyca/cryptography, which securesystemslib uses) does not normalize S.
  const point = p256.Point.fromBytes(spki.key);
  point.assertValidity();
  return p256.verify(sig, message, point.toBytes(), { format: 'der', lowS: false, prehash: true });
}

/**
 * Window of Ed25519's base-point table. noble's default (6) builds a table
 * of about 7,000 XS slots (about 110 KB at 16 B a slot) on first use and
 * keeps it: more than a Pico W has. 1 keeps no table; a verification costs
 * about 40 % more computrons (docs/benchmarks.md, update section).
 */
export const ED25519_BASE_WINDOW = 1;

export class NobleSignatureVerifier implements SignatureVerifier {
  constructor() {
    // Here, not at module top level: modules stay preload-safe. Lazy: builds nothing.
    ed25519.Point.BASE.precompute(ED25519_BASE_WINDOW, true);
  }

  verify(keytype: string, scheme: string, publicKey: string, message: Uint8Array, signatureHex: string): boolean {
    try {
      if (typeof publicKey !== 'string' || typeof signatureHex !== 'string' || signatureHex.length === 0 || signatureHex.length > MAX_SIGNATURE_HEX_CHARS) return false;
      const sig = hexBytes(signatureHex);
      if (sig === null) return false;
      if (keytype === 'ed25519' && scheme === 'ed25519') {
        if (publicKey.length !== 64 || sig.length !== 64) return false;
        const key = hexBytes(publicKey);
        // zip215 false: RFC 8032 strict decoding, as OpenSSL verifies.
        return key !== null && ed25519.verify(sig, message, key, { zip215: false });
      }
      if ((keytype === 'ecdsa' || keytype === 'ecdsa-sha2-nistp256') && scheme === 'ecdsa-sha2-nistp256') return ecdsaVerify(publicKey, message, sig);
      if (keytype === 'rsa') return rsaVerify(scheme, publicKey, message, sig);
      return false;
    } catch {
      return false;
    }
  }
}
