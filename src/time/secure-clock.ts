// The secure clock: wall time as an interval that contains true time, or an
// explicit statement that we cannot tell.
//
// Time evidence (SNTP samples, Date votes) arrives as *offset* intervals:
// wall - monotonic, valid at the monotonic instant it was taken. Between
// samples, every interval widens at `phi` (the oscillator's worst rate error;
// much larger while asleep), so the error bound only grows until new
// evidence arrives: E(t) = E0 + phi * awake + phiSleep * asleep + resolution.
// The sources are combined by majority selection (selection.ts); the result
// is intersected with the running anchor when they overlap (both contain
// true time), so agreement tightens and a single bad round cannot widen.
//
// States:
//   UNTRUSTED     no anchor: boot, voidAfter elapsed, or bound above maxBoundMs
//   SYNCED        anchor from a selection less than syncedForMs ago
//   FREE_RUNNING  older anchor, still within voidAfter and maxBoundMs
//   DISRUPTED     monotonic ticks went backwards or jumped, or a server said
//                 our time is skewed: all evidence dropped until a new selection
// Only SYNCED and FREE_RUNNING are trusted. When not trusted, `earliest` is the
// trusted floor and `latest` is Infinity: still a true statement.
//
// The trusted floor (trusted-floor.ts) is separate from the anchor: SNTP is
// unauthenticated (an on-path attacker sees our nonce and can answer for every
// server), so a selected majority may set the clock for signing but never
// raises the floor. The floor rises only on what such an attacker cannot
// forge: the floor at boot plus elapsed monotonic time (always true), the Date
// of a TLS-authenticated response (addDateVote), and a request the cloud
// accepted with our SigV4 signature (acceptedSignature). Above the always-true
// bound, authenticated evidence may lift it by at most maxFloorRisePerBootMs
// per boot, so that a compromised authenticated source cannot lock the device
// out for longer than that. See docs/time.md.
import type { HeaderList, KeyValuePort, TickSource } from '../ports.js';
import type { TimeReading } from './authority.js';
import { SIGV4_MAX_SKEW_MS } from '../shared/aws-limits.js';
import { TimeError, requireNumber } from './errors.js';
import { parseHttpDate } from './http-date.js';
import { MonotonicClock } from './monotonic.js';
import { MAX_SELECTION_SOURCES, Selection } from './selection.js';
import { DEFAULT_FLOOR_PERSIST_STEP_MS, TrustedFloor } from './trusted-floor.js';

export type ClockState = 'UNTRUSTED' | 'SYNCED' | 'FREE_RUNNING' | 'DISRUPTED';

/** What now() returns: a TimeReading whose state is one of ClockState. */
export interface ClockReading extends TimeReading {
  state: ClockState;
}

export interface SecureClockOptions {
  ticks: TickSource;
  /** Firmware build time, Unix ms: the initial trusted floor. */
  buildTimeMs: number;
  /** Where the trusted floor survives reboot; null keeps it in RAM only. */
  store?: KeyValuePort | null;
  /** Awake oscillator rate error bound, parts per million. Default 50. */
  phiPpm?: number;
  /** Rate error bound while asleep (ESP32 RC oscillator: up to 5 %). Default 50000 ppm. */
  sleepPhiPpm?: number;
  /** Agreeing sources required (besides a strict majority). Default 2. */
  minSources?: number;
  /** E_max: a bound above this is untrusted. Default 60 s. */
  maxBoundMs?: number;
  /** Hard limit on trust since the last selection, whatever the bound. Default 72 h. */
  voidAfterMs?: number;
  /** A selection younger than this reads SYNCED, older FREE_RUNNING. Default 3 × 1024 s. */
  syncedForMs?: number;
  /** Forward tick step treated as a jump (simulator). Default Infinity. */
  maxTickStepMs?: number;
  /** Minimum rise of the floor before it is written again. Default 1 h. */
  floorPersistStepMs?: number;
  /**
   * How far authenticated evidence may lift the floor above "floor at boot +
   * uptime" during one boot. Default MAX_FLOOR_RISE_PER_BOOT_MS (24 h).
   */
  maxFloorRisePerBootMs?: number;
  /** Called when evidence says our time is wrong: start a resync round. */
  onResyncNeeded?: ((reason: string) => void) | null;
}

export const DEFAULT_PHI_PPM = 50;
export const DEFAULT_SLEEP_PHI_PPM = 50_000;
export const DEFAULT_MIN_SOURCES = 2;
export const DEFAULT_MAX_BOUND_MS = 60_000;
export const DEFAULT_VOID_AFTER_MS = 72 * 3_600_000;
export const DEFAULT_SYNCED_FOR_MS = 3 * 1_024_000;
/** Resolution of a Date header: whole seconds, truncated. */
export const DATE_HEADER_RESOLUTION_MS = 1000;
/**
 * Default cap on how far authenticated evidence (Date votes, accepted
 * signatures) may lift the trusted floor above "floor at boot + uptime" in
 * one boot. It is the longest a compromised authenticated source can lock the
 * device out per boot (every honest source then reads "before the floor"
 * until true time catches up); a device off the shelf for longer than this
 * catches up by this much per boot plus its uptime, which costs nothing: a
 * low floor is still a true floor.
 */
export const MAX_FLOOR_RISE_PER_BOOT_MS = 24 * 3_600_000;
/** A header list longer than this is not a response we vote on. */
export const MAX_DATE_VOTE_HEADERS = 256;

export type SampleVerdict = 'accepted' | 'before-floor' | 'invalid' | 'full';
export type DateVoteVerdict = SampleVerdict | 'no-date' | 'age-present';

/** One source's latest evidence, kept per source name. */
class PooledSample {
  source = '';
  lowOffset = 0;
  highOffset = 0;
  monoMs = 0;
  sleptMs = 0;
  truechimer = false;
}

export class SecureClock {
  readonly mono: MonotonicClock;
  readonly floor: TrustedFloor;
  readonly phi: number;
  readonly sleepPhi: number;
  readonly minSources: number;
  readonly maxBoundMs: number;
  readonly voidAfterMs: number;
  readonly syncedForMs: number;
  /** Called on disruption; TimeSync installs itself here when it is null. */
  onResyncNeeded: ((reason: string) => void) | null;
  private readonly pool: PooledSample[] = [];
  private poolSize = 0;
  private readonly selection = new Selection();
  private seenDisruptions = 0;
  private disrupted = false;
  /** Selections that did not overlap the running interval (and replaced it). */
  disagreements = 0;
  /** Why the clock is DISRUPTED (or was last), for logs. */
  disruptionReason = '';
  private hasAnchor = false;
  private anchorMono = 0;
  private anchorSlept = 0;
  private anchorLow = 0;
  private anchorHigh = 0;
  /** Total monotonic ms spent asleep (reported by beginSleep/endSleep). */
  private sleptTotalMs = 0;
  private sleepStartMono = -1;
  readonly maxFloorRisePerBootMs: number;
  /** The floor when this clock was built (boot) and the tick reading then. */
  private readonly bootFloorMs: number;
  private readonly bootMono: number;
  /** Latest floor evidence: true time at tick reading floorBaseMono was at least floorBaseMs. */
  private floorBaseMs: number;
  private floorBaseMono: number;
  private floorBaseSlept = 0;
  /** Best authenticated evidence (Date votes, accepted signatures): true time at tick reading authLowMono was at least authLowMs. */
  private authLowMs = -Infinity;
  private authLowMono = 0;
  private authLowSlept = 0;
  /** Date votes that carried a Date we did not pool (malformed, before the floor, pool full). */
  rejectedDateVotes = 0;
  /** Authenticated floor evidence cut down to the per-boot cap. */
  cappedFloorRaises = 0;

  constructor(options: SecureClockOptions) {
    this.mono = new MonotonicClock(options.ticks, options.maxTickStepMs === undefined ? {} : { maxStepMs: options.maxTickStepMs });
    this.floor = new TrustedFloor(options.buildTimeMs, options.store ?? null, options.floorPersistStepMs ?? DEFAULT_FLOOR_PERSIST_STEP_MS);
    this.phi = requireNumber('phiPpm', options.phiPpm ?? DEFAULT_PHI_PPM, 0, 1e6) / 1e6;
    this.sleepPhi = requireNumber('sleepPhiPpm', options.sleepPhiPpm ?? DEFAULT_SLEEP_PHI_PPM, 0, 1e6) / 1e6;
    this.minSources = requireNumber('minSources', options.minSources ?? DEFAULT_MIN_SOURCES, 1, MAX_SELECTION_SOURCES);
    this.maxBoundMs = requireNumber('maxBoundMs', options.maxBoundMs ?? DEFAULT_MAX_BOUND_MS, 0, 1e12);
    this.voidAfterMs = requireNumber('voidAfterMs', options.voidAfterMs ?? DEFAULT_VOID_AFTER_MS, 0, 1e12);
    this.syncedForMs = requireNumber('syncedForMs', options.syncedForMs ?? DEFAULT_SYNCED_FOR_MS, 0, 1e12);
    if (!Number.isInteger(this.minSources)) throw new TimeError('invalid-option', 'minSources must be an integer');
    this.onResyncNeeded = options.onResyncNeeded ?? null;
    this.maxFloorRisePerBootMs = requireNumber('maxFloorRisePerBootMs', options.maxFloorRisePerBootMs ?? MAX_FLOOR_RISE_PER_BOOT_MS, 0, 1e12);
    for (let i = 0; i < MAX_SELECTION_SOURCES; i++) this.pool.push(new PooledSample());
    this.seenDisruptions = this.mono.disruptions;
    this.bootMono = this.mono.nowMs();
    this.bootFloorMs = this.floor.floorMs;
    this.floorBaseMs = this.bootFloorMs;
    this.floorBaseMono = this.bootMono;
  }

  /** Monotonic ms (for T1/T4 and request round trips). Also notices tick disruptions. */
  monoNow(): number {
    const m = this.mono.nowMs();
    if (this.mono.disruptions !== this.seenDisruptions) {
      this.seenDisruptions = this.mono.disruptions;
      this.disrupt(this.mono.lastDisruption ?? 'ticks');
    }
    this.followFloor(m);
    return m;
  }

  /**
   * The cloud accepted a request signed at `signedAtMs` (a 2xx to a SigV4
   * request, or a CONNACK 0 to a presigned URL). AWS refuses signatures more
   * than SIGV4_MAX_SKEW_MS off, so true time now is at least
   * signedAtMs - SIGV4_MAX_SKEW_MS: authenticated evidence for the floor.
   */
  acceptedSignature(signedAtMs: number): void {
    if (typeof signedAtMs !== 'number' || !Number.isFinite(signedAtMs)) return;
    this.raiseFloorFrom(signedAtMs - SIGV4_MAX_SKEW_MS, this.monoNow());
  }

  /** The floor the device can prove at tick reading m: the last evidence plus elapsed time, less rate error and one tick. */
  private floorAt(m: number): number {
    return this.floorBaseMs + Math.max(0, m - this.floorBaseMono) - this.widening(m, this.floorBaseMono, this.floorBaseSlept) - this.mono.resolutionMs;
  }

  /** Raises the floor to what elapsed time proves. Not while asleep: the sleep rate error is known only at endSleep(). */
  private followFloor(m: number): void {
    if (this.sleepStartMono >= 0) return;
    const f = this.floorAt(m);
    if (f > this.floor.floorMs) this.floor.raise(f);
  }

  /**
   * Authenticated evidence: true time at tick reading m is at least lowMs.
   * Capped per boot, kept as a candidate, and applied only as far as the
   * clock's own trusted interval agrees (applyAuthenticatedFloor): a single
   * authenticated server with a wrong clock (a skewed gateway) must not lock
   * the device out, so the floor needs both to be late before it is.
   */
  private raiseFloorFrom(lowMs: number, m: number): void {
    if (!Number.isFinite(lowMs)) return;
    const cap = this.bootFloorMs + Math.max(0, m - this.bootMono) + this.maxFloorRisePerBootMs;
    let low = lowMs;
    if (low > cap) {
      low = cap;
      this.cappedFloorRaises++;
    }
    if (low > this.authFloorAt(m)) {
      this.authLowMs = low;
      this.authLowMono = m;
      this.authLowSlept = this.sleptTotalMs;
    }
    this.applyAuthenticatedFloor(m);
  }

  /** The best authenticated lower bound on true time, carried to tick reading m (-Infinity before any). */
  private authFloorAt(m: number): number {
    if (this.authLowMs === -Infinity) return -Infinity;
    return this.authLowMs + Math.max(0, m - this.authLowMono) - this.widening(m, this.authLowMono, this.authLowSlept) - this.mono.resolutionMs;
  }

  /** Raises the floor to min(authenticated evidence, the trusted clock's earliest), when the clock is trusted. */
  private applyAuthenticatedFloor(m: number): void {
    const state = this.stateAt(m);
    if (state !== 'SYNCED' && state !== 'FREE_RUNNING') return;
    const earliest = Math.floor(m + this.anchorLow - this.widening(m, this.anchorMono, this.anchorSlept) - this.mono.resolutionMs);
    const target = Math.min(this.authFloorAt(m), earliest);
    if (!(target > this.floorAt(m))) return;
    this.floorBaseMs = target;
    this.floorBaseMono = m;
    this.floorBaseSlept = this.sleptTotalMs;
    if (target > this.floor.floorMs) this.floor.raise(target);
  }

  /** Current time interval. */
  now(): ClockReading {
    const m = this.monoNow();
    const state = this.stateAt(m);
    if (state === 'UNTRUSTED' || state === 'DISRUPTED') {
      return { state, earliest: this.floor.floorMs, latest: Infinity, bound: Infinity };
    }
    const widen = this.widening(m, this.anchorMono, this.anchorSlept) + this.mono.resolutionMs;
    const earliest = Math.max(this.floor.floorMs, Math.floor(m + this.anchorLow - widen));
    const latest = Math.ceil(m + this.anchorHigh + widen);
    return { state, earliest, latest, bound: (latest - earliest) / 2 };
  }

  /** True when the clock is SYNCED or FREE_RUNNING and its bound is at most `maxBoundMs`. Use before signing. */
  trusted(maxBoundMs: number): boolean {
    const r = this.now();
    return (r.state === 'SYNCED' || r.state === 'FREE_RUNNING') && r.bound <= maxBoundMs;
  }

  /**
   * Evidence that our time is wrong (e.g. a TLS-authenticated server answered
   * "request time too skewed" / "signature expired"). Drops every anchor and
   * sample and asks for a resync. The server's claimed time is not adopted.
   */
  markDisrupted(reason: string): void {
    this.monoNow();
    this.disrupt(String(reason).slice(0, 64));
  }

  /** The device is entering light sleep: time until endSleep() widens at sleepPhi. */
  beginSleep(): void {
    this.sleepStartMono = this.monoNow();
  }

  endSleep(): void {
    if (this.sleepStartMono < 0) return;
    this.sleptTotalMs += Math.max(0, this.monoNow() - this.sleepStartMono);
    this.sleepStartMono = -1;
    this.followFloor(this.mono.nowMs());
  }

  /**
   * Adds (or replaces) `source`'s evidence: wall - mono lies in
   * [lowOffset, highOffset] at monotonic instant `monoMs`. Call select() after
   * a round. Evidence claiming a time before the trusted floor is refused.
   */
  addSample(source: string, lowOffset: number, highOffset: number, monoMs: number): SampleVerdict {
    if (!(lowOffset <= highOffset) || !Number.isFinite(lowOffset) || !Number.isFinite(highOffset) || !Number.isFinite(monoMs)) return 'invalid';
    if (monoMs + highOffset < this.floor.floorMs) return 'before-floor';
    let slot = -1;
    for (let i = 0; i < this.poolSize; i++) if (this.pool[i]!.source === source) slot = i;
    if (slot < 0) {
      if (this.poolSize >= MAX_SELECTION_SOURCES) return 'full';
      slot = this.poolSize++;
    }
    const s = this.pool[slot]!;
    s.source = source;
    s.lowOffset = lowOffset;
    s.highOffset = highOffset;
    s.monoMs = monoMs;
    s.sleptMs = this.sleptTotalMs;
    s.truechimer = false;
    return 'accepted';
  }

  /**
   * A `Date` header from a TLS-authenticated response counts as one vote:
   * the server's time when it answered lies in [Date, Date + 1 s) and it
   * answered between our send (`sentMonoMs`) and now. A response with an
   * `Age` header may come from a cache and is not counted. Being
   * authenticated, the Date also raises the trusted floor (true time now is
   * at least Date), within the per-boot cap. Never throws: a malformed Date,
   * header list or value is 'invalid'; every refused Date is counted in
   * rejectedDateVotes. Runs select().
   */
  addDateVote(source: string, headers: HeaderList, sentMonoMs: number): DateVoteVerdict {
    let verdict: DateVoteVerdict;
    try {
      verdict = this.dateVote(String(source), headers, sentMonoMs);
    } catch {
      verdict = 'invalid';
    }
    if (verdict === 'invalid' || verdict === 'before-floor' || verdict === 'full') this.rejectedDateVotes++;
    return verdict;
  }

  private dateVote(source: string, headers: HeaderList, sentMonoMs: number): DateVoteVerdict {
    if (!Array.isArray(headers) || headers.length > MAX_DATE_VOTE_HEADERS) return 'invalid';
    if (typeof sentMonoMs !== 'number' || !Number.isFinite(sentMonoMs)) return 'invalid';
    let date: string | null = null;
    for (let i = 0; i < headers.length; i++) {
      const h: unknown = headers[i];
      if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string') return 'invalid';
      const name = h[0].toLowerCase();
      if (name === 'age') return 'age-present';
      if (name === 'date') {
        // Two Dates (or a non-text one) is not a claim we can pin down.
        if (date !== null || typeof h[1] !== 'string') return 'invalid';
        date = h[1];
      }
    }
    if (date === null) return 'no-date';
    let dateMs: number;
    try {
      dateMs = parseHttpDate(date);
    } catch {
      return 'invalid';
    }
    const receivedMono = this.monoNow();
    const rtt = receivedMono - sentMonoMs;
    if (!(rtt >= 0)) return 'invalid';
    // wall(receivedMono) in [date, date + 1 s + rtt] (plus our rate error over the rtt).
    const slack = rtt * this.phi + this.mono.resolutionMs;
    const verdict = this.addSample(`date:${source}`, dateMs - receivedMono - slack, dateMs + DATE_HEADER_RESOLUTION_MS + rtt - receivedMono + slack, receivedMono);
    // The server stamped the Date before we read it, so true time now is at least the Date.
    if (verdict !== 'before-floor') this.raiseFloorFrom(dateMs, receivedMono);
    if (verdict === 'accepted') this.select();
    return verdict;
  }

  /** Names and verdicts of the pooled sources after the last select(). */
  sourceVerdict(source: string): 'accepted' | 'falseticker' | 'unknown' {
    for (let i = 0; i < this.poolSize; i++) {
      if (this.pool[i]!.source === source) return this.pool[i]!.truechimer ? 'accepted' : 'falseticker';
    }
    return 'unknown';
  }

  /**
   * Runs source selection over the pooled evidence, aged to now. On success
   * the anchor becomes the selected interval (intersected with the running
   * anchor when both overlap). The floor does not follow: a majority may be
   * unauthenticated SNTP (see the header). Returns success.
   */
  select(): boolean {
    const m = this.monoNow();
    this.dropVoidSamples(m);
    const sel = this.selection;
    sel.clear();
    for (let i = 0; i < this.poolSize; i++) {
      const s = this.pool[i]!;
      const w = this.widening(m, s.monoMs, s.sleptMs);
      sel.add(s.lowOffset - w, s.highOffset + w);
    }
    const ok = sel.select(this.minSources);
    for (let i = 0; i < this.poolSize; i++) this.pool[i]!.truechimer = ok && sel.truechimer[i]!;
    if (!ok) return false;
    let low = sel.low;
    let high = sel.high;
    const state = this.stateAt(m);
    if (state === 'SYNCED' || state === 'FREE_RUNNING') {
      const w = this.widening(m, this.anchorMono, this.anchorSlept);
      const aLow = this.anchorLow - w;
      const aHigh = this.anchorHigh + w;
      if (aLow <= high && low <= aHigh) {
        low = Math.max(low, aLow);
        high = Math.min(high, aHigh);
      } else {
        // A fresh majority contradicts our own extrapolation: the oscillator
        // broke its phi, or ticks misbehaved undetected. The majority is
        // fresh evidence and wins; count it so that it shows up in logs.
        this.disagreements++;
      }
    }
    if (m + high < this.floor.floorMs) return false;
    this.hasAnchor = true;
    this.disrupted = false;
    this.anchorMono = m;
    this.anchorSlept = this.sleptTotalMs;
    this.anchorLow = low;
    this.anchorHigh = high;
    this.applyAuthenticatedFloor(m);
    return true;
  }

  private disrupt(reason: string): void {
    this.disrupted = true;
    this.disruptionReason = reason;
    this.hasAnchor = false;
    this.poolSize = 0;
    if (this.onResyncNeeded) this.onResyncNeeded(reason);
  }

  /**
   * Rate-error widening of an interval taken at tick reading `fromMono` by
   * tick reading `m`. Intervals are kept as functions of tick *readings*;
   * the one tick of quantisation between the evidence's instant and "now"
   * is added once, by now() (E = E0 + phi * elapsed + resolution).
   */
  private widening(m: number, fromMono: number, fromSlept: number): number {
    const elapsed = Math.max(0, m - fromMono);
    const slept = Math.min(elapsed, Math.max(0, this.sleptTotalMs - fromSlept));
    return this.phi * (elapsed - slept) + this.sleepPhi * slept;
  }

  private dropVoidSamples(m: number): void {
    let kept = 0;
    for (let i = 0; i < this.poolSize; i++) {
      const s = this.pool[i]!;
      if (m - s.monoMs <= this.voidAfterMs) {
        if (kept !== i) {
          const t = this.pool[kept]!;
          this.pool[kept] = s;
          this.pool[i] = t;
        }
        kept++;
      }
    }
    this.poolSize = kept;
  }

  private stateAt(m: number): ClockState {
    if (this.disrupted) return 'DISRUPTED';
    if (!this.hasAnchor) return 'UNTRUSTED';
    const age = m - this.anchorMono;
    if (age > this.voidAfterMs) return 'UNTRUSTED';
    const w = this.widening(m, this.anchorMono, this.anchorSlept) + this.mono.resolutionMs;
    if ((this.anchorHigh - this.anchorLow) / 2 + w > this.maxBoundMs) return 'UNTRUSTED';
    return age <= this.syncedForMs ? 'SYNCED' : 'FREE_RUNNING';
  }
}
