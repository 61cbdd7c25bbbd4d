// Deterministic test doubles for the telemetry core's ports (portable: used by
// the suites on Node and XS, and usable by a simulator). Virtual time only.
import type { HeaderList, RandomPort, TimerPort } from '../ports.js';
import type { TimeAuthority, TimeReading } from '../time/authority.js';

/** A TimerPort driven by advance(): callbacks run in due order, bounded per call. */
export class ManualTimer implements TimerPort {
  nowMs = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { due: number; callback: () => void }>();
  /** Delays asked for, in order (tests check backoff bounds on them). */
  readonly delays: number[] = [];

  set(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.delays.push(delayMs);
    this.pending.set(id, { due: this.nowMs + Math.max(0, delayMs), callback });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Runs every callback due within `ms` (at most maxCallbacks of them). Returns how many ran. */
  advance(ms: number, maxCallbacks = 100_000): number {
    const end = this.nowMs + ms;
    let ran = 0;
    for (; ran < maxCallbacks; ran++) {
      let bestId = -1;
      let best = Infinity;
      for (const [id, t] of this.pending) {
        if (t.due < best || (t.due === best && id < bestId)) {
          best = t.due;
          bestId = id;
        }
      }
      if (bestId < 0 || best > end) break;
      const t = this.pending.get(bestId)!;
      this.pending.delete(bestId);
      this.nowMs = Math.max(this.nowMs, t.due);
      t.callback();
    }
    if (ran < maxCallbacks) this.nowMs = Math.max(this.nowMs, end);
    return ran;
  }
}

/** A clock whose reading the test sets; records disruptions and Date votes. */
export class FakeClock implements TimeAuthority {
  reading: TimeReading = { state: 'SYNCED', earliest: 0, latest: 0, bound: 0 };
  readonly disruptions: string[] = [];
  readonly votes: Array<{ source: string; date: string | null; sentMonoMs: number }> = [];
  /** signedAtMs of every acceptedSignature() call, in order. */
  readonly acceptedSignatures: number[] = [];
  constructor(private readonly timer: ManualTimer) {}

  /** Trusted at wall time `ms` (timer time + offset) with the given half-width. */
  set(state: string, wallMs: number, bound: number): void {
    this.reading = { state, earliest: wallMs - bound, latest: wallMs + bound, bound };
  }
  now(): TimeReading {
    return { ...this.reading };
  }
  markDisrupted(reason: string): void {
    this.disruptions.push(reason);
    this.reading = { state: 'DISRUPTED', earliest: this.reading.earliest, latest: Infinity, bound: Infinity };
  }
  monoNow(): number {
    return this.timer.nowMs;
  }
  addDateVote(source: string, headers: HeaderList, sentMonoMs: number): string {
    let date: string | null = null;
    for (const [k, v] of headers) if (k.toLowerCase() === 'date') date = v;
    this.votes.push({ source, date, sentMonoMs });
    return date === null ? 'no-date' : 'accepted';
  }
  acceptedSignature(signedAtMs: number): void {
    this.acceptedSignatures.push(signedAtMs);
  }
}

/** RandomPort returning a fixed byte (0x00: jitter 0; 0xFF: jitter near the ceiling) or a seeded stream. */
export class FakeRandom implements RandomPort {
  /** A test PRNG: never strong (tests that need a strong port say so). */
  strong = false;
  private x: number;
  constructor(
    private readonly fixed: number | null,
    seed = 1,
  ) {
    this.x = seed >>> 0 || 1;
  }
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      if (this.fixed !== null) bytes[i] = this.fixed;
      else {
        this.x ^= this.x << 13;
        this.x >>>= 0;
        this.x ^= this.x >>> 17;
        this.x ^= this.x << 5;
        this.x >>>= 0;
        bytes[i] = this.x & 0xff;
      }
    }
  }
}
