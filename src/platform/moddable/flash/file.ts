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
//
// An image of another size (a firmware update changed blockCount) is never
// deleted: the port offers `geometryChange` (the old image read-only with its
// own geometry, a fresh image of the new one in a second file `<path>~`) and
// refuses every call until the agent copied the records and called commit():
// the old file is deleted only after the new one is complete (closed), then
// the new one is renamed. At boot, a second file next to the image is an
// incomplete copy (discarded, the migration starts over); a second file alone
// is complete (the crash came between delete and rename): it is renamed.
// The block size must not change (an image whose size is not a whole number
// of blocks is refused, untouched).
import { File } from 'file';
import config from 'mc/config';
import type { FlashPort } from '../../../ports.js';
import { copyToArrayBuffer } from '../copy-bytes.js';
import { ModdableError } from '../errors.js';
import { checkBlock, checkBuffer, checkRange } from './range.js';
import type { FlashGeometryChange } from '../../../agent/flash-region.js';

/** Bounds for the image size: at least 2 blocks (a queue needs a spare), at most 4 MiB. */
export const FILE_FLASH_MIN_BLOCKS = 2;
export const FILE_FLASH_MAX_BYTES = 4 * 1024 * 1024;

export interface FileFlashOptions {
  /** File name under the platform's file root (mc/config `file.root`). */
  path: string;
  blockSize: number;
  blockCount: number;
}

/** Suffix of the second file that holds the image being migrated. */
export const FILE_FLASH_MIGRATING_SUFFIX = '~';
/** Suffix of the file a new (erased) image is built in before it gets its name. */
export const FILE_FLASH_CREATING_SUFFIX = '.new';

export class FileFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  /** Non-null while the stored image has another geometry: every call is refused until commit(). */
  geometryChange: FlashGeometryChange | null = null;
  private readonly path: string;
  private readonly erased: ArrayBuffer;
  private readonly readOnly: boolean;
  constructor(options: FileFlashOptions, internal?: { fullPath: string; readOnly: boolean }) {
    const { blockSize, blockCount } = options;
    if (!(Number.isInteger(blockSize) && blockSize >= 256 && (blockSize & (blockSize - 1)) === 0))
      throw new ModdableError('INVALID_CONFIG', 'storage.blockSize must be a power of two >= 256');
    if (!(Number.isInteger(blockCount) && blockCount >= FILE_FLASH_MIN_BLOCKS && blockSize * blockCount <= FILE_FLASH_MAX_BYTES))
      throw new ModdableError('INVALID_CONFIG', `storage.blockCount must give ${FILE_FLASH_MIN_BLOCKS} blocks..${FILE_FLASH_MAX_BYTES} bytes`);
    if (!/^[A-Za-z0-9_.-]{1,31}$/.test(options.path)) throw new ModdableError('INVALID_CONFIG', 'storage.path must be a plain file name');
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.path = internal?.fullPath ?? String(config.file.root) + options.path;
    this.readOnly = internal?.readOnly ?? false;
    this.erased = new ArrayBuffer(blockSize);
    new Uint8Array(this.erased).fill(0xff);
    if (internal === undefined) this.open();
  }
  /** Creates the image (all erased) when missing; offers a migration when its size differs. */
  private open(): void {
    const size = this.blockSize * this.blockCount;
    const temp = this.path + FILE_FLASH_MIGRATING_SUFFIX;
    let length = -1;
    try {
      if (File.exists(temp)) {
        if (File.exists(this.path)) File.delete(temp);
        else renameOrThrow(temp, this.path);
      }
      // A new image is built aside too (a short image would look like a geometry change).
      const fresh = this.path + FILE_FLASH_CREATING_SUFFIX;
      if (File.exists(fresh)) File.delete(fresh);
      if (File.exists(this.path)) {
        const f = new File(this.path);
        length = f.length;
        f.close();
      } else {
        this.create(fresh, size);
        renameOrThrow(fresh, this.path);
        length = size;
      }
    } catch {
      throw new ModdableError('FLASH_IO', `cannot create flash image file ${fileName(this.path)}`);
    }
    if (length === size) return;
    if (length % this.blockSize !== 0 || length / this.blockSize < FILE_FLASH_MIN_BLOCKS)
      throw new ModdableError('FLASH_IO', `flash image ${fileName(this.path)} has ${length} bytes, no whole number of ${this.blockSize}-byte blocks: kept, not opened`);
    const options = { path: 'migrating', blockSize: this.blockSize };
    const from = new FileFlash({ ...options, blockCount: length / this.blockSize }, { fullPath: this.path, readOnly: true });
    try {
      this.create(temp, size);
    } catch {
      throw new ModdableError('FLASH_IO', `cannot create flash image file ${fileName(temp)}`);
    }
    const to = new FileFlash({ ...options, blockCount: this.blockCount }, { fullPath: temp, readOnly: false });
    this.geometryChange = {
      from,
      to,
      commit: () => {
        try {
          // Every write closed its file (committed): the copy is complete.
          File.delete(this.path);
          renameOrThrow(temp, this.path);
        } catch {
          throw new ModdableError('FLASH_IO', `cannot replace flash image ${fileName(this.path)}`);
        }
        this.geometryChange = null;
      },
    };
  }
  private create(path: string, size: number): void {
    if (File.exists(path)) File.delete(path);
    const f = new File(path, true);
    for (let o = 0; o < size; o += this.blockSize) f.write(this.erased);
    f.close();
  }
  private usable(): void {
    if (this.geometryChange !== null)
      throw new ModdableError('FLASH_IO', `flash image ${fileName(this.path)} has another geometry: migrate its records (geometryChange) first`);
  }
  private writable(): void {
    this.usable();
    if (this.readOnly) throw new ModdableError('FLASH_IO', 'the old flash image is read-only');
  }
  erase(block: number): void {
    this.writable();
    checkBlock(block, this.blockCount);
    this.io(block * this.blockSize, (f) => f.write(this.erased));
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.usable();
    checkRange(offset, length, this.blockSize * this.blockCount);
    checkBuffer(into, start, length);
    if (length === 0) return;
    this.io(offset, (f) => into.set(new Uint8Array(f.read(ArrayBuffer, length)), start));
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.writable();
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

/** File.rename reports failure by its result (the SDK's littlefs and POSIX versions), not by an exception. */
function renameOrThrow(from: string, to: string): void {
  if (!File.rename(from, to)) throw new ModdableError('FLASH_IO', `cannot rename ${fileName(from)} to ${fileName(to)}`);
}

/** The file name without its directory, for error messages. */
function fileName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}
