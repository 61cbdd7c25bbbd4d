// Client for the AWS IoT credentials provider: mutual TLS (the HttpPort's
// business) `GET /role-aliases/<alias>/credentials` with header
// `x-amzn-iot-thingname`. Keeps the newest valid credentials, refreshes
// ahead of expiry (jittered) and after failures (full-jitter backoff), feeds
// each answer's Date header to the secure clock as a vote. A malformed or
// failed answer keeps the previous credentials. Secrets never reach events,
// errors or status().
import { CredentialsError, type CredentialsErrorCode } from './errors.js';
import { parseCredentialsResponse, TemporaryCredentials } from './parse.js';
import { Backoff } from '../shared/backoff.js';
import type { CredentialSource } from '../shared/contracts.js';
import type { TimeAuthority } from '../time/authority.js';
import { DEFAULT_CREDENTIAL_MARGIN_MS } from '../shared/contracts.js';
import type { HttpPort, RandomPort, TimerPort } from '../ports.js';
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
  /** Backoff after a failed refresh. Defaults 1 s, 5 min. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Explicit refresh() calls closer together than this are ignored. Default 5 s. */
  minRefreshIntervalMs?: number;
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
  refreshes: number;
  failures: number;
  lastError: CredentialsErrorCode | null;
  inFlight: boolean;
}

export const DEFAULT_REFRESH_AHEAD_MS = 15 * 60_000;
export const DEFAULT_CREDENTIALS_BACKOFF_BASE_MS = 1000;
export const DEFAULT_CREDENTIALS_BACKOFF_CAP_MS = 5 * 60_000;
export const DEFAULT_MIN_REFRESH_INTERVAL_MS = 5000;
/** Share of the time-to-refresh taken off at random, so a fleet does not refresh in step. */
export const REFRESH_JITTER_FRACTION = 0.1;

const failConfig: Fail = (path, why) => {
  throw new CredentialsError('bad-config', `${path}: ${why}`);
};

export class CredentialsClient implements CredentialSource {
  private readonly o: CredentialsClientOptions;
  private readonly marginMs: number;
  private readonly refreshAheadMs: number;
  private readonly minIntervalMs: number;
  private readonly backoff: Backoff;
  private readonly path: string;
  private creds: TemporaryCredentials | null = null;
  private inFlight = false;
  private timerHandle: unknown = null;
  private lastRequestMono = -Infinity;
  private refreshes = 0;
  private failures = 0;
  private lastError: CredentialsErrorCode | null = null;
  private stopped = true;

  constructor(options: CredentialsClientOptions) {
    roleAlias(options.roleAlias, 'roleAlias', failConfig);
    thingName(options.thingName, 'thingName', failConfig);
    this.o = options;
    this.marginMs = options.marginMs ?? DEFAULT_CREDENTIAL_MARGIN_MS;
    this.refreshAheadMs = options.refreshAheadMs ?? DEFAULT_REFRESH_AHEAD_MS;
    this.minIntervalMs = options.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS;
    if (!(this.marginMs >= 0 && this.refreshAheadMs > this.marginMs && Number.isFinite(this.refreshAheadMs))) {
      throw new CredentialsError('bad-config', 'need 0 <= marginMs < refreshAheadMs');
    }
    this.backoff = new Backoff(options.random, options.backoffBaseMs ?? DEFAULT_CREDENTIALS_BACKOFF_BASE_MS, options.backoffCapMs ?? DEFAULT_CREDENTIALS_BACKOFF_CAP_MS);
    this.path = `/role-aliases/${options.roleAlias}/credentials`;
  }

  start(): void {
    this.stopped = false;
    this.request('start');
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  current(): TemporaryCredentials | null {
    return this.creds;
  }

  /** Whether the held credentials are usable now (same rule as the uploader's gate). */
  usable(): boolean {
    const r = this.o.clock.now();
    return this.creds !== null && Number.isFinite(r.latest) && this.creds.expirationMs - r.latest > this.marginMs;
  }

  refresh(reason: string): void {
    if (this.stopped || this.inFlight) return;
    if (this.o.clock.monoNow() - this.lastRequestMono < this.minIntervalMs) return;
    this.request(reason);
  }

  status(): CredentialsStatus {
    return {
      hasCredentials: this.creds !== null,
      expirationMs: this.creds === null ? null : this.creds.expirationMs,
      refreshes: this.refreshes,
      failures: this.failures,
      lastError: this.lastError,
      inFlight: this.inFlight,
    };
  }

  private request(reason: string): void {
    if (this.stopped || this.inFlight) return;
    this.clearTimer();
    this.inFlight = true;
    const clock = this.o.clock;
    const sent = clock.monoNow();
    this.lastRequestMono = sent;
    let done = false;
    this.o.http.request(
      { method: 'GET', host: this.o.host, port: this.o.port ?? 443, path: this.path, headers: [['host', this.o.host], ['x-amzn-iot-thingname', this.o.thingName]], body: null },
      (error, response) => {
        if (done) return;
        done = true;
        this.inFlight = false;
        if (this.stopped) return;
        if (error !== null || response === null) return this.failed(reason, new CredentialsError('network', 'request failed'));
        clock.addDateVote(`credentials:${this.o.host}`, response.headers, sent);
        if (response.status !== 200) return this.failed(reason, new CredentialsError('http-status', `status ${response.status}`), response.status);
        let next: TemporaryCredentials;
        try {
          next = parseCredentialsResponse(response.body);
        } catch (e) {
          if (e instanceof CredentialsError) return this.failed(reason, e);
          throw e;
        }
        this.accept(reason, next);
      },
    );
  }

  private accept(reason: string, next: TemporaryCredentials): void {
    const r = this.o.clock.now();
    if (this.creds === null || next.expirationMs >= this.creds.expirationMs) {
      if (this.creds !== null && this.creds !== next) this.creds.wipe();
      this.creds = next;
    }
    if (Number.isFinite(r.latest) && next.expirationMs - r.latest <= this.marginMs) {
      // Valid JSON but already too close to expiry to use: treat as a failure.
      this.failed(reason, new CredentialsError('already-expired', 'credentials expire within the margin'));
      return;
    }
    this.refreshes++;
    this.lastError = null;
    this.backoff.reset();
    this.emit({ kind: 'refreshed', reason, expirationMs: next.expirationMs });
    if (!Number.isFinite(r.latest)) {
      // Untrusted clock: cannot tell how long they last; check again after a backoff step.
      this.schedule(this.backoff.next());
      return;
    }
    const untilRefresh = Math.max(0, next.expirationMs - r.latest - this.refreshAheadMs);
    this.schedule(Math.floor(untilRefresh * (1 - REFRESH_JITTER_FRACTION * this.backoff.uniform())));
  }

  private failed(reason: string, error: CredentialsError, status?: number): void {
    this.failures++;
    this.lastError = error.code;
    this.emit(status === undefined ? { kind: 'failed', reason, code: error.code } : { kind: 'failed', reason, code: error.code, status });
    this.schedule(this.backoff.next());
  }

  private emit(event: CredentialsEvent): void {
    const f = this.o.onEvent;
    if (f) f(event);
  }

  private schedule(delayMs: number): void {
    this.clearTimer();
    if (this.stopped) return;
    this.timerHandle = this.o.timer.set(() => {
      this.timerHandle = null;
      this.request('scheduled');
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timerHandle !== null) this.o.timer.clear(this.timerHandle);
    this.timerHandle = null;
  }
}
