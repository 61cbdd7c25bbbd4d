// Byte-range copy between typed arrays, as cheap as XS allows.

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

/** Offsets into the fixed arenas: 16-bit when every offset fits, which halves the tables. */
export type OffsetArray = Uint16Array | Int32Array;

/** An offset table of `length` entries able to hold 0..maxValue. */
export function offsetArray(length: number, maxValue: number): OffsetArray {
  return maxValue <= 0xffff ? new Uint16Array(length) : new Int32Array(length);
}
