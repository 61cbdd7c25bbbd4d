// An in-memory FlashPort with power-cut injection, for tests, benchmarks and
// the simulator.
//
// Flash model (NOR-like): erase sets a whole block to 0xFF; a write may only
// program bytes that are still erased (writing a byte that is not 0xFF is a
// bug in the caller and throws, unlike real flash which would silently AND
// the bits). A power cut is injected by a budget of byte operations: every
// byte programmed or erased costs one unit; when the budget runs out in the
// middle of an operation, the bytes done so far stay done, the rest keep
// their old value, and the call throws PowerCut. Erase proceeds in address
// order, so a torn erase leaves an erased prefix and the old suffix. After a
// cut the flash refuses every operation until powerOn() (the reboot).
import { PowerCut } from '../../src/telemetry/errors.js';
import type { FlashPort } from '../../src/ports.js';

export interface MemoryFlashOptions {
  blockSize: number;
  blockCount: number;
}

export class MemoryFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  /** The whole medium; tests may inspect or corrupt it. */
  readonly bytes: Uint8Array;
  /** Byte operations left before the power cut, or -1 for no cut planned. */
  private budget = -1;
  private dead = false;
  /** Counters since construction (benchmarks): bytes programmed, blocks erased, bytes read. */
  bytesWritten = 0;
  blocksErased = 0;
  bytesRead = 0;

  constructor(options: MemoryFlashOptions) {
    const { blockSize, blockCount } = options;
    if (!(Number.isInteger(blockSize) && blockSize > 0 && Number.isInteger(blockCount) && blockCount > 0)) {
      throw new RangeError('MemoryFlash: blockSize and blockCount must be positive integers');
    }
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.bytes = new Uint8Array(blockSize * blockCount).fill(0xff);
  }

  /** Cut the power after `units` more byte operations (0: the next byte fails). */
  cutPowerAfter(units: number): void {
    this.budget = units;
  }

  /** Reboot: the medium keeps its content, operations work again, no cut planned. */
  powerOn(): void {
    this.dead = false;
    this.budget = -1;
  }

  get poweredOff(): boolean {
    return this.dead;
  }

  erase(block: number): void {
    this.checkAlive();
    if (!(Number.isInteger(block) && block >= 0 && block < this.blockCount)) throw new RangeError(`erase: no block ${block}`);
    const start = block * this.blockSize;
    for (let i = 0; i < this.blockSize; i++) {
      this.spend();
      this.bytes[start + i] = 0xff;
    }
    this.blocksErased++;
  }

  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.checkAlive();
    this.checkRange(offset, length);
    into.set(this.bytes.subarray(offset, offset + length), start);
    this.bytesRead += length;
  }

  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.checkAlive();
    this.checkRange(offset, length);
    for (let i = 0; i < length; i++) {
      if (this.bytes[offset + i] !== 0xff) throw new Error(`write: byte at ${offset + i} is not erased`);
    }
    for (let i = 0; i < length; i++) {
      this.spend();
      this.bytes[offset + i] = bytes[start + i]!;
      this.bytesWritten++;
    }
  }

  private spend(): void {
    if (this.budget === 0) {
      this.dead = true;
      throw new PowerCut('power cut');
    }
    if (this.budget > 0) this.budget--;
  }

  private checkAlive(): void {
    if (this.dead) throw new PowerCut('flash is powered off');
  }

  private checkRange(offset: number, length: number): void {
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.bytes.length)) {
      throw new RangeError(`flash access out of range: ${offset}+${length}`);
    }
  }
}
