// FlashPort over a raw flash region whose driver checks every operation and
// answers with a status (pico/agent-flash.h): the Pico W queue store
// (pico.ts). A status other than success is a ModdableError, never a silent
// success: the queue then fails and reopens (src/telemetry/queue.ts), and the
// record whose append threw was never acknowledged as stored.
import type { FlashPort } from '../../../ports.js';
import { ModdableError } from '../errors.js';
import { checkBlock, checkBuffer, checkRange } from './range.js';

/** Statuses of the region driver (the numbers of pico/agent-flash.h). */
export const RAW_FLASH_OK = 0;
export const RAW_FLASH_RANGE = 1;
export const RAW_FLASH_DRIVER = 2;
export const RAW_FLASH_NOT_ERASED = 3;
export const RAW_FLASH_VERIFY = 4;
export const RAW_FLASH_NOT_OPEN = 5;

const STATUS_TEXT: Record<number, string> = {
  [RAW_FLASH_RANGE]: 'outside the region',
  [RAW_FLASH_DRIVER]: 'the flash driver failed',
  [RAW_FLASH_NOT_ERASED]: 'target bytes not erased (nothing written)',
  [RAW_FLASH_VERIFY]: 'read back differs (failing flash)',
  [RAW_FLASH_NOT_OPEN]: 'region not open',
};

/** The region driver: byte offsets within the region; each call returns a status. */
export interface RawFlashDevice {
  /** Erase unit in bytes (one queue block). */
  readonly sectorSize: number;
  readonly byteLength: number;
  erase(block: number): number;
  read(offset: number, into: Uint8Array, start: number, length: number): number;
  write(offset: number, bytes: Uint8Array, start: number, length: number): number;
}

export interface RawFlashOptions {
  /** What the board config asks for; refused unless the device has exactly this geometry. */
  blockSize: number;
  blockCount: number;
}

export class RawFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  private readonly device: RawFlashDevice;
  private readonly byteLength: number;
  constructor(device: RawFlashDevice, options: RawFlashOptions) {
    if (device.sectorSize !== options.blockSize)
      throw new ModdableError('INVALID_CONFIG', `storage.blockSize must be the flash sector size ${device.sectorSize}`);
    if (!(Number.isInteger(options.blockCount) && options.blockCount >= 2 && options.blockCount * options.blockSize === device.byteLength))
      throw new ModdableError('INVALID_CONFIG', `storage.blockCount must give the region's ${device.byteLength} bytes`);
    this.device = device;
    this.blockSize = options.blockSize;
    this.blockCount = options.blockCount;
    this.byteLength = device.byteLength;
  }
  erase(block: number): void {
    checkBlock(block, this.blockCount);
    check(this.device.erase(block), `erase of block ${block}`);
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    checkRange(offset, length, this.byteLength);
    checkBuffer(into, start, length);
    if (length === 0) return;
    check(this.device.read(offset, into, start, length), `read at ${offset}`);
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    checkRange(offset, length, this.byteLength);
    checkBuffer(bytes, start, length);
    if (length === 0) return;
    check(this.device.write(offset, bytes, start, length), `write of ${length} bytes at ${offset}`);
  }
}

function check(status: number, what: string): void {
  if (status === RAW_FLASH_OK) return;
  const code = status === RAW_FLASH_RANGE ? 'FLASH_RANGE' : 'FLASH_IO';
  throw new ModdableError(code, `raw flash ${what}: ${STATUS_TEXT[status] ?? `status ${status}`}`);
}
