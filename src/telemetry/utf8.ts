// UTF-8 into preallocated bytes (the core has no TextEncoder). Strings with a
// lone surrogate are refused rather than silently replaced: MQTT forbids them.
import { TelemetryError } from './errors.js';
import { encodeUtf8Into, utf8Length as utf8LengthOrError, UTF8_LONE_SURROGATE } from '../sigv4/utf8.js';

/** Bytes needed for `text`; throws 'bad-utf16' on a lone surrogate. */
export function utf8Length(text: string): number {
  const n = utf8LengthOrError(text, 0, text.length);
  if (n === UTF8_LONE_SURROGATE) throw new TelemetryError('bad-utf16', 'lone surrogate in string');
  return n;
}

/** Writes `text` at out[offset..]; returns the end offset. Caller checks room with utf8Length. */
export function encodeUtf8(text: string, out: Uint8Array, offset: number): number {
  const r = encodeUtf8Into(text, 0, text.length, out, offset, out.length);
  if (r === UTF8_LONE_SURROGATE) throw new TelemetryError('bad-utf16', 'lone surrogate in string');
  if (r < 0) throw new RangeError('encodeUtf8: output buffer too small (check with utf8Length first)');
  return r;
}

/** Allocates the UTF-8 bytes of `text`. */
export function utf8Bytes(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  encodeUtf8(text, out, 0);
  return out;
}

/**
 * Strict decoder: rejects overlong forms, surrogates, values above U+10FFFF
 * and truncated sequences (returns null so callers raise their own typed error).
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | null {
  let s = '';
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    let cp: number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      cp = b & 0x1f;
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      cp = b & 0x0f;
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      cp = b & 0x07;
      need = 3;
      min = 0x10000;
    } else return null;
    if (i + need >= end) return null;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    s += String.fromCodePoint(cp);
    i += need + 1;
  }
  return s;
}
