// Unit behaviour of the persistent queue: layout on flash (from the format
// spec in queue-format.ts, not from our own output), FIFO order, acks, full
// policies, typed errors that change nothing, and recovery after reopening.
import type { PortableSuite } from '../harness/portable.js';
import { crc32 } from '../../src/shared/crc32.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { PersistentQueue, RecordRef, type QueueOptions } from '../../src/telemetry/queue.js';
import { QueueError } from '../../src/telemetry/errors.js';

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function drain(q: PersistentQueue, ack: boolean): Array<[number, number[]]> {
  const out: Array<[number, number[]]> = [];
  const ref = new RecordRef();
  for (let ok = q.first(ref); ok; ok = q.next(ref)) {
    const buf = new Uint8Array(ref.length);
    q.read(ref, buf);
    out.push([ref.seq, Array.from(buf)]);
    if (ack) q.ack(ref);
  }
  return out;
}

const isCode = (code: string) => (e: unknown) => e instanceof QueueError && e.code === code;

const small = (): MemoryFlash => new MemoryFlash({ blockSize: 64, blockCount: 3 });
const dropOldest: QueueOptions = { whenFull: 'drop-oldest' };

const suite: PortableSuite = () => [
  {
    name: 'crc32 matches the standard check value',
    run(t) {
      // CRC-32/ISO-HDLC catalogue check value for "123456789".
      t.equal(crc32(ascii('123456789')), 0xcbf43926);
      t.equal(crc32(new Uint8Array(0)), 0);
    },
  },
  {
    name: 'first append writes the documented block header and record layout',
    run(t) {
      const flash = small();
      const q = new PersistentQueue(flash, dropOldest);
      t.equal(q.append(new Uint8Array([1, 2, 3])), 0);
      const b = flash.bytes;
      t.deepEqual(Array.from(b.subarray(0, 12)), [0x54, 0x51, 0x42, 0x31, 1, 0, 0, 0, 0, 0, 0, 0], "'TQB1', blockSeq 1, firstSeq 0");
      const hcrc = crc32(b, 0, 12);
      t.deepEqual(Array.from(b.subarray(12, 16)), [hcrc & 0xff, (hcrc >>> 8) & 0xff, (hcrc >>> 16) & 0xff, hcrc >>> 24]);
      t.deepEqual(Array.from(b.subarray(16, 24)), [0xa5, 0xff, 3, 0, 0, 0, 0, 0], 'magic, live state, length 3, seq 0');
      const rcrc = crc32(new Uint8Array([3, 0, 0, 0, 0, 0, 1, 2, 3]));
      t.deepEqual(Array.from(b.subarray(24, 31)), [rcrc & 0xff, (rcrc >>> 8) & 0xff, (rcrc >>> 16) & 0xff, rcrc >>> 24, 1, 2, 3]);
      t.equal(b[31], 0xff, 'nothing written after the record');
    },
  },
  {
    name: 'records come out in order; ack and dead-letter program one state byte',
    run(t) {
      const flash = small();
      const q = new PersistentQueue(flash, dropOldest);
      q.append(ascii('a'));
      q.append(ascii('bc'));
      q.append(ascii(''));
      const ref = new RecordRef();
      t.ok(q.first(ref));
      t.equal(ref.seq, 0);
      t.ok(q.ack(ref));
      t.equal(flash.bytes[17], 0x00, 'acked state byte');
      t.equal(q.ack(ref), false, 'second ack is a no-op');
      t.ok(q.first(ref));
      t.equal(ref.seq, 1);
      t.ok(q.deadLetter(ref));
      t.equal(flash.bytes[16 + 13 + 1], 0x7f, 'dead-letter state byte');
      t.deepEqual(q.stats().deadLetters, 1);
      t.deepEqual(drain(q, false), [[2, []]]);
      t.equal(q.depth, 1);
    },
  },
  {
    name: 'reopening recovers live records, counters and the next sequence number',
    run(t) {
      const flash = new MemoryFlash({ blockSize: 128, blockCount: 4 });
      const q = new PersistentQueue(flash, dropOldest);
      for (let i = 0; i < 10; i++) q.append(new Uint8Array(10).fill(i));
      const ref = new RecordRef();
      q.first(ref);
      q.ack(ref);
      q.next(ref);
      q.deadLetter(ref);
      const again = new PersistentQueue(flash, dropOldest);
      const s = again.stats();
      t.equal(s.depth, 8);
      t.equal(s.deadLetters, 1);
      t.equal(s.nextSeq, 10);
      t.deepEqual(drain(again, true).map((r) => r[0]), [2, 3, 4, 5, 6, 7, 8, 9]);
      t.equal(again.append(ascii('x')), 10);
      t.equal(new PersistentQueue(flash, dropOldest).stats().nextSeq, 11, 'sequence stays monotonic when all are acked');
    },
  },
  {
    name: 'drop-oldest erases the oldest block and counts its live records',
    run(t) {
      const flash = small(); // 64-byte blocks: 16-byte header + two 10-byte records (22 bytes each)
      const q = new PersistentQueue(flash, dropOldest);
      for (let i = 0; i < 6; i++) q.append(new Uint8Array(10).fill(i));
      t.equal(q.stats().dropped, 0);
      q.append(new Uint8Array(10).fill(6));
      t.equal(q.stats().dropped, 2, 'block 0 held seq 0 and 1');
      t.deepEqual(drain(q, false).map((r) => r[0]), [2, 3, 4, 5, 6]);
    },
  },
  {
    name: 'reject-new refuses when full, counts it, and keeps every stored record',
    run(t) {
      const flash = small();
      const q = new PersistentQueue(flash, { whenFull: 'reject-new' });
      for (let i = 0; i < 6; i++) q.append(new Uint8Array(10).fill(i));
      const before = Array.from(flash.bytes);
      t.throws(() => q.append(new Uint8Array(10)), isCode('queue-full'));
      t.equal(q.stats().rejected, 1);
      t.deepEqual(Array.from(flash.bytes), before, 'flash untouched');
      const ref = new RecordRef();
      q.first(ref);
      q.ack(ref);
      t.throws(() => q.append(new Uint8Array(10)), isCode('queue-full'), 'block 0 still has seq 1 live');
      q.first(ref);
      q.ack(ref);
      t.equal(q.append(new Uint8Array(10).fill(9)), 6, 'block 0 is reusable once all its records are acked');
      t.deepEqual(drain(q, false).map((r) => r[0]), [2, 3, 4, 5, 6]);
    },
  },
  {
    name: 'bad input and bad config give typed errors and change nothing',
    run(t) {
      const flash = small();
      const q = new PersistentQueue(flash, dropOldest);
      t.equal(q.maxPayloadBytes, 64 - 16 - 12);
      const before = Array.from(flash.bytes);
      t.throws(() => q.append(new Uint8Array(37)), isCode('record-too-large'));
      t.deepEqual(Array.from(flash.bytes), before);
      t.equal(q.append(new Uint8Array(36)), 0, 'the documented maximum fits');
      t.throws(() => new PersistentQueue(new MemoryFlash({ blockSize: 64, blockCount: 1 }), dropOldest), isCode('bad-config'));
      t.throws(() => new PersistentQueue(new MemoryFlash({ blockSize: 28, blockCount: 2 }), dropOldest), isCode('bad-config'));
      t.throws(() => new PersistentQueue(small(), { whenFull: 'drop-oldest', maxPayloadBytes: 37 }), isCode('bad-config'));
      t.throws(() => new PersistentQueue(small(), { whenFull: 'keep' as 'drop-oldest' }), isCode('bad-config'));
    },
  },
  {
    name: 'a corrupted record is not recovered, and bit rot is caught on read',
    run(t) {
      const flash = small();
      const q = new PersistentQueue(flash, dropOldest);
      q.append(ascii('hello'));
      q.append(ascii('world'));
      const ref = new RecordRef();
      q.first(ref);
      flash.bytes[16 + 12 + 1] ^= 0x01; // flip a bit of "hello"
      t.throws(() => q.read(ref, new Uint8Array(5)), isCode('record-corrupt'));
      const again = new PersistentQueue(flash, dropOldest);
      t.equal(again.stats().depth, 0, 'scan stops at the first bad record of the block');
      t.equal(again.stats().tornRecords, 1);
      // Bit rot is outside the power-cut model: the lost records' sequence
      // numbers cannot be trusted, so only the sealing is checked here.
      const seq = again.append(ascii('next'));
      t.deepEqual(drain(again, false), [[seq, [0x6e, 0x65, 0x78, 0x74]]], 'a sealed block is not appended to');
      t.equal(flash.bytes[64], 0x54, 'the new record went to the next block');
    },
  },
  {
    name: 'garbage blocks are ignored and erased before use',
    run(t) {
      const flash = small();
      flash.bytes.fill(0x00);
      const q = new PersistentQueue(flash, dropOldest);
      t.equal(q.stats().depth, 0);
      t.equal(q.append(ascii('ok')), 0);
      t.deepEqual(drain(new PersistentQueue(flash, dropOldest), false), [[0, [0x6f, 0x6b]]]);
    },
  },
  {
    name: 'copyFrom keeps order, sequence numbers and dead letters, and numbers on after acknowledged records',
    run(t) {
      const src = new PersistentQueue(new MemoryFlash({ blockSize: 64, blockCount: 4 }), dropOldest);
      for (let i = 0; i < 6; i++) src.append(new Uint8Array([i, i]));
      const ref = new RecordRef();
      src.first(ref);
      src.ack(ref); // seq 0 acked
      src.next(ref);
      src.deadLetter(ref); // seq 1 dead letter
      // Acknowledge the newest (seq 5) too: its number must not be handed out again.
      while (ref.seq !== 5) t.ok(src.next(ref));
      src.ack(ref);
      const flash = new MemoryFlash({ blockSize: 128, blockCount: 3 });
      const dst = new PersistentQueue(flash, dropOldest);
      const r = dst.copyFrom(src);
      t.deepEqual(r, { live: 3, deadLetters: 1, dropped: 0, corrupt: 0 });
      t.deepEqual(drain(dst, false), [[2, [2, 2]], [3, [3, 3]], [4, [4, 4]]]);
      t.equal(dst.stats().nextSeq, 6, 'continues after the acked seq 5');
      const again = new PersistentQueue(flash, dropOldest);
      t.deepEqual(again.stats().deadLetters, 1, 'the dead letter is stored');
      t.equal(again.stats().nextSeq, 6, 'the floor survives a reboot');
      t.equal(again.append(new Uint8Array([9])), 6);
    },
  },
  {
    name: 'copyFrom into a smaller queue: drop-oldest keeps the newest (counted); reject-new refuses',
    run(t) {
      const src = new PersistentQueue(new MemoryFlash({ blockSize: 64, blockCount: 6 }), dropOldest);
      for (let i = 0; i < 12; i++) src.append(new Uint8Array([i, i, i, i, i, i, i, i, i, i, i, i]));
      const all = drain(src, false);
      t.equal(all.length, 12, 'the source holds all 12');
      const dst = new PersistentQueue(new MemoryFlash({ blockSize: 64, blockCount: 3 }), dropOldest);
      const r = dst.copyFrom(src);
      const kept = drain(dst, false);
      t.equal(r.live, kept.length);
      t.equal(r.dropped, all.length - kept.length);
      t.ok(r.dropped > 0 && kept.length > 0);
      t.deepEqual(kept, all.slice(all.length - kept.length), 'the newest, same numbers');
      t.equal(dst.stats().dropped, r.dropped);
      const strict = new PersistentQueue(new MemoryFlash({ blockSize: 64, blockCount: 3 }), { whenFull: 'reject-new' });
      t.throws(() => strict.copyFrom(src), isCode('queue-full'));
      t.deepEqual(drain(src, false), all, 'the source is unchanged');
      t.throws(() => dst.copyFrom(src), isCode('not-empty'), 'only into a fresh queue');
    },
  },
];
export default suite;
