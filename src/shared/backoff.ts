// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
// Backoff And Jitter"): delay = random(0, min(cap, base * 2^attempt)).
import type { RandomPort } from '../ports.js';

export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_CAP_MS = 5 * 60_000;
/** Exponent bound: 2^30 * base is far above any sane cap. */
const MAX_EXPONENT = 30;

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: RandomPort;
  private readonly bytes = new Uint8Array(4);
  /** Consecutive failures so far. */
  attempt = 0;

  constructor(random: RandomPort, baseMs = DEFAULT_BACKOFF_BASE_MS, capMs = DEFAULT_BACKOFF_CAP_MS) {
    if (!(baseMs > 0 && capMs >= baseMs && Number.isFinite(capMs))) throw new RangeError('backoff: need 0 < base <= cap < Infinity');
    this.random = random;
    this.baseMs = baseMs;
    this.capMs = capMs;
  }

  /** Upper end of the next delay's range. */
  ceiling(): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, MAX_EXPONENT));
  }

  /** Delay for the next try (uniform in [0, ceiling)), then counts the failure. */
  next(): number {
    const top = this.ceiling();
    this.attempt++;
    return Math.floor(this.uniform() * top);
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Uniform in [0, 1) from 32 random bits. */
  uniform(): number {
    this.random.fill(this.bytes);
    const b = this.bytes;
    return ((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0) / 4294967296;
  }
}
