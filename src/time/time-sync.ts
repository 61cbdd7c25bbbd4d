// Keeps the secure clock fed: runs SNTP rounds on a timer.
//
// Acquisition: a round at start; while the clock is not trusted, another
// after `retryMs`, doubling up to `pollIntervalMs`, plus random jitter (so a
// fleet rebooting together does not hit the servers in lockstep). Steady
// state: one round per `pollIntervalMs` (never below 64 s, and the client
// itself refuses to query a server that answered less than 64 s ago). A
// disruption (clock.markDisrupted, tick jump) schedules a round as soon as
// some server may be queried.
import type { RandomPort, TimerPort } from '../ports.js';
import { requireNumber } from './errors.js';
import { MIN_POLL_INTERVAL_MS, type ServerOutcome, type SntpClient } from './sntp-client.js';

export const DEFAULT_POLL_INTERVAL_MS = 1_024_000;
export const DEFAULT_ACQUISITION_RETRY_MS = 4_000;
/** Jitter added to every scheduled round, as a fraction of its delay. */
export const SCHEDULE_JITTER_FRACTION = 0.125;

export interface TimeSyncOptions {
  sntp: SntpClient;
  timers: TimerPort;
  random: RandomPort;
  /** Steady-state interval between rounds; clamped up to 64 s. Default 1024 s. */
  pollIntervalMs?: number;
  /** First retry delay while untrusted; doubles up to pollIntervalMs. Default 4 s. */
  retryMs?: number;
  /** Called after every round (logging, tests). */
  onRound?: ((outcomes: ServerOutcome[]) => void) | null;
}

export class TimeSync {
  private readonly sntp: SntpClient;
  private readonly timers: TimerPort;
  private readonly random: RandomPort;
  readonly pollIntervalMs: number;
  private readonly firstRetryMs: number;
  private readonly onRound: ((outcomes: ServerOutcome[]) => void) | null;
  private readonly jitterBytes = new Uint8Array(2);
  private retryMs: number;
  private timer: unknown = null;
  private running = false;
  rounds = 0;

  constructor(options: TimeSyncOptions) {
    this.sntp = options.sntp;
    this.timers = options.timers;
    this.random = options.random;
    this.pollIntervalMs = Math.max(MIN_POLL_INTERVAL_MS, requireNumber('pollIntervalMs', options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 1, 1e10));
    this.firstRetryMs = requireNumber('retryMs', options.retryMs ?? DEFAULT_ACQUISITION_RETRY_MS, 1, this.pollIntervalMs);
    this.retryMs = this.firstRetryMs;
    this.onRound = options.onRound ?? null;
    const clock = this.sntp.clock;
    if (clock.onResyncNeeded === null) clock.onResyncNeeded = () => this.resync();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.sntp.cancel();
  }

  /** Evidence that time is wrong: run a round as soon as a server may be queried. */
  resync(): void {
    if (!this.running || this.sntp.busy) return;
    this.retryMs = this.firstRetryMs;
    this.schedule(Math.min(this.pollIntervalMs, Math.max(0, this.sntp.nextQueryMono() - this.sntp.clock.monoNow())));
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.random.fill(this.jitterBytes);
    const jitter = (((this.jitterBytes[0]! << 8) | this.jitterBytes[1]!) / 65536) * SCHEDULE_JITTER_FRACTION * delayMs;
    this.timer = this.timers.set(() => this.runRound(), delayMs + jitter);
  }

  private runRound(): void {
    this.timer = null;
    if (!this.running || this.sntp.busy) return;
    this.sntp.round((outcomes) => {
      this.rounds++;
      if (this.onRound) this.onRound(outcomes);
      if (!this.running) return;
      if (this.sntp.clock.trusted(this.sntp.clock.maxBoundMs)) {
        this.retryMs = this.firstRetryMs;
        this.schedule(this.pollIntervalMs);
      } else {
        const wait = Math.max(this.retryMs, this.sntp.nextQueryMono() - this.sntp.clock.monoNow());
        this.retryMs = Math.min(this.pollIntervalMs, this.retryMs * 2);
        this.schedule(Math.min(wait, this.pollIntervalMs));
      }
    });
  }
}
