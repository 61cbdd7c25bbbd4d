// RFC 3986 percent-encoding as SigV4 uses it: every byte except the
// unreserved set A-Z a-z 0-9 - _ . ~ becomes %XX with upper-case hex.

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
    o = copyRun(src, run, i, out, o);
    out[o] = 0x25;
    out[o + 1] = upperHexDigit(b >> 4);
    out[o + 2] = upperHexDigit(b & 15);
    o += 3;
    run = i + 1;
  }
  return copyRun(src, run, end, out, o);
}

/** Runs at least this long are copied with one native set() over a subarray view (one small garbage object). */
const SET_COPY_BYTES = 16;

function copyRun(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  if (end - start >= SET_COPY_BYTES) {
    out.set(src.subarray(start, end), o);
    return o + (end - start);
  }
  for (let i = start; i < end; i++) out[o++] = src[i]!;
  return o;
}
