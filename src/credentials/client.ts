// Client for the AWS IoT credentials provider: mutual TLS (the HttpPort's
// business) `GET /role-aliases/<alias>/credentials` with header
// `x-amzn-iot-thingname`. Keeps the newest valid credentials, refreshes
// ahead of expiry (jittered) and after failures (backoff), feeds each
// answer's Date header to the secure clock as a vote. A malformed or failed
// answer keeps the previous credentials. Secrets never reach events, errors
// or status().
//
// Fetch budget (issue: a device with UDP 123 blocked fetched ~7,000 times an
// hour). Every fetch, whatever started it (start(), the refresh timer, a
// retry, an explicit refresh()), passes one budget:
//   - backoff: capped exponential with equal jitter, in [ceiling/2, ceiling).
//     It steps after a failure AND after a success that cannot be used
//     (clock untrusted, credentials inside the margin, credentials that buy
//     less time than the backoff cap, or a fetch made while the held
//     credentials were still usable and not yet due). Only a success that
//     defers the next fetch by at least the cap resets it;
//   - explicit refresh() calls are at least minRefreshIntervalMs apart;
//   - a sliding window: at most MAX_CREDENTIAL_FETCHES_PER_HOUR fetches
//     start in any hour, whatever the options.
// A refresh() that the budget refuses is not lost: the next fetch is moved to
// the earliest time the budget allows.
import { CredentialsError, type CredentialsErrorCode } from './errors.js';
import { parseCredentialsResponse, TemporaryCredentials } from './parse.js';
import { Backoff } from '../shared/backoff.js';
import type { CredentialSource } from '../shared/contracts.js';
import type { TimeAuthority } from '../time/authority.js';
import { DEFAULT_CREDENTIAL_MARGIN_MS } from '../shared/contracts.js';
import { HttpDeadlineError, MAX_HTTP_DEADLINE_MS, requestWithDeadline } from '../shared/http-deadline.js';
import type { HttpExchange, HttpPort, HttpResponse, RandomPort, TimerPort } from '../ports.js';
import { roleAlias, thingName, type Fail } from '../shared/validate.js';

export interface CredentialsClientOptions {
  http: HttpPort;
  /** Credentials provider endpoint host (`<prefix>.credentials.iot.<region>.amazonaws.com`). */
  host: string;
  /** Default 443. */
  port?: number;
  roleAlias: string;
  thingName: string;
  clock: TimeAuthority;
  timer: TimerPort;
  random: RandomPort;
  /** Usable only while expiration - latest(now) > margin. Default 5 min. */
  marginMs?: number;
  /** Start refreshing when expiration - latest(now) < this. Default 15 min (must exceed margin). */
  refreshAheadMs?: number;
  /** Backoff after a failed or unusable fetch. Defaults 1 s, 5 min. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Explicit refresh() calls start fetches at least this far apart. Default 5 s. */
  minRefreshIntervalMs?: number;
  /** An exchange unanswered after this is cancelled at the port and counted as a failure. Default 20 s. */
  requestDeadlineMs?: number;
  /** Log hook: never receives secrets. */
  onEvent?: ((event: CredentialsEvent) => void) | null;
}

export interface CredentialsEvent {
  kind: 'refreshed' | 'failed';
  reason: string;
  code?: CredentialsErrorCode;
  status?: number;
  expirationMs?: number;
}

export interface CredentialsStatus {
  hasCredentials: boolean;
  expirationMs: number | null;
  /** Answers accepted as credentials. */
  refreshes: number;
  /** Fetches that ended without new credentials (any cause). */
  failures: number;
  lastError: CredentialsErrorCode | null;
  inFlight: boolean;
  /** Requests started since construction. */
  fetches: number;
  /** Requests started in the last hour (never above MAX_CREDENTIAL_FETCHES_PER_HOUR). */
  fetchesLastHour: number;
  /** refresh() calls, and how many of them the fetch budget postponed. */
  refreshCalls: number;
  refreshDeferred: number;
  /** Date votes the clock refused by throwing (the answer itself was still used). */
  dateVoteErrors: number;
  /** Consecutive fetches that did not reset the backoff. */
  backoffAttempt: number;
  /** Monotonic ms of the next fetch the client has scheduled, or null (stopped, in flight). */
  nextFetchMonoMs: number | null;
  /** Monotonic ms before which no fetch starts, refresh() included. */
  earliestFetchMonoMs: number;
}

export const DEFAULT_REFRESH_AHEAD_MS = 15 * 60_000;
export const DEFAULT_CREDENTIALS_BACKOFF_BASE_MS = 1000;
export const DEFAULT_CREDENTIALS_BACKOFF_CAP_MS = 5 * 60_000;
export const DEFAULT_MIN_REFRESH_INTERVAL_MS = 5000;
/** Deadline of one credentials exchange (a half-open TLS connection must not hold an HTTP slot). */
export const DEFAULT_CREDENTIALS_REQUEST_DEADLINE_MS = 20_000;
/** Share of the time-to-refresh taken off at random, so a fleet does not refresh in step. */
export const REFRESH_JITTER_FRACTION = 0.1;
/**
 * Hard cap: no more than this many fetches start in any sliding hour, in any
 * state and through any path (timer, retry, refresh(), stop()/start()). With
 * the default backoff (1 s doubling to 5 min, equal jitter) a failure or
 * unusable-success streak reaches about 32 in its first hour and 12..24 an
 * hour after that, so the cap only bites on unusual option values or
 * patterns; it is the guarantee, not the usual limiter.
 */
export const MAX_CREDENTIAL_FETCHES_PER_HOUR = 40;
/** The window of MAX_CREDENTIAL_FETCHES_PER_HOUR. */
export const CREDENTIAL_FETCH_WINDOW_MS = 3_600_000;

const failConfig: Fail = (path, why) => {
  throw new CredentialsError('bad-config', `${path}: ${why}`);
};

export class CredentialsClient implements CredentialSource {
  private readonly o: CredentialsClientOptions;
  private readonly marginMs: number;
  private readonly refreshAheadMs: number;
  private readonly minIntervalMs: number;
  private readonly deadlineMs: number;
  private readonly backoff: Backoff;
  private readonly path: string;
  private creds: TemporaryCredentials | null = null;
  private inFlight = false;
  private exchange: HttpExchange | null = null;
  /** Tells a late callback from the current exchange (stop() then start()). */
  private generation = 0;
  private timerHandle: unknown = null;
  private timerDueMono: number | null = null;
  private timerReason = 'scheduled';
  private lastStartMono = -Infinity;
  /** No fetch before this (backoff). */
  private backoffUntilMono = -Infinity;
  /** Monotonic time of the planned refresh ahead of expiry; a fetch before it, with usable credentials held, was asked for early. */
  private refreshDueMono = -Infinity;
  /** Start times of the last MAX_CREDENTIAL_FETCHES_PER_HOUR fetches (ring). */
  private readonly starts = new Float64Array(MAX_CREDENTIAL_FETCHES_PER_HOUR);
  private startsHead = 0;
  private startsCount = 0;
  /** What status() reports: fetches started, usable refreshes, failures, refresh() calls and those deferred, throwing Date votes. */
  private readonly counts = { fetches: 0, refreshes: 0, failures: 0, refreshCalls: 0, refreshDeferred: 0, dateVoteErrors: 0 };
  private lastError: CredentialsErrorCode | null = null;
  private stopped = true;

  constructor(options: CredentialsClientOptions) {
    roleAlias(options.roleAlias, 'roleAlias', failConfig);
    thingName(options.thingName, 'thingName', failConfig);
    this.o = options;
    this.marginMs = options.marginMs ?? DEFAULT_CREDENTIAL_MARGIN_MS;
    this.refreshAheadMs = options.refreshAheadMs ?? DEFAULT_REFRESH_AHEAD_MS;
    this.minIntervalMs = options.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS;
    this.deadlineMs = options.requestDeadlineMs ?? DEFAULT_CREDENTIALS_REQUEST_DEADLINE_MS;
    if (!(this.marginMs >= 0 && this.refreshAheadMs > this.marginMs && Number.isFinite(this.refreshAheadMs))) {
      throw new CredentialsError('bad-config', 'need 0 <= marginMs < refreshAheadMs');
    }
    if (!(this.minIntervalMs >= 0 && Number.isFinite(this.minIntervalMs))) throw new CredentialsError('bad-config', 'minRefreshIntervalMs must be finite and >= 0');
    if (!(this.deadlineMs > 0 && this.deadlineMs <= MAX_HTTP_DEADLINE_MS)) throw new CredentialsError('bad-config', `requestDeadlineMs must be in (0, ${MAX_HTTP_DEADLINE_MS}]`);
    try {
      this.backoff = new Backoff(options.random, options.backoffBaseMs ?? DEFAULT_CREDENTIALS_BACKOFF_BASE_MS, options.backoffCapMs ?? DEFAULT_CREDENTIALS_BACKOFF_CAP_MS);
    } catch {
      throw new CredentialsError('bad-config', 'need 0 < backoffBaseMs <= backoffCapMs < Infinity');
    }
    this.path = `/role-aliases/${options.roleAlias}/credentials`;
  }

  /** Fetches now, or as soon as the fetch budget allows (a restart does not reset it). No-op while started. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.fetch('start');
  }

  /** Cancels the timer and any request in flight (at the port: its slot is freed). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    const x = this.exchange;
    this.exchange = null;
    if (this.inFlight) {
      this.inFlight = false;
      this.generation++;
      // An abandoned fetch yielded nothing: it steps the backoff like a failure, so stop()/start() cannot flood.
      this.backoffUntilMono = this.o.clock.monoNow() + this.stepDelay();
    }
    if (x !== null) {
      try {
        x.cancel();
      } catch {
        // the port failed to cancel; its late answer is ignored (generation)
      }
    }
  }

  current(): TemporaryCredentials | null {
    return this.creds;
  }

  /** Whether the held credentials are usable now (same rule as the uploader's hold rule). */
  usable(): boolean {
    const r = this.o.clock.now();
    return this.creds !== null && Number.isFinite(r.latest) && this.creds.expirationMs - r.latest > this.marginMs;
  }

  /**
   * Asks for new credentials. Starts a fetch now if the budget allows,
   * otherwise moves the next fetch to the earliest allowed time. No-op while
   * a request is in flight or the client is stopped.
   */
  refresh(reason: string): void {
    this.counts.refreshCalls++;
    if (this.stopped || this.inFlight) return;
    const at = this.earliestExplicit();
    if (this.o.clock.monoNow() >= at) {
      this.start1(reason);
      return;
    }
    this.counts.refreshDeferred++;
    if (this.timerDueMono === null || this.timerDueMono > at) this.scheduleAt(at, reason);
  }

  status(): CredentialsStatus {
    return {
      hasCredentials: this.creds !== null,
      expirationMs: this.creds === null ? null : this.creds.expirationMs,
      refreshes: this.counts.refreshes,
      failures: this.counts.failures,
      lastError: this.lastError,
      inFlight: this.inFlight,
      fetches: this.counts.fetches,
      fetchesLastHour: this.fetchesInWindow(this.o.clock.monoNow()),
      refreshCalls: this.counts.refreshCalls,
      refreshDeferred: this.counts.refreshDeferred,
      dateVoteErrors: this.counts.dateVoteErrors,
      backoffAttempt: this.backoff.attempt,
      nextFetchMonoMs: this.timerDueMono,
      earliestFetchMonoMs: this.earliestExplicit(),
    };
  }

  /** Earliest start for any fetch: backoff and the hourly window. */
  private earliestAny(): number {
    let at = this.backoffUntilMono;
    if (this.startsCount === MAX_CREDENTIAL_FETCHES_PER_HOUR) {
      // Full ring: the oldest of the last N starts must leave the window first.
      at = Math.max(at, this.starts[this.startsHead]! + CREDENTIAL_FETCH_WINDOW_MS);
    }
    return at;
  }

  private earliestExplicit(): number {
    return Math.max(this.earliestAny(), this.lastStartMono + this.minIntervalMs);
  }

  private fetchesInWindow(now: number): number {
    let n = 0;
    for (let i = 0; i < this.startsCount; i++) if (now - this.starts[i]! < CREDENTIAL_FETCH_WINDOW_MS) n++;
    return n;
  }

  /** Timer and start() path: fetch if the budget allows, else wait for it. */
  private fetch(reason: string): void {
    if (this.stopped || this.inFlight) return;
    const at = this.earliestAny();
    if (this.o.clock.monoNow() < at) {
      this.scheduleAt(at, reason);
      return;
    }
    this.start1(reason);
  }

  private start1(reason: string): void {
    this.clearTimer();
    const clock = this.o.clock;
    const sent = clock.monoNow();
    // Held credentials still usable and their refresh not yet due: whoever
    // asked (an 'auth' answer, say), a success now must not reset the backoff.
    const early = sent < this.refreshDueMono && this.usable();
    this.inFlight = true;
    this.counts.fetches++;
    this.lastStartMono = sent;
    this.starts[this.startsHead] = sent;
    this.startsHead = (this.startsHead + 1) % MAX_CREDENTIAL_FETCHES_PER_HOUR;
    if (this.startsCount < MAX_CREDENTIAL_FETCHES_PER_HOUR) this.startsCount++;
    const gen = ++this.generation;
    const req = { method: 'GET', host: this.o.host, port: this.o.port ?? 443, path: this.path, headers: [['host', this.o.host], ['x-amzn-iot-thingname', this.o.thingName]] as Array<[string, string]>, body: null };
    const x = requestWithDeadline(this.o.http, this.o.timer, req, this.deadlineMs, (error, response) => this.answered(gen, reason, early, sent, error, response));
    // The callback may already have run (a port that answers or throws synchronously).
    if (this.inFlight && this.generation === gen) this.exchange = x;
  }

  private answered(gen: number, reason: string, early: boolean, sent: number, error: Error | null, response: HttpResponse | null): void {
    if (gen !== this.generation || !this.inFlight) return;
    this.inFlight = false;
    this.exchange = null;
    if (this.stopped) return;
    try {
      this.settle(reason, early, sent, error, response);
    } catch {
      // Our own handling threw (a port called from it, say): never out of
      // the port's callback; count it and make sure a retry is due.
      try {
        this.failed(reason, new CredentialsError('internal', 'handling the answer failed'));
      } catch {
        // nothing left to do safely
      }
    }
  }

  private settle(reason: string, early: boolean, sent: number, error: Error | null, response: HttpResponse | null): void {
    if (error !== null || response === null) {
      if (error instanceof HttpDeadlineError) return this.failed(reason, new CredentialsError('deadline', `no answer within ${this.deadlineMs} ms`));
      return this.failed(reason, new CredentialsError('network', 'request failed'));
    }
    try {
      this.o.clock.addDateVote(`credentials:${this.o.host}`, response.headers, sent);
    } catch {
      // A bad Date header is the clock's evidence problem, not the answer's.
      this.counts.dateVoteErrors++;
    }
    const status = response.status;
    if (status !== 200) return this.failed(reason, new CredentialsError('http-status', 'status is not 200'), typeof status === 'number' ? status : undefined);
    let next: TemporaryCredentials;
    try {
      next = parseCredentialsResponse(response.body);
    } catch (e) {
      return this.failed(reason, e instanceof CredentialsError ? e : new CredentialsError('malformed-response', 'body could not be read'));
    }
    this.accept(reason, early, next);
  }

  private accept(reason: string, early: boolean, next: TemporaryCredentials): void {
    const r = this.o.clock.now();
    const trusted = Number.isFinite(r.latest);
    if (this.creds === null || next.expirationMs >= this.creds.expirationMs) {
      if (this.creds !== null && this.creds !== next) this.creds.wipe();
      this.creds = next;
    }
    if (trusted && next.expirationMs - r.latest <= this.marginMs) {
      // Valid JSON but already too close to expiry to use: treat as a failure.
      this.failed(reason, new CredentialsError('already-expired', 'credentials expire within the margin'));
      return;
    }
    this.counts.refreshes++;
    this.lastError = null;
    this.emit({ kind: 'refreshed', reason, expirationMs: next.expirationMs });
    const now = this.o.clock.monoNow();
    let refreshAt = -Infinity;
    let resets = false;
    if (trusted) {
      // Refresh refreshAheadMs before expiry, but no sooner than half-way to
      // the margin (short-lived credentials must not refresh at once).
      const left = (this.creds ?? next).expirationMs - r.latest;
      const lead = Math.max(left - this.refreshAheadMs, (left - this.marginMs) / 2);
      const delay = Math.floor(lead * (1 - REFRESH_JITTER_FRACTION * this.backoff.uniform()));
      refreshAt = now + delay;
      resets = !early && delay >= this.backoff.capMs;
    }
    // Untrusted clock: cannot tell how long they last; look again after a backoff step.
    this.refreshDueMono = refreshAt;
    if (resets) {
      this.backoff.reset();
      this.backoffUntilMono = now;
    } else this.backoffUntilMono = now + this.stepDelay();
    this.scheduleAt(Math.max(refreshAt, this.backoffUntilMono), 'scheduled');
  }

  private failed(reason: string, error: CredentialsError, status?: number): void {
    this.counts.failures++;
    this.lastError = error.code;
    this.emit(status === undefined ? { kind: 'failed', reason, code: error.code } : { kind: 'failed', reason, code: error.code, status });
    this.backoffUntilMono = this.o.clock.monoNow() + this.stepDelay();
    this.scheduleAt(this.backoffUntilMono, 'scheduled');
  }

  /** Next backoff delay with equal jitter, in [ceiling/2, ceiling): a floor that grows, so random draws near 0 cannot flood. */
  private stepDelay(): number {
    const half = this.backoff.ceiling() / 2;
    return Math.floor(half + this.backoff.next() / 2);
  }

  private emit(event: CredentialsEvent): void {
    const f = this.o.onEvent;
    if (!f) return;
    try {
      f(event);
    } catch {
      // a log hook must not change what the client does
    }
  }

  private scheduleAt(atMono: number, reason: string): void {
    this.clearTimer();
    if (this.stopped) return;
    const now = this.o.clock.monoNow();
    const delay = Math.max(0, Math.ceil(atMono - now));
    this.timerReason = reason;
    this.timerDueMono = now + delay;
    this.timerHandle = this.o.timer.set(() => {
      this.timerHandle = null;
      this.timerDueMono = null;
      this.fetch(this.timerReason);
    }, delay);
  }

  private clearTimer(): void {
    if (this.timerHandle !== null) this.o.timer.clear(this.timerHandle);
    this.timerHandle = null;
    this.timerDueMono = null;
  }
}
