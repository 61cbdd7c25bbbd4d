// A FlashPort backed by a file, for Node and the simulator. The file is the
// flash image (blockSize * blockCount bytes, created erased = 0xFF). Like NOR
// flash, a write may only program erased bytes (anything else is a caller
// bug and throws). With `sync: true`, every write and erase is fsync'ed, so a
// host crash keeps what the queue was told is stored.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { FlashPort } from '../../ports.js';

export interface FileFlashOptions {
  path: string;
  blockSize: number;
  blockCount: number;
  /** fsync after every write/erase. Default false (tests); the simulator sets true. */
  sync?: boolean;
}

/** Largest chunk read or written at once while erasing or checking. */
const CHUNK_BYTES = 4096;

export class FileFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  private fd: number;
  private readonly sync: boolean;
  private readonly ff = new Uint8Array(CHUNK_BYTES).fill(0xff);
  private readonly check = new Uint8Array(CHUNK_BYTES);

  constructor(options: FileFlashOptions) {
    const { blockSize, blockCount } = options;
    if (!(Number.isInteger(blockSize) && blockSize > 0 && Number.isInteger(blockCount) && blockCount > 0)) {
      throw new RangeError('FileFlash: blockSize and blockCount must be positive integers');
    }
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.sync = options.sync === true;
    this.fd = openSync(options.path, 'a+');
    closeSync(this.fd);
    this.fd = openSync(options.path, 'r+');
    const size = fstatSync(this.fd).size;
    const total = blockSize * blockCount;
    if (size > total) {
      closeSync(this.fd);
      throw new RangeError(`FileFlash: ${options.path} is larger than the configured geometry`);
    }
    // Extend a new or short image with erased bytes.
    for (let o = size; o < total; o += CHUNK_BYTES) writeSync(this.fd, this.ff, 0, Math.min(CHUNK_BYTES, total - o), o);
    if (this.sync) fsyncSync(this.fd);
  }

  erase(block: number): void {
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
