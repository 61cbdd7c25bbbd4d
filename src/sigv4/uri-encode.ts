// RFC 3986 percent-encoding as SigV4 uses it: every byte except the
// unreserved set A-Z a-z 0-9 - _ . ~ becomes %XX with upper-case hex.
import { copyRange } from './copy.js';

/**
 * Character code of the upper-case hex digit of n (0..15). Arithmetic, not
 * a string lookup: on XS, charCodeAt on a string constant allocates.
 */
export function upperHexDigit(n: number): number {
  return n < 10 ? 0x30 + n : 0x37 + n;
}

export function isUnreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e;
}

/** Bytes that encoding `b` takes (1 or 3). */
export function encodedSize(b: number, keepSlash: boolean): number {
  return isUnreserved(b) || (keepSlash && b === 0x2f) ? 1 : 3;
}

/**
 * Writes the encoding of byte `b` at out[o]; returns the next offset.
 * The caller guarantees room for 3 bytes.
 */
export function encodeByteInto(b: number, keepSlash: boolean, out: Uint8Array, o: number): number {
  if (isUnreserved(b) || (keepSlash && b === 0x2f)) {
    out[o] = b;
    return o + 1;
  }
  out[o] = 0x25; // %
  out[o + 1] = upperHexDigit(b >> 4);
  out[o + 2] = upperHexDigit(b & 15);
  return o + 3;
}

/** Bytes the encoding of bytes[start, end) takes (keepSlash false). */
export function encodedRangeSize(bytes: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n += isUnreserved(bytes[i]!) ? 1 : 3;
  return n;
}

/**
 * Writes the encoding of src[start, end) (keepSlash false) at out[o];
 * returns the next offset. The caller guarantees room (encodedRangeSize).
 */
export function encodeRangeInto(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let run = start;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if ((b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e) continue;
    o = copyRange(src, run, i, out, o);
    out[o] = 0x25;
    out[o + 1] = upperHexDigit(b >> 4);
    out[o + 2] = upperHexDigit(b & 15);
    o += 3;
    run = i + 1;
  }
  return copyRange(src, run, end, out, o);
}

/** Bytes of the RFC 3986 encoding of the UTF-8 bytes of `text` (a valid UTF-16 string). */
export function encodedTextSize(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += isUnreserved(c) ? 1 : 3;
    else if (c < 0x800) n += 6;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 12; // a surrogate pair: 4 UTF-8 bytes
      i++;
    } else n += c > 0xffff ? 12 : 9; // XS on devices may give a code point above U+FFFF whole
  }
  return n;
}

/**
 * Writes the RFC 3986 encoding of the UTF-8 bytes of text[from, to) (valid
 * UTF-16) at out[o]; returns the next offset. The caller guarantees room
 * (encodedTextSize, or 12 bytes per character).
 */
export function encodeTextInto(text: string, from: number, to: number, out: Uint8Array, o: number): number {
  for (let i = from; i < to; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      if (isUnreserved(c)) out[o++] = c;
      else o = encodeByteInto(c, false, out, o);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
    if (c < 0x800) {
      o = encodeByteInto(0xc0 | (c >> 6), false, out, o);
    } else if (c < 0x10000) {
      o = encodeByteInto(0xe0 | (c >> 12), false, out, o);
      o = encodeByteInto(0x80 | ((c >> 6) & 0x3f), false, out, o);
    } else {
      o = encodeByteInto(0xf0 | (c >> 18), false, out, o);
      o = encodeByteInto(0x80 | ((c >> 12) & 0x3f), false, out, o);
      o = encodeByteInto(0x80 | ((c >> 6) & 0x3f), false, out, o);
    }
    o = encodeByteInto(0x80 | (c & 0x3f), false, out, o);
  }
  return o;
}
