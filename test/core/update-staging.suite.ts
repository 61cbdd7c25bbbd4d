// Staging a target into flash (src/update/staging.ts): chunked Range fetches
// into a region erased block by block, SHA-256 streamed, the trusted length
// enforced while downloading, and every failure a typed UpdateError. The
// expected digests come from @noble/hashes' one-shot sha256, independent of
// the streamed Sha256 port under test.
import type { PortableSuite } from '../harness/portable.js';
import { rejection } from '../harness/portable.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { STAGING_CHUNK_BYTES, stageTarget, type StageOptions } from '../../src/update/staging.js';
import { FirmwareSlots, type BootState } from '../../src/update/slots.js';
import type { RangeFetchPort } from '../../src/update/ports.js';
import { UpdateError } from '../../src/update/update-error.js';
import { FlashRegion } from '../../src/shared/flash-region.js';
import { NobleSha256 } from '../../src/sigv4/sha256-noble.js';
import { hex } from '../../src/sigv4/hex.js';
import type { FlashPort } from '../../src/ports.js';

const URL = 'https://repo.example/tuf/targets/firmware/prod/vdevice/agent-1.2.0.js';
const BLOCK_BYTES = 256;

function bytesOf(seed: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (seed * 97 + i * 13 + (i >> 7)) & 0xff;
  return b;
}

/** Serves one file by ranges, as the port's contract says (fewer bytes only at the end); faults on request. */
class FileSource implements RangeFetchPort {
  calls: Array<[number, number]> = [];
  /** Reject the call with this index (0-based). */
  rejectAt = -1;
  /** Throw synchronously instead of returning a promise. */
  throwSync = false;
  /** Resolve null (not in the repository). */
  missing = false;
  /** Hand out this many bytes more than asked (a broken adapter). */
  overdeliver = 0;
  constructor(public file: Uint8Array) {}
  fetchRange(url: string, offset: number, length: number): Promise<Uint8Array | null> {
    this.calls.push([offset, length]);
    if (url !== URL) return Promise.reject(new Error(`unexpected url ${url}`));
    if (this.calls.length - 1 === this.rejectAt) {
      if (this.throwSync) throw new Error('socket closed');
      return Promise.reject(new Error('socket closed'));
    }
    if (this.missing) return Promise.resolve(null);
    const end = Math.min(this.file.length, offset + length + this.overdeliver);
    return Promise.resolve(this.file.slice(Math.min(offset, end), end));
  }
}

/** A flash whose writes fail (I/O error) after `writesLeft`, or silently store one bit wrong (flipOnWrite). */
class FaultyFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  writesLeft = Infinity;
  flipOnWrite = false;
  constructor(private readonly inner: MemoryFlash) {
    this.blockSize = inner.blockSize;
    this.blockCount = inner.blockCount;
  }
  erase(block: number): void {
    this.inner.erase(block);
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.inner.read(offset, into, start, length);
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    if (this.writesLeft-- <= 0) throw new Error('flash write I/O error');
    this.inner.write(offset, bytes, start, length);
    if (this.flipOnWrite) this.inner.bytes[offset] ^= 0x01;
  }
}

function options(source: RangeFetchPort, file: Uint8Array, region: FlashPort, bufferBytes = BLOCK_BYTES): StageOptions {
  return { source, url: URL, length: file.length, sha256Hex: hex(sha256(file)), region, sha256: new NobleSha256(), buffer: new Uint8Array(bufferBytes) };
}

const codeOf = (e: unknown): string => (e instanceof UpdateError ? e.code : `not an UpdateError: ${String(e)}`);

function allErased(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0xff) return false;
  return true;
}

const suite: PortableSuite = () => [
  {
    name: 'streams a target in chunks into a region that held old data; one fetch per chunk plus the end probe',
    async run(t) {
      const flash = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 8 });
      flash.bytes.fill(0x5a); // old content: a write over it without an erase would throw
      const region = new FlashRegion(flash, 2, 5);
      const file = bytesOf(1, 3 * BLOCK_BYTES + 77);
      const source = new FileSource(file);
      await stageTarget(options(source, file, region, 200)); // chunks not aligned to blocks
      t.deepEqual(flash.bytes.slice(2 * BLOCK_BYTES, 2 * BLOCK_BYTES + file.length), file);
      t.equal(source.calls.length, Math.ceil(file.length / 200) + 1);
      t.deepEqual(source.calls[source.calls.length - 1], [file.length, 1], 'the last fetch only checks that the file ends');
      t.ok(source.calls.every(([off, len]) => off + len <= file.length + 1), 'nothing past the length is asked for');
      t.equal(flash.blocksErased, 4, 'only the blocks the image reaches are erased');
      t.equal(flash.bytes[0], 0x5a, 'blocks outside the region untouched');
      t.equal(flash.bytes[7 * BLOCK_BYTES], 0x5a);
    },
  },
  {
    name: 'a full-size buffer (STAGING_CHUNK_BYTES) and a target that fills the region exactly',
    async run(t) {
      t.equal(STAGING_CHUNK_BYTES, 4096);
      const flash = new MemoryFlash({ blockSize: 4096, blockCount: 3 });
      const file = bytesOf(2, 3 * 4096);
      const source = new FileSource(file);
      await stageTarget(options(source, file, flash, STAGING_CHUNK_BYTES));
      t.deepEqual(flash.bytes, file);
      t.equal(source.calls.length, 4);
    },
  },
  {
    name: 'a tampered chunk is bad-hash',
    async run(t) {
      const file = bytesOf(3, 1000);
      const served = file.slice();
      served[600] ^= 0x04;
      const opts = options(new FileSource(served), file, new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 }));
      t.equal(codeOf(await rejection(stageTarget(opts))), 'bad-hash');
    },
  },
  {
    name: 'a source longer than the trusted length: refused, and nothing past the length is written',
    async run(t) {
      const file = bytesOf(4, 300);
      const longer = new Uint8Array(5000);
      longer.set(file);
      const flash = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 24 });
      const source = new FileSource(longer);
      t.equal(codeOf(await rejection(stageTarget(options(source, file, flash)))), 'bad-hash');
      t.ok(allErased(flash.bytes, file.length, flash.bytes.length), 'flash past the length untouched');
      t.ok(source.calls.length <= Math.ceil(file.length / BLOCK_BYTES) + 1, 'bounded fetches');
    },
  },
  {
    name: 'a chunk longer than asked (a broken adapter) is fetch, before it is written',
    async run(t) {
      const file = bytesOf(5, 700);
      const flash = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 });
      const source = new FileSource(file);
      source.overdeliver = 10;
      t.equal(codeOf(await rejection(stageTarget(options(source, file, flash)))), 'fetch');
      t.equal(flash.bytesWritten, 0);
    },
  },
  {
    name: 'a short source (the file ends before its length) is fetch',
    async run(t) {
      const file = bytesOf(6, 700);
      const flash = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 });
      const source = new FileSource(file.slice(0, 650));
      t.equal(codeOf(await rejection(stageTarget(options(source, file, flash)))), 'fetch');
      const empty = new FileSource(new Uint8Array(0));
      t.equal(codeOf(await rejection(stageTarget(options(empty, file, flash)))), 'fetch');
    },
  },
  {
    name: 'a fetch that rejects, throws, or finds no file is fetch',
    async run(t) {
      const file = bytesOf(7, 700);
      const mk = () => new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 });
      const rejecting = new FileSource(file);
      rejecting.rejectAt = 1;
      t.equal(codeOf(await rejection(stageTarget(options(rejecting, file, mk())))), 'fetch');
      const throwing = new FileSource(file);
      throwing.rejectAt = 0;
      throwing.throwSync = true;
      t.equal(codeOf(await rejection(stageTarget(options(throwing, file, mk())))), 'fetch');
      const missing = new FileSource(file);
      missing.missing = true;
      t.equal(codeOf(await rejection(stageTarget(options(missing, file, mk())))), 'fetch');
    },
  },
  {
    name: 'a flash that fails a write, or stores other bytes than written, is storage (not the target\u2019s fault)',
    async run(t) {
      const file = bytesOf(8, 700);
      const failing = new FaultyFlash(new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 }));
      failing.writesLeft = 1;
      t.equal(codeOf(await rejection(stageTarget(options(new FileSource(file), file, failing)))), 'storage');
      const flipping = new FaultyFlash(new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 }));
      flipping.flipOnWrite = true;
      t.equal(codeOf(await rejection(stageTarget(options(new FileSource(file), file, flipping)))), 'storage');
    },
  },
  {
    name: 'a target larger than the region is too-large, before any fetch; malformed length or hash: bad-hash',
    async run(t) {
      const file = bytesOf(9, 4 * BLOCK_BYTES + 1);
      const source = new FileSource(file);
      t.equal(codeOf(await rejection(stageTarget(options(source, file, new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 4 }))))), 'too-large');
      t.equal(source.calls.length, 0);
      const region = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 8 });
      t.equal(codeOf(await rejection(stageTarget({ ...options(source, file, region), sha256Hex: 'ab'.repeat(31) }))), 'bad-hash');
      t.equal(codeOf(await rejection(stageTarget({ ...options(source, file, region), sha256Hex: 'zz'.repeat(32) }))), 'bad-hash');
      t.equal(codeOf(await rejection(stageTarget({ ...options(source, file, region), length: -1 }))), 'bad-hash');
      t.equal(source.calls.length, 0);
      t.equal(codeOf(await rejection(stageTarget({ ...options(source, file, region), source: undefined as unknown as RangeFetchPort }))), 'fetch', 'no exception but UpdateError');
    },
  },
  {
    name: 'a power cut at every byte of staging into the inactive slot leaves the confirmed slot untouched',
    async run(t) {
      const a = bytesOf(10, 500);
      const b = bytesOf(11, 900);
      const imageA = { length: a.length, sha256: hex(sha256(a)) };
      const imageB = { length: b.length, sha256: hex(sha256(b)) };
      const confirmed: BootState = { slot: 1, trial: false, image: imageA, revertedFrom: null };
      const template = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 10 });
      {
        const s = new FirmwareSlots(template);
        await stageTarget(options(new FileSource(a), a, s.inactive()));
        s.activate(imageA);
        new FirmwareSlots(template).boot();
        new FirmwareSlots(template).confirm();
      }
      let cuts = 0;
      for (let budget = 0; budget < 100_000; budget++) {
        const flash = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 10 });
        flash.bytes.set(template.bytes);
        flash.cutPowerAfter(budget);
        const e = await rejection(stageTarget(options(new FileSource(b), b, new FirmwareSlots(flash).inactive())));
        if (e === null) {
          t.ok(!flash.poweredOff);
          break;
        }
        t.equal(codeOf(e), 'storage', `budget ${budget}`);
        t.ok(flash.poweredOff, `budget ${budget}: only the cut fails`);
        cuts++;
        flash.powerOn();
        const slots = new FirmwareSlots(flash);
        t.deepEqual(slots.boot(), confirmed, `budget ${budget}`);
        const inSlot = new Uint8Array(a.length);
        slots.readSlot(1, 0, inSlot, 0, a.length);
        t.deepEqual(inSlot, a, `budget ${budget}: confirmed image intact`);
      }
      t.ok(cuts >= 4 * BLOCK_BYTES + b.length, 'every erase and write byte was cut');
    },
  },
  {
    name: 'staged, activated and booted: the trial slot holds exactly the target',
    async run(t) {
      const flash = new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 10 });
      const b = bytesOf(12, 1000);
      const s = new FirmwareSlots(flash);
      await stageTarget(options(new FileSource(b), b, s.inactive()));
      s.activate({ length: b.length, sha256: hex(sha256(b)) });
      const booted = new FirmwareSlots(flash).boot();
      t.deepEqual(booted, { slot: 1, trial: true, image: { length: b.length, sha256: hex(sha256(b)) }, revertedFrom: null });
      const inSlot = new Uint8Array(b.length);
      new FirmwareSlots(flash).readSlot(1, 0, inSlot, 0, b.length);
      t.deepEqual(inSlot, b);
    },
  },
];
export default suite;
