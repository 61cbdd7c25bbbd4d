// The Pico W queue store: a raw flash region of whole 4 KiB sectors below the
// SDK's littlefs partition (pico/modAgentFlash.c places it), one sector per
// queue block. Each append programs only its own bytes (no copy-on-write),
// a block costs one erase when the ring reaches it, and every operation is
// checked in C (erased before, read back after): a failed write throws.
import Modules from 'modules';
import { ModdableError } from '../errors.js';
import { RawFlash, type RawFlashDevice, type RawFlashOptions } from './raw.js';

type PicoNative = {
  open(byteLength: number): number;
  base(): number;
  erase(block: number): number;
  read(offset: number, into: Uint8Array, start: number, length: number): number;
  write(offset: number, bytes: Uint8Array, start: number, length: number): number;
};

export class PicoFlash extends RawFlash {
  /** Offset of the region in the flash chip (flash address 0x10000000 + base). */
  readonly base: number;
  constructor(options: RawFlashOptions) {
    const byteLength = options.blockSize * options.blockCount;
    const native = Modules.importNow('platform/moddable/flash/pico-native') as PicoNative;
    let sectorSize: number;
    try {
      sectorSize = native.open(byteLength);
    } catch {
      throw new ModdableError('FLASH_IO', `cannot place a ${byteLength}-byte queue region in the free flash (storage.blockCount too large for this image?)`);
    }
    const device: RawFlashDevice = {
      sectorSize,
      byteLength,
      erase: (block) => native.erase(block),
      read: (offset, into, start, length) => native.read(offset, into, start, length),
      write: (offset, bytes, start, length) => native.write(offset, bytes, start, length),
    };
    super(device, options);
    this.base = native.base();
  }
}
