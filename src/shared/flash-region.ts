// A run of blocks of one FlashPort seen as a FlashPort of its own, so that
// each owner (a queue, a firmware slot, a boot record copy) has a disjoint
// part of the chip: a crash in one owner's writes can never touch another's
// blocks.
import type { FlashPort } from '../ports.js';
import { CodedError } from './errors.js';

export type FlashRegionErrorCode =
  /** The region does not lie within the flash (first block, count). */
  | 'bad-config'
  /** An access outside the region. */
  | 'flash-range';

export class FlashRegionError extends CodedError<FlashRegionErrorCode> {
  override name = 'FlashRegionError';
}

export class FlashRegion implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  private readonly base: number;
  private readonly size: number;

  constructor(
    private readonly flash: FlashPort,
    firstBlock: number,
    blockCount: number,
  ) {
    if (!(Number.isInteger(firstBlock) && Number.isInteger(blockCount) && firstBlock >= 0 && blockCount > 0 && firstBlock + blockCount <= flash.blockCount)) {
      throw new FlashRegionError('bad-config', `flash region ${firstBlock}+${blockCount} outside 0..${flash.blockCount}`);
    }
    this.blockSize = flash.blockSize;
    this.blockCount = blockCount;
    this.base = firstBlock * flash.blockSize;
    this.size = blockCount * flash.blockSize;
  }

  private check(offset: number, length: number): void {
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new FlashRegionError('flash-range', `offset ${offset} length ${length} outside region of ${this.size} bytes`);
    }
  }

  erase(block: number): void {
    if (!(Number.isInteger(block) && block >= 0 && block < this.blockCount)) throw new FlashRegionError('flash-range', `block ${block} outside region`);
    this.flash.erase(this.base / this.blockSize + block);
  }

  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.check(offset, length);
    this.flash.read(this.base + offset, into, start, length);
  }

  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.check(offset, length);
    this.flash.write(this.base + offset, bytes, start, length);
  }
}
