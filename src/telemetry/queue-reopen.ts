// Brings failed queues back: after a flash exception a PersistentQueue refuses
// every call until reopen() re-runs its recovery scan. This driver retries
// that with capped exponential backoff and jitter (a flash that keeps failing
// is not hammered), on the owner's timer, and tells the owner when a queue is
// usable again (e.g. to wake the uploader). Bounded: one timer at a time.
import { Backoff } from '../shared/backoff.js';
import type { PersistentQueue } from './queue.js';
import type { RandomPort, TimerPort } from '../ports.js';

/** First reopen comes within this delay (full jitter: uniform in [0, base)). */
export const QUEUE_REOPEN_BASE_MS = 1000;
/** Longest wait between two reopen attempts. */
export const QUEUE_REOPEN_CAP_MS = 5 * 60_000;

export interface QueueReopenerOptions {
  queues: PersistentQueue[];
  timer: TimerPort;
  random: RandomPort;
  baseMs?: number;
  capMs?: number;
  /** A queue reopened (ok) or failed to (not ok). Exceptions from it are swallowed. */
  onAttempt?: (index: number, ok: boolean) => void;
}

export class QueueReopener {
  private readonly queues: PersistentQueue[];
  private readonly timer: TimerPort;
  private readonly backoff: Backoff;
  private readonly onAttempt: ((index: number, ok: boolean) => void) | null;
  private handle: unknown = null;
  private running = false;
  private stopped = false;

  constructor(options: QueueReopenerOptions) {
    this.queues = options.queues.slice();
    this.timer = options.timer;
    this.backoff = new Backoff(options.random, options.baseMs ?? QUEUE_REOPEN_BASE_MS, options.capMs ?? QUEUE_REOPEN_CAP_MS);
    this.onAttempt = options.onAttempt ?? null;
  }

  /** Adds a queue (the agent builds the driver before its queues exist). */
  add(queue: PersistentQueue): void {
    this.queues.push(queue);
  }

  /** Schedules a reopen if a queue is failed and none is scheduled. Cheap; never throws. */
  check(): void {
    if (this.stopped || this.running || this.handle !== null) return;
    if (!this.queues.some((q) => q.failed)) return;
    this.schedule();
  }

  /** True while a reopen is scheduled. */
  get pending(): boolean {
    return this.handle !== null;
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== null) this.timer.clear(this.handle);
    this.handle = null;
  }

  private schedule(): void {
    try {
      this.handle = this.timer.set(() => this.attempt(), this.backoff.next());
    } catch {
      this.handle = null; // a throwing timer port: the next check() tries again
    }
  }

  private attempt(): void {
    this.handle = null;
    if (this.stopped) return;
    this.running = true;
    let stillFailed = false;
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i]!;
      if (!q.failed) continue;
      const ok = q.reopen();
      if (!ok) stillFailed = true;
      if (this.onAttempt !== null) {
        try {
          this.onAttempt(i, ok);
        } catch {
          // the owner's hook must not stop the driver
        }
      }
    }
    this.running = false;
    if (stillFailed) this.schedule();
    else {
      this.backoff.reset();
      // A queue may have failed again inside onAttempt (e.g. the uploader was woken).
      this.check();
    }
  }
}
