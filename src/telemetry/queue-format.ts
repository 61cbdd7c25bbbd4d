// On-flash layout of the persistent queue (all integers little-endian).
//
// Block header, written right after the block is erased:
//   0  u32 magic 'TQB1'
//   4  u32 blockSeq   generation of the block, +1 for every block opened (1 = first)
//   8  u32 firstSeq   next record sequence number when the block was opened
//  12  u32 crc32 of bytes 0..12
// Records follow back to back:
//   0  u8  magic 0xA5 (never 0xFF, so a torn record is never mistaken for free space)
//   1  u8  state: 0xFF live, 0x7F dead letter, anything else acknowledged.
//          Outside the CRC: it is programmed later, one byte, from 0xFF down.
//   2  u16 payload length
//   4  u32 sequence number
//   8  u32 crc32 of bytes 2..8 and of the payload
//  12  payload
// Erased flash reads 0xFF, so "all 0xFF" after the last record is free space.
// Sequence numbers increase along the chain but may skip: a migration
// (PersistentQueue.copyFrom) copies only live records and dead letters, and
// ends with an empty acknowledged record numbered nextSeq - 1 of the old queue
// when its newest records were acknowledged, so numbers are never reused.

export const BLOCK_MAGIC = 0x31425154; // 'TQB1' read as little-endian u32
export const BLOCK_HEADER_BYTES = 16;
export const RECORD_MAGIC = 0xa5;
export const RECORD_HEADER_BYTES = 12;
export const STATE_LIVE = 0xff;
export const STATE_DEAD_LETTER = 0x7f;
export const STATE_ACKED = 0x00;
/** The largest payload the u16 length field can describe. */
export const MAX_PAYLOAD_FIELD = 0xffff;
/** Sequence numbers are u32; the queue refuses to append once they run out. */
export const MAX_SEQ = 0xffffffff;

export function readU16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
