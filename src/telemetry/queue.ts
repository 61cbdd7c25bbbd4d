// Crash-safe persistent FIFO of records on a FlashPort: a log-structured ring
// of blocks (layout in queue-format.ts).
//
// Guarantees (power may fail at any byte of any write or erase):
// - a record whose append() returned is found again after recovery, intact,
//   until it is acknowledged, dead-lettered or dropped by the full policy;
// - a recovered record is never corrupt (length + CRC-32 over length, sequence
//   number and payload); a torn append is either complete or invisible;
// - an ack whose ack() returned stays persisted (one state byte 0xFF -> 0x00);
//   an ack cut short may leave the record live: it is sent again (at-least-once);
// - sequence numbers increase across reboots: the block being erased is never
//   the newest one, and every block header carries the next sequence number.
// Blocks are appended in ring order; a block is erased only when it becomes
// the new head. When the ring is full, policy 'drop-oldest' erases the oldest
// block (its live records are counted as dropped), policy 'reject-new' refuses
// the append (counted). The queue stores payloads only, never signed requests.
//
// After any exception from the flash (e.g. a power cut) the instance refuses
// every call (QueueError 'queue-failed') until reopen() runs the recovery scan
// again on the same flash: its in-memory view may no longer match the medium.
// The owner decides when (QueueReopener in queue-reopen.ts retries with
// backoff); onFailure tells it that the queue just failed.
import { crc32Finish, crc32Update, CRC32_INIT } from '../shared/crc32.js';
import { QueueError } from './errors.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  MAX_PAYLOAD_FIELD,
  MAX_SEQ,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
  STATE_ACKED,
  STATE_DEAD_LETTER,
  STATE_LIVE,
  readU16,
  readU32,
  writeU16,
  writeU32,
} from './queue-format.js';
import type { FlashPort } from '../ports.js';

export type FullPolicy = 'drop-oldest' | 'reject-new';

export interface QueueOptions {
  /** What append() does when every block holds live records. */
  whenFull: FullPolicy;
  /** Largest payload accepted. Default and maximum: what fits in one block (and in the u16 length). */
  maxPayloadBytes?: number;
  /** Largest number of blocks supported (bounds RAM: 8 bytes per block). Default 1024. */
  maxBlocks?: number;
  /** Called (once per failure) when a flash exception puts the queue in the failed state. Must not throw. */
  onFailure?: () => void;
}

/** What copyFrom() did. */
export interface CopyResult {
  /** Live records copied, sequence numbers kept. */
  live: number;
  /** Dead letters copied (still dead letters). */
  deadLetters: number;
  /** Live records that did not fit (drop-oldest: the oldest ones; counted in stats().dropped too). */
  dropped: number;
  /** Records of the source that failed their CRC (bit rot): undeliverable, not copied. */
  corrupt: number;
}

/** Default bound on blocks per queue (per-block RAM is 8 bytes). */
export const DEFAULT_MAX_BLOCKS = 1024;
/** Size of the read buffer used to CRC payloads in chunks (bounds RAM). */
export const SCAN_CHUNK_BYTES = 64;

/** A caller-owned cursor naming one record; filled by first()/next(). */
export class RecordRef {
  block = -1;
  blockSeq = 0;
  offset = 0;
  length = 0;
  seq = 0;
  crc = 0;
  /** State byte when it was found (STATE_LIVE for first()/next()). */
  state = 0;
}

export interface QueueStats {
  /** Live records (not yet acknowledged). */
  depth: number;
  /** Dead-lettered records still stored (recounted at recovery). */
  deadLetters: number;
  /** Live records lost to 'drop-oldest' since this instance started. */
  dropped: number;
  /** Appends refused by 'reject-new' since this instance started. */
  rejected: number;
  /** Sequence number the next append will get. */
  nextSeq: number;
  /** Blocks ignored at recovery because they were torn or did not chain (reused later). */
  discardedBlocks: number;
  /** Records found torn or corrupt at recovery (they were never acknowledged as stored). */
  tornRecords: number;
  /** Flash exceptions that put this instance in the failed state. */
  failures: number;
  /** Successful reopen() calls after a failure. */
  reopens: number;
  /** True while the queue refuses every call (after a flash exception, until a reopen succeeds). */
  failed: boolean;
}

export class PersistentQueue {
  readonly flash: FlashPort;
  readonly whenFull: FullPolicy;
  readonly maxPayloadBytes: number;
  private readonly blockSize: number;
  private readonly blockCount: number;
  /** blockSeq of each block in the queue's chain, 0 for a free (or garbage) block. */
  private readonly blockSeqOf: Uint32Array;
  /** End of the last valid record in each chained block. */
  private readonly blockEnd: Uint32Array;
  private readonly header = new Uint8Array(RECORD_HEADER_BYTES);
  private readonly chunk = new Uint8Array(SCAN_CHUNK_BYTES);
  private head = -1;
  private tail = -1;
  private headOffset = 0;
  /** False when the head block ends in a torn record: the next append opens a new block. */
  private headOpen = false;
  private nextBlockSeq = 1;
  private nextSeq = 0;
  private frontBlock = -1;
  private frontOffset = 0;
  private live = 0;
  private dead = 0;
  private dropped = 0;
  private rejected = 0;
  private discardedBlocks = 0;
  private tornRecords = 0;
  private failedState = false;
  private failures = 0;
  private reopens = 0;
  private readonly onFailure: (() => void) | null;

  /** Opens the queue and runs the recovery scan. */
  constructor(flash: FlashPort, options: QueueOptions) {
    const maxBlocks = options.maxBlocks ?? DEFAULT_MAX_BLOCKS;
    const fit = Math.min(flash.blockSize - BLOCK_HEADER_BYTES - RECORD_HEADER_BYTES, MAX_PAYLOAD_FIELD);
    if (!(flash.blockCount >= 2 && flash.blockCount <= maxBlocks)) {
      throw new QueueError('bad-config', `blockCount must be in [2, ${maxBlocks}]`);
    }
    if (!(fit >= 1)) throw new QueueError('bad-config', 'blockSize too small for one record');
    const maxPayload = options.maxPayloadBytes ?? fit;
    if (!(Number.isInteger(maxPayload) && maxPayload >= 1 && maxPayload <= fit)) {
      throw new QueueError('bad-config', `maxPayloadBytes must be in [1, ${fit}]`);
    }
    if (options.whenFull !== 'drop-oldest' && options.whenFull !== 'reject-new') {
      throw new QueueError('bad-config', 'whenFull must be drop-oldest or reject-new');
    }
    this.flash = flash;
    this.whenFull = options.whenFull;
    this.maxPayloadBytes = maxPayload;
    this.blockSize = flash.blockSize;
    this.blockCount = flash.blockCount;
    this.blockSeqOf = new Uint32Array(this.blockCount);
    this.blockEnd = new Uint32Array(this.blockCount);
    this.onFailure = options.onFailure ?? null;
    this.guard(() => this.recover());
  }

  /** True while every call is refused (a flash exception happened; reopen() has not succeeded since). */
  get failed(): boolean {
    return this.failedState;
  }

  /**
   * Runs the recovery scan again on the same flash and, when it completes,
   * accepts calls again. Returns false (still failed, counted) when the flash
   * throws again. Cursors from before stay valid if their block is still
   * chained (blocks keep their generation on flash). Never throws.
   */
  reopen(): boolean {
    this.blockSeqOf.fill(0);
    this.blockEnd.fill(0);
    this.head = -1;
    this.tail = -1;
    this.headOffset = 0;
    this.headOpen = false;
    this.nextBlockSeq = 1;
    this.nextSeq = 0;
    this.frontBlock = -1;
    this.frontOffset = 0;
    this.live = 0;
    this.dead = 0;
    // dropped/rejected are counters since the instance started: kept; the
    // recovery counters describe the last scan.
    this.discardedBlocks = 0;
    this.tornRecords = 0;
    this.failedState = true;
    try {
      this.recover();
    } catch {
      this.failures++;
      return false;
    }
    this.failedState = false;
    this.reopens++;
    return true;
  }

  /** Bytes of RAM held by this instance's buffers (fields not included). */
  get bufferBytes(): number {
    return this.blockSeqOf.byteLength + this.blockEnd.byteLength + this.header.byteLength + this.chunk.byteLength;
  }

  stats(): QueueStats {
    return {
      depth: this.live,
      deadLetters: this.dead,
      dropped: this.dropped,
      rejected: this.rejected,
      nextSeq: this.nextSeq,
      discardedBlocks: this.discardedBlocks,
      tornRecords: this.tornRecords,
      failures: this.failures,
      reopens: this.reopens,
      failed: this.failedState,
    };
  }

  get depth(): number {
    return this.live;
  }

  /**
   * Stores bytes[start, end) as a new record and returns its sequence number
   * once it is durable. Throws QueueError 'record-too-large', 'queue-full'
   * (reject-new policy) or 'sequence-exhausted' without changing anything.
   */
  append(bytes: Uint8Array, start = 0, end = bytes.length): number {
    this.checkUsable();
    const length = end - start;
    if (!(length >= 0 && length <= this.maxPayloadBytes)) {
      throw new QueueError('record-too-large', `payload of ${length} bytes exceeds ${this.maxPayloadBytes}`);
    }
    if (this.nextSeq >= MAX_SEQ) throw new QueueError('sequence-exhausted', 'no sequence numbers left');
    return this.guard(() => this.put(this.nextSeq, STATE_LIVE, bytes, start, end));
  }

  /**
   * Copies the live records and dead letters of `source` (another queue, e.g.
   * over the image of the old geometry) into this queue, which must be empty
   * and never used: same order, same sequence numbers, dead letters stay dead
   * letters; afterwards this queue numbers on from source's nextSeq. When they
   * do not all fit, the full policy decides: 'drop-oldest' keeps the newest
   * (the rest counted in the result and in stats().dropped); 'reject-new'
   * refuses with QueueError 'queue-full' (nothing of the source is changed;
   * this queue's flash then holds a partial copy the caller must discard).
   * A record larger than this queue's maxPayloadBytes is refused likewise
   * ('record-too-large'): stored data is never cut.
   */
  copyFrom(source: PersistentQueue): CopyResult {
    this.checkUsable();
    source.checkUsable();
    if (this.head >= 0 || this.nextSeq !== 0) throw new QueueError('not-empty', 'copyFrom needs a fresh queue');
    const result: CopyResult = { live: 0, deadLetters: 0, dropped: 0, corrupt: 0 };
    const ref = new RecordRef();
    const buf = new Uint8Array(source.maxPayloadBytes);
    const droppedBefore = this.dropped;
    let last = -1;
    for (let ok = source.firstStored(ref); ok; ok = source.nextStored(ref)) {
      if (ref.length > this.maxPayloadBytes) throw new QueueError('record-too-large', `record ${ref.seq} has ${ref.length} bytes, more than ${this.maxPayloadBytes}`);
      try {
        source.read(ref, buf, 0);
      } catch (e) {
        if (!(e instanceof QueueError && e.code === 'record-corrupt')) throw e;
        result.corrupt++;
        continue;
      }
      this.guard(() => this.put(ref.seq, ref.state, buf, 0, ref.length));
      if (ref.state === STATE_LIVE) result.live++;
      else result.deadLetters++;
      last = ref.seq;
    }
    // Acknowledged records are not copied, but their numbers stay used: an
    // empty acknowledged record carries the sequence floor (the cloud may
    // deduplicate on seq, so numbers are never given out twice).
    const floor = source.nextSeq;
    if (floor > 0 && last < floor - 1) this.guard(() => this.put(floor - 1, STATE_ACKED, buf, 0, 0));
    result.dropped = this.dropped - droppedBefore;
    result.live -= result.dropped;
    return result;
  }

  /** Writes one record with sequence number `seq` (>= nextSeq) and state `state`; returns seq. */
  private put(seq: number, state: number, bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    this.nextSeq = seq;
    if (this.head < 0 || !this.headOpen || this.headOffset + RECORD_HEADER_BYTES + length > this.blockSize) {
      this.openNewHead();
    }
    const h = this.header;
    h[0] = RECORD_MAGIC;
    h[1] = state;
    writeU16(h, 2, length);
    writeU32(h, 4, seq);
    const crc = crc32Finish(crc32Update(crc32Update(CRC32_INIT, h, 2, 8), bytes, start, end));
    writeU32(h, 8, crc);
    const at = this.head * this.blockSize + this.headOffset;
    // Header first, then payload: a cut anywhere leaves a CRC mismatch or
    // a length running into 0xFF bytes, both rejected by recovery.
    this.flash.write(at, h, 0, RECORD_HEADER_BYTES);
    if (length > 0) this.flash.write(at + RECORD_HEADER_BYTES, bytes, start, length);
    this.headOffset += RECORD_HEADER_BYTES + length;
    this.blockEnd[this.head] = this.headOffset;
    this.nextSeq = seq + 1;
    if (state === STATE_LIVE) {
      this.live++;
      if (this.frontBlock < 0) this.setFront(this.head, at - this.head * this.blockSize);
    } else if (state === STATE_DEAD_LETTER) {
      this.dead++;
    }
    return seq;
  }

  /** Fills `ref` with the oldest live record; false when there is none. */
  first(ref: RecordRef): boolean {
    this.checkUsable();
    if (this.frontBlock < 0 || this.live === 0) return false;
    const found = this.guard(() => this.scan(this.frontBlock, this.frontOffset, ref));
    if (found) this.setFront(ref.block, ref.offset);
    return found;
  }

  /** Fills `ref` with the live record after the one it names; false at the end. */
  next(ref: RecordRef): boolean {
    this.checkUsable();
    if (!this.stillStored(ref)) return this.first(ref);
    return this.guard(() => this.scan(ref.block, ref.offset + RECORD_HEADER_BYTES + ref.length, ref));
  }

  /**
   * Copies the payload of `ref` to into[start, start + ref.length) and checks
   * its CRC again (bit rot). Throws QueueError 'record-gone' or 'record-corrupt'.
   */
  read(ref: RecordRef, into: Uint8Array, start = 0): void {
    this.checkUsable();
    if (!this.stillStored(ref)) throw new QueueError('record-gone', `record ${ref.seq} was dropped`);
    if (into.length - start < ref.length) throw new QueueError('buffer-too-small', `need ${ref.length} bytes`);
    this.guard(() => {
      const at = ref.block * this.blockSize + ref.offset;
      this.flash.read(at + 2, this.header, 2, 6);
      this.flash.read(at + RECORD_HEADER_BYTES, into, start, ref.length);
    });
    const crc = crc32Finish(crc32Update(crc32Update(CRC32_INIT, this.header, 2, 8), into, start, start + ref.length));
    if (crc !== ref.crc) throw new QueueError('record-corrupt', `record ${ref.seq} fails its CRC`);
  }

  /** Marks the record acknowledged by the cloud. Returns false if it was no longer live. */
  ack(ref: RecordRef): boolean {
    return this.finish(ref, STATE_ACKED);
  }

  /** Moves the record to the dead letters (kept and counted until its block is reused). */
  deadLetter(ref: RecordRef): boolean {
    return this.finish(ref, STATE_DEAD_LETTER);
  }

  // ---- internals ----

  private finish(ref: RecordRef, state: number): boolean {
    this.checkUsable();
    if (!this.stillStored(ref)) return false;
    return this.guard(() => {
      const at = ref.block * this.blockSize + ref.offset;
      this.flash.read(at + 1, this.header, 1, 1);
      if (this.header[1] !== STATE_LIVE) return false;
      this.header[1] = state;
      this.flash.write(at + 1, this.header, 1, 1);
      this.live--;
      if (state === STATE_DEAD_LETTER) this.dead++;
      return true;
    });
  }

  private stillStored(ref: RecordRef): boolean {
    return ref.block >= 0 && ref.block < this.blockCount && ref.blockSeq !== 0 && this.blockSeqOf[ref.block] === ref.blockSeq;
  }

  private setFront(block: number, offset: number): void {
    this.frontBlock = block;
    this.frontOffset = offset;
  }

  /** Like first(), but dead letters are found too (ref.state tells which). */
  private firstStored(ref: RecordRef): boolean {
    if (this.tail < 0) return false;
    return this.guard(() => this.scan(this.tail, BLOCK_HEADER_BYTES, ref, true));
  }

  private nextStored(ref: RecordRef): boolean {
    return this.guard(() => this.scan(ref.block, ref.offset + RECORD_HEADER_BYTES + ref.length, ref, true));
  }

  /** Finds the first live record (or dead letter too, withDead) at or after (block, offset) in chain order. */
  private scan(block: number, offset: number, ref: RecordRef, withDead = false): boolean {
    let b = block;
    let o = offset;
    const h = this.header;
    // Bound: every block once, every record of it once.
    for (let blocks = 0; blocks < this.blockCount; blocks++) {
      const end = this.blockEnd[b]!;
      const limit = this.blockSize; // records are >= 12 bytes: at most blockSize/12 per block
      for (let steps = 0; o + RECORD_HEADER_BYTES <= end && steps < limit; steps++) {
        this.flash.read(b * this.blockSize + o, h, 0, RECORD_HEADER_BYTES);
        const length = readU16(h, 2);
        if (h[1] === STATE_LIVE || (withDead && h[1] === STATE_DEAD_LETTER)) {
          ref.state = h[1]!;
          ref.block = b;
          ref.blockSeq = this.blockSeqOf[b]!;
          ref.offset = o;
          ref.length = length;
          ref.seq = readU32(h, 4);
          ref.crc = readU32(h, 8);
          return true;
        }
        o += RECORD_HEADER_BYTES + length;
      }
      if (b === this.head) return false;
      b = (b + 1) % this.blockCount;
      if (this.blockSeqOf[b] === 0) return false;
      o = BLOCK_HEADER_BYTES;
    }
    return false;
  }

  /** Makes block head+1 the new head: applies the full policy, erases, writes its header. */
  private openNewHead(): void {
    if (this.nextBlockSeq >= MAX_SEQ) throw new QueueError('sequence-exhausted', 'no block sequence numbers left');
    const b = this.head < 0 ? 0 : (this.head + 1) % this.blockCount;
    if (this.blockSeqOf[b] !== 0) {
      // b is in the chain and follows the head in the ring: it is the tail.
      const { live, dead } = this.countStates(b);
      if (live > 0 && this.whenFull === 'reject-new') {
        this.rejected++;
        throw new QueueError('queue-full', 'queue is full (reject-new)');
      }
      this.dropped += live;
      this.live -= live;
      this.dead -= dead;
      this.blockSeqOf[b] = 0;
      this.tail = b === this.head ? -1 : (b + 1) % this.blockCount;
      if (this.frontBlock === b) {
        if (this.tail >= 0) this.setFront(this.tail, BLOCK_HEADER_BYTES);
        else this.frontBlock = -1;
      }
      this.flash.erase(b);
    } else if (!this.isErased(b)) {
      this.flash.erase(b);
    }
    const h = new Uint8Array(BLOCK_HEADER_BYTES);
    writeU32(h, 0, BLOCK_MAGIC);
    writeU32(h, 4, this.nextBlockSeq);
    writeU32(h, 8, this.nextSeq);
    writeU32(h, 12, crc32Finish(crc32Update(CRC32_INIT, h, 0, 12)));
    this.flash.write(b * this.blockSize, h, 0, BLOCK_HEADER_BYTES);
    this.blockSeqOf[b] = this.nextBlockSeq;
    this.nextBlockSeq++;
    this.blockEnd[b] = BLOCK_HEADER_BYTES;
    this.head = b;
    this.headOffset = BLOCK_HEADER_BYTES;
    this.headOpen = true;
    if (this.tail < 0) this.tail = b;
    if (this.frontBlock < 0) this.setFront(b, BLOCK_HEADER_BYTES);
  }

  private countStates(b: number): { live: number; dead: number } {
    let live = 0;
    let dead = 0;
    let o = BLOCK_HEADER_BYTES;
    const end = this.blockEnd[b]!;
    for (let steps = 0; o + RECORD_HEADER_BYTES <= end && steps < this.blockSize; steps++) {
      this.flash.read(b * this.blockSize + o, this.header, 0, RECORD_HEADER_BYTES);
      if (this.header[1] === STATE_LIVE) live++;
      else if (this.header[1] === STATE_DEAD_LETTER) dead++;
      o += RECORD_HEADER_BYTES + readU16(this.header, 2);
    }
    return { live, dead };
  }

  private isErased(b: number): boolean {
    return this.isErasedRange(b * this.blockSize, (b + 1) * this.blockSize);
  }

  private isErasedRange(from: number, to: number): boolean {
    for (let o = from; o < to; o += SCAN_CHUNK_BYTES) {
      const n = Math.min(SCAN_CHUNK_BYTES, to - o);
      this.flash.read(o, this.chunk, 0, n);
      for (let i = 0; i < n; i++) if (this.chunk[i] !== 0xff) return false;
    }
    return true;
  }

  /** Recovery scan: rebuilds the chain of blocks, counters and cursors from flash. */
  private recover(): void {
    const n = this.blockCount;
    const bh = new Uint8Array(BLOCK_HEADER_BYTES);
    let head = -1;
    let maxFirstSeq = 0;
    for (let b = 0; b < n; b++) {
      this.flash.read(b * this.blockSize, bh, 0, BLOCK_HEADER_BYTES);
      const ok = readU32(bh, 0) === BLOCK_MAGIC && readU32(bh, 12) === crc32Finish(crc32Update(CRC32_INIT, bh, 0, 12));
      const blockSeq = ok ? readU32(bh, 4) : 0;
      this.blockSeqOf[b] = blockSeq;
      if (blockSeq === 0) continue;
      if (blockSeq >= this.nextBlockSeq) this.nextBlockSeq = blockSeq + 1;
      if (head < 0 || blockSeq > this.blockSeqOf[head]!) head = b;
      const firstSeq = readU32(bh, 8);
      if (firstSeq > maxFirstSeq) maxFirstSeq = firstSeq;
    }
    this.nextSeq = maxFirstSeq;
    if (head < 0) return;
    // The chain: walk back from the head while generations decrease.
    let tail = head;
    for (let k = 1; k < n; k++) {
      const p = (tail - 1 + n) % n;
      if (this.blockSeqOf[p] !== 0 && this.blockSeqOf[p]! < this.blockSeqOf[tail]!) tail = p;
      else break;
    }
    const inChain = new Uint8Array(n);
    for (let b = tail, k = 0; k < n; k++, b = (b + 1) % n) {
      inChain[b] = 1;
      if (b === head) break;
    }
    for (let b = 0; b < n; b++) {
      if (this.blockSeqOf[b] !== 0 && !inChain[b]) {
        this.blockSeqOf[b] = 0;
        this.discardedBlocks++;
      }
    }
    this.head = head;
    this.tail = tail;
    let lastSeq = -1;
    for (let b = tail, k = 0; k < n; k++, b = (b + 1) % n) {
      const clean = this.scanBlockAtRecovery(b, lastSeq);
      lastSeq = clean.lastSeq;
      if (b === head) {
        this.headOffset = this.blockEnd[b]!;
        this.headOpen = clean.clean && this.isErasedRange(b * this.blockSize + this.headOffset, (b + 1) * this.blockSize);
        break;
      }
    }
    if (lastSeq + 1 > this.nextSeq) this.nextSeq = lastSeq + 1;
    this.setFront(tail, BLOCK_HEADER_BYTES);
  }

  /** Validates the records of one block; stops at free space or at the first bad record. */
  private scanBlockAtRecovery(b: number, prevSeq: number): { clean: boolean; lastSeq: number } {
    const h = this.header;
    const base = b * this.blockSize;
    let o = BLOCK_HEADER_BYTES;
    let lastSeq = prevSeq;
    let clean = true;
    for (let steps = 0; o + RECORD_HEADER_BYTES <= this.blockSize && steps < this.blockSize; steps++) {
      this.flash.read(base + o, h, 0, RECORD_HEADER_BYTES);
      let erased = true;
      for (let i = 0; i < RECORD_HEADER_BYTES; i++) if (h[i] !== 0xff) erased = false;
      if (erased) break;
      const length = readU16(h, 2);
      const seq = readU32(h, 4);
      if (h[0] !== RECORD_MAGIC || length > this.maxPayloadBytes || o + RECORD_HEADER_BYTES + length > this.blockSize || seq <= lastSeq) {
        clean = false;
        break;
      }
      let state = crc32Update(CRC32_INIT, h, 2, 8);
      const stored = readU32(h, 8);
      const liveState = h[1];
      for (let p = 0; p < length; p += SCAN_CHUNK_BYTES) {
        const m = Math.min(SCAN_CHUNK_BYTES, length - p);
        this.flash.read(base + o + RECORD_HEADER_BYTES + p, this.chunk, 0, m);
        state = crc32Update(state, this.chunk, 0, m);
      }
      if (crc32Finish(state) !== stored) {
        clean = false;
        break;
      }
      if (liveState === STATE_LIVE) this.live++;
      else if (liveState === STATE_DEAD_LETTER) this.dead++;
      lastSeq = seq;
      o += RECORD_HEADER_BYTES + length;
    }
    if (!clean) this.tornRecords++;
    this.blockEnd[b] = o;
    return { clean, lastSeq };
  }

  private checkUsable(): void {
    if (this.failedState) throw new QueueError('queue-failed', 'a flash operation failed earlier: reopen the queue');
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof QueueError) && !this.failedState) {
        this.failedState = true;
        this.failures++;
        if (this.onFailure !== null) {
          try {
            this.onFailure();
          } catch {
            // The owner's hook must not throw; the failure is counted either way.
          }
        }
      }
      throw e;
    }
  }
}
