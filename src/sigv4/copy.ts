// Byte ranges of the signer's fixed arenas: copying them as cheaply as XS
// allows, comparing them with ASCII constants, and their offset tables.

/**
 * Ranges at least this long are copied with one native set() over a
 * subarray view (one small garbage object, no per-byte bytecodes); shorter
 * ones with a JS loop, which costs less than creating the view.
 */
export const SET_COPY_BYTES = 16;

/** Copies src[start, end) to out at o; returns o + (end - start). The caller guarantees room. */
export function copyRange(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  if (end - start >= SET_COPY_BYTES) {
    out.set(src.subarray(start, end), o);
    return o + (end - start);
  }
  for (let i = start; i < end; i++) out[o++] = src[i]!;
  return o;
}

/** Writes the ASCII `text` at out[o]; returns the next offset. The caller guarantees room. */
export function asciiInto(out: Uint8Array, o: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
  return o;
}

/** True when bytes[start, start + text.length) equals the ASCII `text`. */
export function equalsText(bytes: Uint8Array, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Offsets into the fixed arenas: 16-bit when every offset fits, which halves the tables. */
export type OffsetArray = Uint16Array | Int32Array;

/** An offset table of `length` entries able to hold 0..maxValue. */
export function offsetArray(length: number, maxValue: number): OffsetArray {
  return maxValue <= 0xffff ? new Uint16Array(length) : new Int32Array(length);
}
