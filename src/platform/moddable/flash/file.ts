// FlashPort over one fixed-size file: littlefs on Pico W (the SDK's `file`
// module there), /tmp on the simulator. The file is the flash image: it is
// created full of 0xFF (erased) on first use, and erase() writes a block of
// 0xFF. littlefs writes are copy-on-write, so a power cut leaves either the old
// or the new content of the file's data; the queue format tolerates both, as it
// must for a NOR flash interrupted mid-write.
//
// The SDK's file write takes whole ArrayBuffers (the Linux implementation does
// not accept views), so write() copies its range into a fresh ArrayBuffer and
// erase() reuses one preallocated block of 0xFF. Each operation opens and
// closes the file: littlefs commits on close, so a completed write() is durable.
import { File } from 'file';
import config from 'mc/config';
import type { FlashPort } from '../../../ports.js';
import { copyToArrayBuffer } from '../copy-bytes.js';
import { ModdableError } from '../errors.js';
import { checkBlock, checkBuffer, checkRange } from './range.js';

/** Bounds for the image size: at least 2 blocks (a queue needs a spare), at most 4 MiB. */
export const FILE_FLASH_MIN_BLOCKS = 2;
export const FILE_FLASH_MAX_BYTES = 4 * 1024 * 1024;

export interface FileFlashOptions {
  /** File name under the platform's file root (mc/config `file.root`). */
  path: string;
  blockSize: number;
  blockCount: number;
}

export class FileFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  private readonly path: string;
  private readonly erased: ArrayBuffer;
  constructor(options: FileFlashOptions) {
    const { blockSize, blockCount } = options;
    if (!(Number.isInteger(blockSize) && blockSize >= 256 && (blockSize & (blockSize - 1)) === 0))
      throw new ModdableError('INVALID_CONFIG', 'storage.blockSize must be a power of two >= 256');
    if (!(Number.isInteger(blockCount) && blockCount >= FILE_FLASH_MIN_BLOCKS && blockSize * blockCount <= FILE_FLASH_MAX_BYTES))
      throw new ModdableError('INVALID_CONFIG', `storage.blockCount must give ${FILE_FLASH_MIN_BLOCKS} blocks..${FILE_FLASH_MAX_BYTES} bytes`);
    if (!/^[A-Za-z0-9_.-]{1,31}$/.test(options.path)) throw new ModdableError('INVALID_CONFIG', 'storage.path must be a plain file name');
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.path = String(config.file.root) + options.path;
    this.erased = new ArrayBuffer(blockSize);
    new Uint8Array(this.erased).fill(0xff);
    this.format();
  }
  /** Creates the image (all erased) unless a file of exactly the right size exists. */
  private format(): void {
    const size = this.blockSize * this.blockCount;
    try {
      if (File.exists(this.path)) {
        const f = new File(this.path);
        const length = f.length;
        f.close();
        if (length === size) return;
        File.delete(this.path);
      }
      const f = new File(this.path, true);
      for (let b = 0; b < this.blockCount; b++) f.write(this.erased);
      f.close();
    } catch {
      throw new ModdableError('FLASH_IO', `cannot create flash image file ${fileName(this.path)}`);
    }
  }
  erase(block: number): void {
    checkBlock(block, this.blockCount);
    this.io(block * this.blockSize, (f) => f.write(this.erased));
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    checkRange(offset, length, this.blockSize * this.blockCount);
    checkBuffer(into, start, length);
    if (length === 0) return;
    this.io(offset, (f) => into.set(new Uint8Array(f.read(ArrayBuffer, length)), start));
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    checkRange(offset, length, this.blockSize * this.blockCount);
    checkBuffer(bytes, start, length);
    if (length === 0) return;
    const copy = copyToArrayBuffer(bytes, start, length);
    this.io(offset, (f) => f.write(copy));
  }
  private io(position: number, action: (f: File) => void): void {
    let f: File | undefined;
    try {
      f = new File(this.path, true);
      f.position = position;
      action(f);
    } catch {
      throw new ModdableError('FLASH_IO', `flash image ${fileName(this.path)} I/O failed at ${position}`);
    } finally {
      f?.close();
    }
  }
}

/** The file name without its directory, for error messages. */
function fileName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}
