// Discrete-event scheduler for simulated worlds: one clock (simulated ms) for
// the device's ticks, its timers and every simulated peer's events. Events run
// in (due, insertion) order from a binary heap; nothing reads a real clock, so
// a run is a pure function of its seed. Portable (Node and XS): no platform API.
//
// Every callback the device gave us runs through `guard`, which turns an
// exception into a recorded escape instead of unwinding the scheduler: the
// invariant checks then name it, with the simulated time.
import type { TickSource, TimerPort } from '../../../src/ports.js';

export class SimEvent {
  due = 0;
  seq = 0;
  fn: (() => void) | null = null;
  /** Where the callback came from (device timer, sim peer), for escape reports. */
  where = '';
}

export interface Escape {
  where: string;
  atMs: number;
  error: string;
}

/** Escapes kept in full (the count goes on): bounded, so a storm cannot grow the heap. */
export const MAX_KEPT_ESCAPES = 8;
/** Bound on events per run() call: a runaway loop fails instead of hanging. */
export const MAX_EVENTS_PER_RUN = 5_000_000;

export class SimScheduler implements TickSource, TimerPort {
  readonly ticksPerSecond = 1000;
  readonly wrapBits = 0;
  /** Simulated ms since the start of the world. */
  nowMs = 0;
  private heap: SimEvent[] = [];
  private nextSeq = 0;
  private cancelled = 0;
  /** Free list of spent events (keeps the heap flat over a long soak). */
  private readonly spare: SimEvent[] = [];
  escapes = 0;
  readonly keptEscapes: Escape[] = [];
  /** Live device timers (set and neither fired nor cleared). */
  deviceTimers = 0;
  maxDeviceTimers = 0;
  eventsRun = 0;

  ticks(): number {
    return this.nowMs;
  }

  // ---- TimerPort (the device's timers) ----

  set(callback: () => void, delayMs: number): unknown {
    const d = typeof delayMs === 'number' && delayMs > 0 ? delayMs : 0;
    const e = this.post(d, callback, 'timer');
    this.deviceTimers++;
    if (this.deviceTimers > this.maxDeviceTimers) this.maxDeviceTimers = this.deviceTimers;
    return e;
  }

  clear(handle: unknown): void {
    if (!(handle instanceof SimEvent) || handle.fn === null) return;
    if (handle.where === 'timer') this.deviceTimers--;
    handle.fn = null;
    this.cancelled++;
    // Lazy deletion; compact when cancelled events dominate, so cleared deadlines do not pile up.
    if (this.cancelled > 64 && this.cancelled * 2 > this.heap.length) this.compact();
  }

  // ---- the simulation's own events ----

  /** Runs `fn` after `delayMs` of simulated time. */
  post(delayMs: number, fn: () => void, where: string): SimEvent {
    const e = this.spare.pop() ?? new SimEvent();
    e.due = this.nowMs + (delayMs > 0 ? delayMs : 0);
    e.seq = this.nextSeq++;
    e.fn = fn;
    e.where = where;
    this.push(e);
    return e;
  }

  /** Calls into the device and records (never rethrows) what escapes. */
  guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.escapes++;
      if (this.keptEscapes.length < MAX_KEPT_ESCAPES) {
        const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.keptEscapes.push({ where, atMs: this.nowMs, error });
      }
    }
  }

  /** Runs every event due up to `untilMs` (absolute simulated ms), then sets the clock there. */
  runUntil(untilMs: number): void {
    for (let n = 0; n < MAX_EVENTS_PER_RUN; n++) {
      const top = this.heap[0];
      if (top === undefined || top.due > untilMs) {
        if (untilMs > this.nowMs) this.nowMs = untilMs;
        return;
      }
      this.pop();
      const fn = top.fn;
      const where = top.where;
      top.fn = null;
      this.spare.push(top);
      if (fn === null) {
        this.cancelled--;
        continue;
      }
      if (top.due > this.nowMs) this.nowMs = top.due;
      if (where === 'timer') this.deviceTimers--;
      this.eventsRun++;
      this.guard(where, fn);
    }
    throw new Error(`SimScheduler: more than ${MAX_EVENTS_PER_RUN} events before t=${untilMs} ms (a runaway loop?) at t=${this.nowMs}`);
  }

  get pending(): number {
    return this.heap.length - this.cancelled;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(e: SimEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      const t = h[i]!;
      h[i] = h[p]!;
      h[p] = t;
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    this.sift(0);
  }

  private sift(start: number): void {
    const h = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      const t = h[i]!;
      h[i] = h[m]!;
      h[m] = t;
      i = m;
    }
  }

  private compact(): void {
    const kept: SimEvent[] = [];
    for (const e of this.heap) {
      if (e.fn !== null) kept.push(e);
      else this.spare.push(e);
    }
    this.heap = kept;
    this.cancelled = 0;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.sift(i);
  }
}

/**
 * Seeded PRNG (mulberry32) for the whole world: the device's RandomPort and
 * every fault decision draw from their own instances. Kept apart from the
 * tests' SeededRandom (test/harness/fakes.ts) so that recorded SOAK_SEED
 * values keep replaying the same runs.
 */
export class SimRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.u32() & 0xff;
  }
}

/**
 * The device's RandomPort in the simulation. TEST DOUBLE: a seeded PRNG that
 * claims `strong` only so that the agent runs as in production (it refuses a
 * weak port outside development mode); it is not a CSPRNG and never belongs
 * on a device.
 */
export class SimStrongRandom {
  readonly strong = true;
  private readonly prng: SimRandom;
  constructor(seed: number) {
    this.prng = new SimRandom(seed);
  }
  fill(bytes: Uint8Array): void {
    this.prng.fill(bytes);
  }
}
