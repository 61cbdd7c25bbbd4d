// A FlashPort backed by a file, for Node and the simulator. The file is the
// flash image (blockSize * blockCount bytes, created erased = 0xFF). Like NOR
// flash, a write may only program erased bytes (anything else is a caller
// bug and throws). With `sync: true`, every write and erase is fsync'ed, so a
// host crash keeps what the queue was told is stored.
//
// A stored image of another size (a firmware update changed blockCount) is
// never deleted or resized: the port offers `geometryChange` (the old image
// read-only with its own geometry, and a fresh image of the new geometry in
// `<path>.migrating`) and refuses every call until the owner copied the
// records and called commit(), which makes the new image durable and renames
// it over the old one. A crash before the rename leaves the old image: the
// incomplete copy is discarded at the next open and the migration starts over.
// The block size is assumed unchanged (it is the chip's erase unit); an image
// whose size is not a multiple of it is refused, untouched.
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FlashPort } from '../../ports.js';
import type { FlashGeometryChange } from '../../agent/flash-region.js';

export interface FileFlashOptions {
  path: string;
  blockSize: number;
  blockCount: number;
  /** fsync after every write/erase. Default false (tests); the simulator sets true. */
  sync?: boolean;
}

/** Largest chunk read or written at once while erasing or checking. */
const CHUNK_BYTES = 4096;
/** Suffix of the image being built during a geometry migration. */
export const MIGRATING_SUFFIX = '.migrating';

/** One image file with a fixed geometry. */
class ImageFile implements FlashPort {
  fd: number;
  private readonly ff = new Uint8Array(CHUNK_BYTES).fill(0xff);
  private readonly check = new Uint8Array(CHUNK_BYTES);

  constructor(
    path: string,
    readonly blockSize: number,
    readonly blockCount: number,
    private readonly sync: boolean,
    private readonly readOnly: boolean,
  ) {
    this.fd = openSync(path, readOnly ? 'r' : 'r+');
    if (readOnly) return;
    const size = fstatSync(this.fd).size;
    const total = blockSize * blockCount;
    // Extend a new image with erased bytes.
    for (let o = size; o < total; o += CHUNK_BYTES) writeSync(this.fd, this.ff, 0, Math.min(CHUNK_BYTES, total - o), o);
    if (this.sync) fsyncSync(this.fd);
  }

  erase(block: number): void {
    if (this.readOnly) throw new Error('FileFlash: the old image is read-only');
    if (!(Number.isInteger(block) && block >= 0 && block < this.blockCount)) throw new RangeError(`erase: no block ${block}`);
    const start = block * this.blockSize;
    for (let o = 0; o < this.blockSize; o += CHUNK_BYTES) writeSync(this.fd, this.ff, 0, Math.min(CHUNK_BYTES, this.blockSize - o), start + o);
    if (this.sync) fsyncSync(this.fd);
  }

  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.range(offset, length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, into, start + done, length - done, offset + done);
      if (n <= 0) throw new Error('FileFlash: short read');
      done += n;
    }
  }

  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    if (this.readOnly) throw new Error('FileFlash: the old image is read-only');
    this.range(offset, length);
    for (let o = 0; o < length; o += CHUNK_BYTES) {
      const n = Math.min(CHUNK_BYTES, length - o);
      this.read(offset + o, this.check, 0, n);
      for (let i = 0; i < n; i++) if (this.check[i] !== 0xff) throw new Error(`FileFlash: byte at ${offset + o + i} is not erased`);
    }
    let done = 0;
    while (done < length) done += writeSync(this.fd, bytes, start + done, length - done, offset + done);
    if (this.sync) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private range(offset: number, length: number): void {
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.blockSize * this.blockCount)) {
      throw new RangeError(`flash access out of range: ${offset}+${length}`);
    }
  }
}

export class FileFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  /** Non-null while the stored image has another geometry (see the header): every call is refused until commit(). */
  geometryChange: FlashGeometryChange | null = null;
  private image: ImageFile | null = null;
  private readonly path: string;

  constructor(options: FileFlashOptions) {
    const { blockSize, blockCount, path } = options;
    if (!(Number.isInteger(blockSize) && blockSize > 0 && Number.isInteger(blockCount) && blockCount > 0)) {
      throw new RangeError('FileFlash: blockSize and blockCount must be positive integers');
    }
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.path = path;
    const sync = options.sync === true;
    const temp = path + MIGRATING_SUFFIX;
    if (existsSync(temp)) {
      // The old image is removed only by the rename of a complete copy, so a
      // copy next to an old image is incomplete; a copy alone is complete.
      if (existsSync(path)) unlinkSync(temp);
      else renameSync(temp, path);
    }
    if (!existsSync(path)) createErased(path, blockSize * blockCount);
    const probe = openSync(path, 'r');
    const size = fstatSync(probe).size;
    closeSync(probe);
    const total = blockSize * blockCount;
    if (size === total) {
      this.image = new ImageFile(path, blockSize, blockCount, sync, false);
      return;
    }
    if (size % blockSize !== 0) {
      throw new RangeError(`FileFlash: ${path} has ${size} bytes, not a whole number of ${blockSize}-byte blocks (block size changed?): kept as is, not opened`);
    }
    const from = new ImageFile(path, blockSize, size / blockSize, false, true);
    closeSync(openSync(temp, 'w'));
    const to = new ImageFile(temp, blockSize, blockCount, sync, false);
    this.geometryChange = {
      from,
      to,
      commit: () => {
        fsyncSync(to.fd);
        to.close();
        from.close();
        renameSync(temp, path);
        syncDirectory(dirname(path));
        this.geometryChange = null;
        this.image = new ImageFile(path, blockSize, blockCount, sync, false);
      },
    };
  }

  erase(block: number): void {
    this.usable().erase(block);
  }

  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.usable().read(offset, into, start, length);
  }

  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.usable().write(offset, bytes, start, length);
  }

  close(): void {
    this.image?.close();
    this.image = null;
    if (this.geometryChange !== null) {
      (this.geometryChange.from as ImageFile).close();
      (this.geometryChange.to as ImageFile).close();
    }
  }

  private usable(): ImageFile {
    if (this.image === null) {
      const c = this.geometryChange;
      throw new Error(
        c !== null
          ? `FileFlash: ${this.path} holds ${c.from.blockCount} blocks, configured ${this.blockCount}: migrate its records (geometryChange) first`
          : 'FileFlash: closed',
      );
    }
    return this.image;
  }
}

/** A new image appears whole or not at all: built aside, then renamed. */
function createErased(path: string, total: number): void {
  const aside = path + '.creating';
  const fd = openSync(aside, 'w');
  try {
    const ff = new Uint8Array(CHUNK_BYTES).fill(0xff);
    for (let o = 0; o < total; o += CHUNK_BYTES) writeSync(fd, ff, 0, Math.min(CHUNK_BYTES, total - o), o);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(aside, path);
  syncDirectory(dirname(path));
}

/** Makes a rename durable (POSIX: the directory entry is data of the directory). */
function syncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on every platform (Windows): the rename itself is still atomic.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
