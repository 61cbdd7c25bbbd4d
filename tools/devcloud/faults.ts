// Fault injection plan, consulted by the gateway and the credentials provider
// for every request. Each fault is a bounded count that the requests consume;
// nothing here is random, so end-to-end tests are reproducible.

export type FaultTarget = 'publish' | 'mqtt' | 'credentials' | 'tuf' | 'jobs';
export type InjectedStatus = 429 | 500 | 503;
/**
 * `before`: the connection is destroyed as the request arrives; nothing is
 * processed. `after`: the request is processed (an HTTPS publish reaches the
 * broker) and the connection is destroyed instead of answering, so the device
 * cannot know it succeeded: the at-least-once redelivery case.
 */
export type DropWhen = 'before' | 'after';
/** `refuse`: stop listening (connection refused). `hang`: accept and never answer (timeouts). */
export type PauseMode = 'refuse' | 'hang';

/** Largest count one fault call may arm (a bound, and a guard against typos). */
export const MAX_FAULT_COUNT = 1_000_000;

const ALL_TARGETS: readonly FaultTarget[] = ['publish', 'mqtt', 'credentials', 'tuf', 'jobs'];

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_FAULT_COUNT) throw new RangeError(`fault count must be an integer in [0, ${MAX_FAULT_COUNT}]`);
}

function targetsOf(target: FaultTarget | 'any'): readonly FaultTarget[] {
  if (target === 'any') return ALL_TARGETS;
  if (!ALL_TARGETS.includes(target)) throw new RangeError(`fault target must be one of ${ALL_TARGETS.join(', ')}, any`);
  return [target];
}

export interface FaultState {
  fail: Record<FaultTarget, { status: InjectedStatus; remaining: number } | null>;
  drop: Record<FaultTarget, { when: DropWhen; remaining: number } | null>;
  tuf: TufFaultState;
}

// ---- TUF repository faults ---------------------------------------------
// Each is armed until cleared (a TUF client's refresh makes several requests;
// a count would make tests depend on the client's request pattern). `match`
// is a prefix of the served path below /tuf/ (e.g. 'targets/firmware/',
// 'metadata/timestamp.json'); '' matches every path.

/** Slowest and fastest trickle the slow-data fault accepts. */
export const MIN_SLOW_BYTES_PER_SECOND = 1;
export const MAX_SLOW_BYTES_PER_SECOND = 10 * 1024 * 1024;
/** Longest `match` prefix accepted. */
export const MAX_TUF_MATCH_CHARS = 1024;

export interface TufFaultState {
  /** Served targets under `match` have one byte flipped (at length/2), length unchanged. */
  tamperTarget: { match: string } | null;
  /** metadata/snapshot.json and metadata/N.snapshot.json answer 404. */
  withholdSnapshot: boolean;
  /** metadata/timestamp.json answers the bytes captured by captureTimestamp(). */
  replayTimestamp: boolean;
  /** Version of the captured timestamp, null when nothing was captured. */
  capturedTimestampVersion: number | null;
  /** Answers under `match` never end: the file, then filler, until the client closes. */
  endless: { match: string } | null;
  /** Answers under `match` trickle at bytesPerSecond. */
  slow: { match: string; bytesPerSecond: number } | null;
}

function checkMatch(match: string): string {
  if (typeof match !== 'string' || match.length > MAX_TUF_MATCH_CHARS || match.startsWith('/')) {
    throw new RangeError(`match must be a path prefix below /tuf/ (no leading '/', at most ${MAX_TUF_MATCH_CHARS} characters)`);
  }
  return match;
}

export class TufFaults {
  tamperTarget: TufFaultState['tamperTarget'] = null;
  withholdSnapshot = false;
  replayTimestamp = false;
  endless: TufFaultState['endless'] = null;
  slow: TufFaultState['slow'] = null;
  private captured: { bytes: Buffer; version: number } | null = null;

  setTamperTarget(match = 'targets/'): void {
    this.tamperTarget = { match: checkMatch(match) };
  }

  setWithholdSnapshot(on = true): void {
    this.withholdSnapshot = on;
  }

  /** Remembers a timestamp.json (its bytes as served now) for a later replay. */
  capture(bytes: Buffer, version: number): void {
    this.captured = { bytes: Buffer.from(bytes), version };
  }

  setReplayTimestamp(on = true): void {
    if (on && this.captured === null) throw new RangeError('no timestamp captured: capture one first');
    this.replayTimestamp = on;
  }

  /** The bytes to serve instead of timestamp.json, or null. */
  replayed(): Buffer | null {
    return this.replayTimestamp && this.captured !== null ? this.captured.bytes : null;
  }

  setEndless(match = ''): void {
    this.endless = { match: checkMatch(match) };
  }

  setSlow(bytesPerSecond: number, match = ''): void {
    if (!Number.isInteger(bytesPerSecond) || bytesPerSecond < MIN_SLOW_BYTES_PER_SECOND || bytesPerSecond > MAX_SLOW_BYTES_PER_SECOND) {
      throw new RangeError(`bytesPerSecond must be an integer in [${MIN_SLOW_BYTES_PER_SECOND}, ${MAX_SLOW_BYTES_PER_SECOND}]`);
    }
    this.slow = { match: checkMatch(match), bytesPerSecond };
  }

  /** Disarms every TUF fault; the captured timestamp is kept (it can be replayed again). */
  clear(): void {
    this.tamperTarget = null;
    this.withholdSnapshot = false;
    this.replayTimestamp = false;
    this.endless = null;
    this.slow = null;
  }

  state(): TufFaultState {
    return {
      tamperTarget: this.tamperTarget,
      withholdSnapshot: this.withholdSnapshot,
      replayTimestamp: this.replayTimestamp,
      capturedTimestampVersion: this.captured?.version ?? null,
      endless: this.endless,
      slow: this.slow,
    };
  }
}

export class FaultPlan {
  private readonly fail: FaultState['fail'] = { publish: null, mqtt: null, credentials: null, tuf: null, jobs: null };
  private readonly drop: FaultState['drop'] = { publish: null, mqtt: null, credentials: null, tuf: null, jobs: null };
  /** Faults on the TUF repository paths (/tuf/...): armed until cleared. */
  readonly tuf = new TufFaults();

  /** The next `count` requests to `target` are answered `status` (AWS-shaped body). */
  failNext(status: InjectedStatus, count: number, target: FaultTarget | 'any' = 'publish'): void {
    if (status !== 429 && status !== 500 && status !== 503) throw new RangeError('injected status must be 429, 500 or 503');
    checkCount(count);
    for (const t of targetsOf(target)) this.fail[t] = count > 0 ? { status, remaining: count } : null;
  }

  /** The next `count` requests to `target` lose their connection (see DropWhen). */
  dropNext(count: number, when: DropWhen = 'before', target: FaultTarget | 'any' = 'publish'): void {
    if (when !== 'before' && when !== 'after') throw new RangeError("drop 'when' must be 'before' or 'after'");
    checkCount(count);
    for (const t of targetsOf(target)) this.drop[t] = count > 0 ? { when, remaining: count } : null;
  }

  /** Consumes one injected failure for `target`, if armed. */
  takeFailure(target: FaultTarget): InjectedStatus | null {
    const f = this.fail[target];
    if (f === null) return null;
    if (--f.remaining <= 0) this.fail[target] = null;
    return f.status;
  }

  /** Consumes one drop for `target` at stage `when`, if armed for that stage. */
  takeDrop(target: FaultTarget, when: DropWhen): boolean {
    const d = this.drop[target];
    if (d === null || d.when !== when) return false;
    if (--d.remaining <= 0) this.drop[target] = null;
    return true;
  }

  clear(): void {
    for (const t of ALL_TARGETS) {
      this.fail[t] = null;
      this.drop[t] = null;
    }
    this.tuf.clear();
  }

  state(): FaultState {
    return { fail: { ...this.fail }, drop: { ...this.drop }, tuf: this.tuf.state() };
  }
}
