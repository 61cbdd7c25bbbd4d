// The portable SignatureVerifier: ecdsa-sha2-nistp256 and ed25519 on
// @noble/curves, RSA (rsassa-pss-sha256, rsa-pkcs1v15-sha256) with BigInt
// arithmetic and the RFC 8017 encodings written here. Pure ES2022 (runs on
// XS). Key formats as securesystemslib writes them: ed25519 as hex of the 32
// raw bytes, ecdsa and rsa as PEM SubjectPublicKeyInfo; signatures as hex
// (ASN.1 DER for ecdsa). Anything malformed, out of range or of an unknown
// type verifies as false; nothing throws out of verify().
import { derChildren, derTlv, type Tlv } from '../shared/der.js';
import { base64Bytes, emsaPkcs1v15Sha256Matches, emsaPssSha256Verify, hexBytes, hexOf, OID_EC_PUBLIC_KEY, OID_P256, parseSpki, pemPublicKeyDer, rsaPublicKeyIntegers, type Spki } from '../shared/public-key.js';
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

export { base64Bytes, hexBytes, parseSpki };

/** The DER bytes of a `PUBLIC KEY` PEM block; null unless exactly one such block. */
export function pemDer(pem: string): Uint8Array | null {
  return pemPublicKeyDer(pem, MAX_PEM_CHARS);
}

function sha256Of(...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
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
  const ints = rsaPublicKeyIntegers(spki);
  if (ints === null) return null;
  const n = positiveInteger(spki.key, ints[0]);
  const e = positiveInteger(spki.key, ints[1]);
  if (n === null || e === null || der.length === 0) return null;
  const bits = bitLength(n);
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || (n & 1n) === 0n) return null;
  if (e < 3n || (e & 1n) === 0n || bitLength(e) > MAX_RSA_EXPONENT_BITS) return null;
  return { n, e, bits };
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
    return em !== null && emsaPkcs1v15Sha256Matches(mHash, em);
  }
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const em = bigIntToBytes(m, emLen);
  return em !== null && emsaPssSha256Verify(sha256Of, mHash, em, emBits);
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
