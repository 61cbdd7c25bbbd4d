// The one UTF-8 implementation of the firmware: encode into caller-provided
// bytes, length, decode (no TextEncoder in the core: XS has one, but devices
// and the preload model want no hidden buffers). Every part uses these, so an
// engine quirk (Moddable's XS indexes strings by code point) is fixed once;
// test/core/utf8-codepoints.suite.ts holds the regression cases.
//
// Results are numbers or null, not exceptions, so that callers decide which
// typed error to raise (a full buffer means a different limit to each caller).
// The signer's percent-encoders (sigv4 hash-sink, query-table, uri-encode)
// encode UTF-8 inline on purpose: a call per character costs computrons there.

/** Returned by encodeUtf8Into when `out` has no room before `end`. */
export const UTF8_OVERFLOW = -1;
/** Returned by encodeUtf8Into / utf8Length for a lone UTF-16 surrogate. */
export const UTF8_LONE_SURROGATE = -2;

/**
 * Encodes text[from, to) as UTF-8 into out[offset, end). Returns the offset
 * after the last byte written, UTF8_OVERFLOW or UTF8_LONE_SURROGATE. On a
 * negative result, bytes in out[offset, end) may have been overwritten.
 */
export function encodeUtf8Into(text: string, from: number, to: number, out: Uint8Array, offset: number, end: number): number {
  let o = offset;
  for (let i = from; i < to; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      if (o >= end) return UTF8_OVERFLOW;
      out[o++] = c;
      continue;
    }
    if (c < 0x800) {
      if (o + 2 > end) return UTF8_OVERFLOW;
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c > 0xffff || (c >= 0xd800 && c <= 0xdfff)) {
      // Moddable's XS on devices indexes strings by code point: charCodeAt
      // gives a character above U+FFFF whole. Standard engines give a
      // UTF-16 surrogate pair, combined here.
      if (c <= 0xffff) {
        const next = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) return UTF8_LONE_SURROGATE;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
      if (o + 4 > end) return UTF8_OVERFLOW;
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (o + 3 > end) return UTF8_OVERFLOW;
    out[o++] = 0xe0 | (c >> 12);
    out[o++] = 0x80 | ((c >> 6) & 0x3f);
    out[o++] = 0x80 | (c & 0x3f);
  }
  return o;
}

/**
 * UTF-8 byte length of text[from, to), or UTF8_LONE_SURROGATE. With
 * `replaceLoneSurrogates`, a lone surrogate counts as the 3 bytes of U+FFFD
 * instead (what an engine that stores it, like Moddable's Preference, writes).
 */
export function utf8Length(text: string, from = 0, to = text.length, replaceLoneSurrogates = false): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c > 0xffff) n += 4; // a whole code point (Moddable's XS), see encodeUtf8Into
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < to ? text.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        if (!replaceLoneSurrogates) return UTF8_LONE_SURROGATE;
        n += 3;
        continue;
      }
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Allocates a Uint8Array with the UTF-8 of `text`; throws RangeError on a lone surrogate. Not for hot paths. */
export function utf8Bytes(text: string): Uint8Array {
  const n = utf8Length(text);
  if (n < 0) throw new RangeError('lone UTF-16 surrogate');
  const out = new Uint8Array(n);
  encodeUtf8Into(text, 0, text.length, out, 0, n);
  return out;
}

/** What decodeUtf8 does with a malformed sequence (overlong, surrogate, above U+10FFFF, truncated, stray byte). */
export type MalformedUtf8 = 'replace' | 'refuse';

/**
 * Decodes bytes[start, end) as UTF-8 into a string (allocates the string).
 * 'replace' (default): each bad byte becomes U+FFFD. 'refuse': returns null
 * instead, for parsers of outside input that raise their own typed error.
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, malformed?: 'replace'): string;
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, malformed: MalformedUtf8): string | null;
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, malformed: MalformedUtf8 = 'replace'): string | null {
  let s = '';
  let i = start;
  // Strings are built in bounded slices so that a long ASCII run costs one
  // fromCharCode call per slice instead of one concatenation per byte.
  const SLICE = 64;
  const codes: number[] = [];
  while (i < end) {
    const b = bytes[i]!;
    let cp = 0xfffd;
    let need = 0;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; cp = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; cp = b & 0x07; }
    else if (malformed === 'refuse') return null;
    i++;
    if (need > 0) {
      // Checks of `malformed` sit on the bad paths only: valid text costs nothing more.
      if (i + need > end) {
        if (malformed === 'refuse') return null;
        cp = 0xfffd;
      } else {
        let ok = true;
        let v = cp;
        for (let k = 0; k < need; k++) {
          const cb = bytes[i + k]!;
          if ((cb & 0xc0) !== 0x80) { ok = false; break; }
          v = (v << 6) | (cb & 0x3f);
        }
        const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
        if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) {
          cp = v;
          i += need;
        } else if (malformed === 'refuse') return null;
        else cp = 0xfffd;
      }
    }
    // Code points, not surrogate pairs: fromCodePoint builds the right string on
    // engines that index by UTF-16 unit and on Moddable's, which indexes by code point.
    codes.push(cp);
    if (codes.length >= SLICE) {
      s += String.fromCodePoint.apply(null, codes);
      codes.length = 0;
    }
  }
  if (codes.length > 0) s += String.fromCodePoint.apply(null, codes);
  return s;
}

/** Decodes ASCII bytes[start, end) into a string (bytes >= 0x80 map to U+0080..U+00FF). */
export function decodeAscii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  const SLICE = 256;
  for (let i = start; i < end; i += SLICE) {
    const stop = i + SLICE < end ? i + SLICE : end;
    s += String.fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]);
  }
  return s;
}
