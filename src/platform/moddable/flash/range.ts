// Range checks shared by the FlashPort adapters: a bad offset or length is a
// caller bug, reported before the storage is touched.
import { ModdableError } from '../errors.js';

export function checkRange(offset: number, length: number, byteLength: number): void {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= byteLength))
    throw new ModdableError('FLASH_RANGE', `offset ${offset} length ${length} outside 0..${byteLength}`);
}

export function checkBuffer(bytes: Uint8Array, start: number, length: number): void {
  if (!(Number.isInteger(start) && start >= 0 && start + length <= bytes.length))
    throw new ModdableError('FLASH_RANGE', `buffer range ${start}+${length} outside 0..${bytes.length}`);
}

export function checkBlock(block: number, blockCount: number): void {
  if (!(Number.isInteger(block) && block >= 0 && block < blockCount))
    throw new ModdableError('FLASH_RANGE', `block ${block} outside 0..${blockCount - 1}`);
}
