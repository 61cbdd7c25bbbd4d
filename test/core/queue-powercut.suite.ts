// Power-cut tests of the persistent queue.
//
// 1. Every offset: a scripted workload (appends of varied sizes that wrap the
//    ring several times, acks, dead letters, the full policy) is first run
//    without a cut to learn what each step does; then, for EVERY budget of
//    byte operations B = 0 .. total, it is run again on fresh flash with the
//    power cut after B bytes programmed or erased, the queue is recovered and
//    the invariants are checked, then the recovered queue is used and drained.
// 2. A seeded random long run with many cuts, using a shadow queue (a copy
//    of the flash, reopened) to know what the interrupted step would have done.
//
// Invariants after a cut (expected values follow from the queue's contract,
// the model below is independent of the implementation):
//   - every record stored (append returned) and not acked/dead-lettered/dropped
//     is recovered with its exact payload;
//   - every recovered record is one of those, or the one whose append / ack /
//     drop was interrupted, with its exact payload (nothing corrupt, no ghosts);
//   - records come out in increasing sequence order;
//   - the next sequence number is above every number append ever returned.
import type { Check, PortableSuite } from '../harness/portable.js';
import { SeededRandom } from '../harness/fakes.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { PersistentQueue, RecordRef, type FullPolicy } from '../../src/telemetry/queue.js';
import { PowerCut, QueueError } from '../../src/telemetry/errors.js';
import type { FlashPort } from '../../src/ports.js';

/**
 * A flash with a power switch: MemoryFlash here; the Pico W store over its C
 * region code runs the same cases (test/moddable-pico.test.ts).
 */
export interface PowerCutMedium {
  readonly flash: FlashPort;
  /** Power fails after `units` more byte operations (a byte programmed or erased is one). */
  cutPowerAfter(units: number): void;
  powerOn(): void;
  /** Byte operations so far, and erases so far. */
  cost(): number;
  blocksErased(): number;
  image(): Uint8Array;
  load(image: Uint8Array): void;
}
export type MediumFactory = (geometry: { blockSize: number; blockCount: number }) => PowerCutMedium;

function memoryMedium(geometry: { blockSize: number; blockCount: number }): PowerCutMedium {
  const flash = new MemoryFlash(geometry);
  return {
    flash,
    cutPowerAfter: (units) => flash.cutPowerAfter(units),
    powerOn: () => flash.powerOn(),
    cost: () => flash.bytesWritten + flash.blocksErased * geometry.blockSize,
    blocksErased: () => flash.blocksErased,
    image: () => flash.bytes.slice(),
    load: (image) => flash.bytes.set(image),
  };
}

type Step = { op: 'append'; size: number } | { op: 'ack' } | { op: 'dead' };

const onXs = typeof (globalThis as { issueCommand?: unknown }).issueCommand === 'function';

/** Deterministic payload for the n-th append of a run. */
function payloadFor(n: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (n * 37 + i * 11 + 5) & 0xff;
  return p;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the queue must hold: live records by sequence number. */
class Model {
  live = new Map<number, Uint8Array>();
  maxIssued = -1;
  clone(): Model {
    const m = new Model();
    m.live = new Map(this.live);
    m.maxIssued = this.maxIssued;
    return m;
  }
  oldest(): number {
    let min = -1;
    for (const s of this.live.keys()) if (min < 0 || s < min) min = s;
    return min;
  }
  /** FIFO contract: the full policy drops the oldest live records. */
  drop(count: number): number[] {
    const keys = Array.from(this.live.keys()).sort((a, b) => a - b).slice(0, count);
    for (const k of keys) this.live.delete(k);
    return keys;
  }
}

/** One step applied to queue and model; returns what became uncertain if it were cut. */
function apply(q: PersistentQueue, m: Model, step: Step, n: number): Map<number, Uint8Array> {
  const touched = new Map<number, Uint8Array>();
  if (step.op === 'append') {
    const payload = payloadFor(n, step.size);
    const droppedBefore = q.stats().dropped;
    let seq: number;
    try {
      seq = q.append(payload);
    } catch (e) {
      if (e instanceof QueueError && e.code === 'queue-full') return touched;
      throw e;
    }
    for (const s of m.drop(q.stats().dropped - droppedBefore)) touched.set(s, m.live.get(s) ?? new Uint8Array(0));
    m.live.set(seq, payload);
    if (seq > m.maxIssued) m.maxIssued = seq;
    touched.set(seq, payload);
    return touched;
  }
  const ref = new RecordRef();
  if (!q.first(ref)) return touched;
  if (ref.seq !== m.oldest()) throw new Error(`queue front ${ref.seq} is not the model's oldest ${m.oldest()}`);
  touched.set(ref.seq, m.live.get(ref.seq)!);
  if (step.op === 'ack') q.ack(ref);
  else q.deadLetter(ref);
  m.live.delete(ref.seq);
  return touched;
}

/** Records of a recovered queue, in iteration order. */
function contents(q: PersistentQueue): Array<{ seq: number; payload: Uint8Array }> {
  const out: Array<{ seq: number; payload: Uint8Array }> = [];
  const ref = new RecordRef();
  for (let ok = q.first(ref); ok; ok = q.next(ref)) {
    const payload = new Uint8Array(ref.length);
    q.read(ref, payload);
    out.push({ seq: ref.seq, payload });
  }
  return out;
}

/**
 * Checks the invariants; `uncertain` holds the records touched by the
 * interrupted step (appended, acked, dead-lettered or dropped by it).
 */
function checkRecovered(t: Check, q: PersistentQueue, model: Model, uncertain: Map<number, Uint8Array>, where: string): Model {
  const got = contents(q);
  const recovered = new Model();
  recovered.maxIssued = model.maxIssued;
  let last = -1;
  for (const r of got) {
    t.ok(r.seq > last, `${where}: sequence order`);
    last = r.seq;
    const expected = model.live.get(r.seq) ?? uncertain.get(r.seq);
    t.ok(expected !== undefined, `${where}: record ${r.seq} should not exist`);
    t.ok(same(r.payload, expected!), `${where}: record ${r.seq} payload intact`);
    recovered.live.set(r.seq, r.payload);
    if (r.seq > recovered.maxIssued) recovered.maxIssued = r.seq;
  }
  for (const s of model.live.keys()) {
    if (!uncertain.has(s)) t.ok(recovered.live.has(s), `${where}: stored record ${s} lost`);
  }
  t.equal(q.stats().depth, got.length, `${where}: depth matches the records found`);
  t.ok(q.stats().nextSeq > model.maxIssued, `${where}: next sequence ${q.stats().nextSeq} above ${model.maxIssued}`);
  return recovered;
}

/** After recovery the queue must keep working: append, then drain everything in order. */
function useAndDrain(t: Check, flash: FlashPort, q: PersistentQueue, model: Model, policy: FullPolicy, where: string): void {
  for (let i = 0; i < 3; i++) apply(q, model, { op: 'append', size: 7 + i }, 1000 + i);
  const ref = new RecordRef();
  let count = 0;
  for (let ok = q.first(ref); ok; ok = q.first(ref)) {
    t.equal(ref.seq, model.oldest(), `${where}: drain order`);
    const buf = new Uint8Array(ref.length);
    q.read(ref, buf);
    t.ok(same(buf, model.live.get(ref.seq)!), `${where}: drained payload`);
    q.ack(ref);
    model.live.delete(ref.seq);
    t.ok(++count < 10000, 'drain is bounded');
  }
  t.equal(model.live.size, 0, `${where}: model drained too`);
  const again = new PersistentQueue(flash, { whenFull: policy });
  t.equal(again.stats().depth, 0, `${where}: empty after reopening`);
  t.ok(again.stats().nextSeq > model.maxIssued, `${where}: monotonic after drain`);
}

function scriptedWorkload(appends: number): Step[] {
  const sizes = [0, 1, 17, 40, 3, 64, 9, 25]; // 64 = largest payload for 96-byte blocks - 28
  const steps: Step[] = [];
  for (let i = 0; i < appends; i++) {
    steps.push({ op: 'append', size: sizes[i % sizes.length]! });
    if (i % 3 === 2) steps.push({ op: 'ack' });
    if (i % 7 === 6) steps.push({ op: 'dead' });
  }
  steps.push({ op: 'ack' }, { op: 'ack' });
  return steps;
}

const GEOMETRY = { blockSize: 96, blockCount: 3 };

function everyOffset(t: Check, make: MediumFactory, policy: FullPolicy, appends: number): number {
  const steps = scriptedWorkload(appends);
  // Reference run without a cut: the total cost in byte operations, and the
  // records each step touches (the queue is deterministic, so a cut run does
  // exactly the same up to the cut).
  const refMedium = make(GEOMETRY);
  const refQueue = new PersistentQueue(refMedium.flash, { whenFull: policy });
  const refModel = new Model();
  const touched = steps.map((s, i) => apply(refQueue, refModel, s, i));
  const total = refMedium.cost();
  t.ok(refMedium.blocksErased() >= GEOMETRY.blockCount, 'the workload wraps the ring');
  if (policy === 'drop-oldest') t.ok(refQueue.stats().dropped > 0, 'the workload drops when full');
  else t.ok(refQueue.stats().rejected > 0, 'the workload is rejected when full');
  for (let budget = 0; budget <= total; budget++) {
    const medium = make(GEOMETRY);
    const flash = medium.flash;
    const q = new PersistentQueue(flash, { whenFull: policy });
    let model = new Model();
    medium.cutPowerAfter(budget);
    let uncertain = new Map<number, Uint8Array>();
    let cut = false;
    for (let i = 0; i < steps.length && !cut; i++) {
      const before = model.clone();
      try {
        apply(q, model, steps[i]!, i);
      } catch (e) {
        if (!(e instanceof PowerCut)) throw e;
        cut = true;
        uncertain = touched[i]!;
        model = before;
      }
    }
    t.equal(cut, budget < total, `budget ${budget}: cut happens exactly when the budget is short`);
    medium.powerOn();
    const recovered = new PersistentQueue(flash, { whenFull: policy });
    const where = `${policy} budget ${budget}/${total}`;
    const next = checkRecovered(t, recovered, model, uncertain, where);
    useAndDrain(t, flash, recovered, next, policy, where);
  }
  return total;
}

/** Uniform numbers in [0, 1) from the tests' seeded generator: the same on Node and XS. */
function rng(seed: number): () => number {
  const g = new SeededRandom(seed);
  return () => g.u32() / 4294967296;
}

/**
 * Random steps with random cuts (some during recovery-free reuse right after
 * a reboot, so cuts hit a recovered queue too). Before each step the flash
 * image is copied; when the step is cut, the same step is run uncut on a
 * queue opened from the copy to learn which records it touches.
 */
function randomRun(t: Check, make: MediumFactory, seed: number, stepsCount: number, policy: FullPolicy): { cuts: number } {
  const geometry = { blockSize: 128, blockCount: 4 };
  const next = rng(seed);
  const medium = make(geometry);
  const flash = medium.flash;
  let q = new PersistentQueue(flash, { whenFull: policy });
  let model = new Model();
  let cuts = 0;
  for (let i = 0; i < stepsCount; i++) {
    const r = next();
    const step: Step = r < 0.55 ? { op: 'append', size: Math.floor(next() * 101) } : r < 0.93 ? { op: 'ack' } : { op: 'dead' };
    const image = medium.image();
    const before = model.clone();
    if (next() < 0.08) medium.cutPowerAfter(Math.floor(next() * 140));
    try {
      apply(q, model, step, i);
      medium.powerOn(); // cancel a budget that was not used up
    } catch (e) {
      if (!(e instanceof PowerCut)) throw e;
      cuts++;
      const shadow = make(geometry);
      shadow.load(image);
      const shadowModel = before.clone();
      const uncertain = apply(new PersistentQueue(shadow.flash, { whenFull: policy }), shadowModel, step, i);
      medium.powerOn();
      q = new PersistentQueue(flash, { whenFull: policy });
      model = checkRecovered(t, q, before, uncertain, `seed ${seed} step ${i}`);
    }
  }
  useAndDrain(t, flash, q, model, policy, `seed ${seed} end`);
  return { cuts };
}

/** The cases, on any medium; `small` shortens them (the XS engine, a slower store). */
export function powerCutCases(make: MediumFactory, small: boolean): Array<{ name: string; run(t: Check): void }> {
  return [
    {
      name: 'every power-cut offset of a scripted workload (drop-oldest)',
      run(t) {
        everyOffset(t, make, 'drop-oldest', small ? 14 : 40);
      },
    },
    {
      name: 'every power-cut offset of a scripted workload (reject-new)',
      run(t) {
        everyOffset(t, make, 'reject-new', small ? 18 : 24);
      },
    },
    {
      name: 'seeded random long run with random power cuts',
      run(t) {
        const seeds = small ? [7] : [7, 1234, 99991];
        let cuts = 0;
        for (const seed of seeds) cuts += randomRun(t, make, seed, small ? 600 : 3000, seed % 2 ? 'drop-oldest' : 'reject-new').cuts;
        t.ok(cuts >= seeds.length * 10, `enough cuts happened (${cuts})`);
      },
    },
  ];
}

const suite: PortableSuite = () => powerCutCases(memoryMedium, onXs);
export default suite;
