// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the check used by
// zlib, PNG and Ethernet. Check value: crc32("123456789") = 0xCBF43926.
// The table is a module constant (computed once, pure JS) so a preloaded
// build keeps it in flash.

function makeTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const TABLE = makeTable();

/** Starting state for an incremental CRC. */
export const CRC32_INIT = 0xffffffff;

/** Absorb bytes[start, end) into a running state (start from CRC32_INIT). */
export function crc32Update(state: number, bytes: Uint8Array, start: number, end: number): number {
  let c = state;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** Final CRC value of a running state. */
export function crc32Finish(state: number): number {
  return (state ^ 0xffffffff) >>> 0;
}

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Finish(crc32Update(CRC32_INIT, bytes, start, end));
}
