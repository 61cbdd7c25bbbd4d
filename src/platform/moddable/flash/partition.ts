// FlashPort over an ESP32 raw data partition (legacy `flash` module). The
// partition table (boards/esp32/partitions.csv) reserves `queue` for the
// telemetry queue. Erase works on 4 KiB sectors, which are our blocks; reads
// allocate an ArrayBuffer in the SDK (Flash.read returns a fresh one), which
// we copy into the caller's buffer.
import Flash from 'flash';
import type { FlashPort } from '../../../ports.js';
import { ModdableError } from '../errors.js';
import { checkBlock, checkBuffer, checkRange } from './range.js';

export class PartitionFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  private readonly flash: InstanceType<typeof Flash>;
  private readonly byteLength: number;
  constructor(options: { partition: string }) {
    try {
      this.flash = new Flash(options.partition);
    } catch {
      throw new ModdableError('FLASH_IO', `cannot open flash partition "${options.partition}" (check the partition table)`);
    }
    this.blockSize = this.flash.blockSize;
    this.blockCount = Math.floor(this.flash.byteLength / this.blockSize);
    this.byteLength = this.blockCount * this.blockSize;
    if (this.blockCount < 1) throw new ModdableError('FLASH_IO', `partition "${options.partition}" is smaller than one block`);
  }
  erase(block: number): void {
    checkBlock(block, this.blockCount);
    this.flash.erase(block);
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    checkRange(offset, length, this.byteLength);
    checkBuffer(into, start, length);
    if (length === 0) return;
    into.set(new Uint8Array(this.flash.read(offset, length) as ArrayBuffer), start);
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    checkRange(offset, length, this.byteLength);
    checkBuffer(bytes, start, length);
    if (length === 0) return;
    this.flash.write(offset, length, bytes.subarray(start, start + length));
  }
}
