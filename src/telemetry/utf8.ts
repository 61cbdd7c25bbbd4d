// UTF-8 into preallocated bytes (the core has no TextEncoder). Strings with a
// lone surrogate are refused rather than silently replaced: MQTT forbids them.
import { TelemetryError } from './errors.js';

/** Bytes needed for `text`; throws 'bad-utf16' on a lone surrogate. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw new TelemetryError('bad-utf16', 'lone surrogate in string');
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) throw new TelemetryError('bad-utf16', 'lone surrogate in string');
    else n += 3;
  }
  return n;
}

/** Writes `text` at out[offset..]; returns the end offset. Caller checks room with utf8Length. */
export function encodeUtf8(text: string, out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) out[o++] = c;
    else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = text.charCodeAt(i + 1);
      if (!(c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff)) throw new TelemetryError('bad-utf16', 'lone surrogate in string');
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
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
