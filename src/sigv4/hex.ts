// Lower-case hex, the only digest encoding SigV4 uses.
import type { Sha256 } from '../ports.js';
import { utf8Bytes } from '../shared/utf8.js';

const HEX_DIGITS = '0123456789abcdef';

/** Writes bytes[start, end) as lower-case hex into out at offset; returns the offset after it. */
export function hexInto(bytes: Uint8Array, start: number, end: number, out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    // Arithmetic, not HEX_DIGITS.charCodeAt: on XS that allocates per call.
    const hi = b >> 4;
    const lo = b & 15;
    out[o++] = hi < 10 ? 0x30 + hi : 0x57 + hi;
    out[o++] = lo < 10 ? 0x30 + lo : 0x57 + lo;
  }
  return o;
}

/** Lower-case hex string of bytes (allocates the string). */
export function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  }
  return s;
}

/** Value of a hex digit character code, or -1. Accepts both cases. */
export function hexDigitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** True when `text` is exactly 64 lower-case hex digits (a SHA-256 in SigV4 form). */
export function isSha256Hex(text: string): boolean {
  if (text.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * SHA-256 of `data` (bytes, or a string hashed as UTF-8) as lower-case hex.
 * Convenience for tests and tools: allocates the digest and the string.
 */
export function sha256Hex(sha: Sha256, data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? utf8Bytes(data) : data;
  const digest = new Uint8Array(32);
  sha.reset();
  sha.update(bytes, 0, bytes.length);
  sha.finish(digest, 0);
  return hex(digest);
}
