// Monotonic millisecond clock over a raw TickSource.
//
// Device counters wrap (ESP32/Pico `Time.ticks` is a signed 32-bit ms count
// that wraps after ~24.8 days; a 32-bit microsecond counter wraps after ~71
// minutes), and on the Moddable Linux simulator `Time.ticks` is wall-clock
// time, which can step backwards or jump. This clock turns raw ticks into a
// never-decreasing millisecond count and reports anything suspicious as a
// *disruption*: the secure clock then stops trusting every anchor taken on
// the old timeline.
//
// Wrap handling: the step between two reads is taken modulo 2^wrapBits. A
// step in the upper half of the range is a backwards step (a counter cannot
// advance by more than half its range between reads if it is read at least
// that often). So whoever owns the clock must read it at least once per half
// range; a longer gap is indistinguishable from ticks going backwards.
import type { TickSource } from '../ports.js';
import { TimeError, requireNumber } from './errors.js';

export type MonotonicDisruption = 'ticks-backwards' | 'ticks-jump';

export interface MonotonicOptions {
  /**
   * A forward step larger than this between two reads is a jump (a
   * wall-clock tick source being set), not elapsed time. Default: Infinity
   * (device counters do not jump). Set it on the simulator, where ticks are
   * wall-clock, to a little more than the longest gap between reads.
   */
  maxStepMs?: number;
}

/** Largest counter width we accept: beyond 53 bits, doubles lose integer precision. */
export const MAX_WRAP_BITS = 53;

export class MonotonicClock {
  readonly source: TickSource;
  /** Duration of one tick in ms: the resolution added to every error bound. */
  readonly resolutionMs: number;
  readonly maxStepMs: number;
  private readonly range: number;
  private readonly halfRange: number;
  private lastRaw: number;
  private elapsedTicks = 0;
  /** Number of disruptions seen so far; anchors remember it to detect a change. */
  disruptions = 0;
  lastDisruption: MonotonicDisruption | null = null;

  constructor(source: TickSource, options: MonotonicOptions = {}) {
    requireNumber('ticksPerSecond', source.ticksPerSecond, 1, 1e12);
    requireNumber('wrapBits', source.wrapBits, 0, MAX_WRAP_BITS);
    if (source.wrapBits !== 0 && source.wrapBits < 8) throw new TimeError('invalid-option', 'wrapBits must be 0 or at least 8');
    this.source = source;
    this.resolutionMs = 1000 / source.ticksPerSecond;
    this.maxStepMs = options.maxStepMs === undefined ? Infinity : options.maxStepMs;
    if (!(this.maxStepMs > 0)) throw new TimeError('invalid-option', 'maxStepMs must be positive');
    this.range = source.wrapBits === 0 ? 0 : 2 ** source.wrapBits;
    this.halfRange = this.range / 2;
    this.lastRaw = this.readRaw();
  }

  private readRaw(): number {
    const raw = this.source.ticks();
    if (typeof raw !== 'number' || !Number.isFinite(raw)) return this.lastRaw;
    return raw;
  }

  /** Milliseconds since construction; never decreases. */
  nowMs(): number {
    const raw = this.readRaw();
    let step = raw - this.lastRaw;
    this.lastRaw = raw;
    if (this.range !== 0) {
      // Signed counters (Moddable's Time.ticks goes negative) and unsigned
      // ones both reduce to a step in [0, range).
      // Never form step + range when step >= 0: above 2^53 the sum is inexact.
      step %= this.range;
      if (step < 0) step += this.range;
      if (step >= this.halfRange) return this.disrupt('ticks-backwards');
    } else if (step < 0) {
      return this.disrupt('ticks-backwards');
    }
    if (step * this.resolutionMs > this.maxStepMs) return this.disrupt('ticks-jump');
    this.elapsedTicks += step;
    return this.elapsedTicks * this.resolutionMs;
  }

  private disrupt(reason: MonotonicDisruption): number {
    // The step is discarded: we cannot know how much real time passed, and
    // every anchor on the old timeline is void from now on.
    this.disruptions++;
    this.lastDisruption = reason;
    return this.elapsedTicks * this.resolutionMs;
  }
}
