// Deterministic fakes of the ports for the tests (portable: the suites run them
// on Node and inside the XS engine, so ES2022 only and no platform imports):
// a hand-driven tick counter and timer queue, a clock the test sets, fixed and
// seeded random ports (never strong), in-memory key-value storage, a scripted
// UDP port, and an NTP reply builder written from RFC 5905 independently of
// src/time (so tests do not check the core against itself). Virtual time only.
import type { HeaderList, KeyValuePort, RandomPort, ResolverPort, TickSource, TimerPort, UdpPort, UdpSocket } from '../../src/ports.js';
import type { TimeAuthority, TimeReading } from '../../src/time/authority.js';
import type { AwsCredentials, CredentialSource } from '../../src/shared/contracts.js';
import type { ServerOutcome, SntpClient } from '../../src/time/sntp-client.js';
import { Prng } from '../../tools/sigv4/prng.js';

export class ManualTicks implements TickSource {
  readonly ticksPerSecond: number;
  readonly wrapBits: number;
  /** The raw value returned by ticks(). */
  raw: number;
  constructor(ticksPerSecond = 1000, wrapBits = 0, start = 0) {
    this.ticksPerSecond = ticksPerSecond;
    this.wrapBits = wrapBits;
    this.raw = start;
  }
  ticks(): number {
    return this.raw;
  }
  /** Advances by `ms`, wrapping like an unsigned counter of wrapBits. */
  advanceMs(ms: number): void {
    this.raw += (ms * this.ticksPerSecond) / 1000;
    if (this.wrapBits) this.raw %= 2 ** this.wrapBits;
  }
}

/**
 * A TimerPort driven by advance(): callbacks run in due order (ties in the
 * order they were set), and move the tick source along when one is given.
 */
export class ManualTimer implements TimerPort {
  /** Bound on callbacks run by one advance() without an explicit limit: a runaway loop fails instead of hanging. */
  static readonly MAX_RUNS_PER_ADVANCE = 100_000;
  nowMs = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { due: number; callback: () => void }>();
  /** Delays asked for, in order (tests check backoff bounds on them). */
  readonly delays: number[] = [];
  constructor(private readonly ticks: ManualTicks | null = null) {}

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

  /** Delay until the next timer, or Infinity. */
  nextDelay(): number {
    let next = Infinity;
    for (const t of this.pending.values()) next = Math.min(next, t.due - this.nowMs);
    return next;
  }

  /**
   * Runs every callback due within `ms` and returns how many ran. With
   * `maxCallbacks`, stops after that many (time stays at the last one run);
   * without, more than MAX_RUNS_PER_ADVANCE throws.
   */
  advance(ms: number, maxCallbacks?: number): number {
    const end = this.nowMs + ms;
    const limit = maxCallbacks ?? ManualTimer.MAX_RUNS_PER_ADVANCE;
    let ran = 0;
    for (; ran < limit; ran++) {
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
      this.moveTo(t.due);
      t.callback();
    }
    if (ran < limit) this.moveTo(end);
    else if (maxCallbacks === undefined) throw new Error('ManualTimer: too many timer runs in one advance');
    return ran;
  }

  private moveTo(ms: number): void {
    if (ms <= this.nowMs) return;
    if (this.ticks) this.ticks.advanceMs(ms - this.nowMs);
    this.nowMs = ms;
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

/** RandomPort filling every byte with one value (0x00: jitter 0; 0xFF: jitter near the ceiling). */
export class FixedRandom implements RandomPort {
  /** Weak by default; `claimStrong` only for tests that run the agent as in production and are not about randomness. */
  readonly strong: boolean;
  constructor(
    private readonly byte: number,
    options: { claimStrong?: boolean } = {},
  ) {
    this.strong = options.claimStrong === true;
  }
  fill(bytes: Uint8Array): void {
    bytes.fill(this.byte);
  }
}

/**
 * The tests' seeded generator (tools/sigv4/prng.ts, the one the sigv4
 * generators use) as a RandomPort: never strong, never for a device.
 */
export class SeededRandom extends Prng implements RandomPort {
  readonly strong = false;
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.u32() & 0xff;
  }
}

export class MemoryKeyValue implements KeyValuePort {
  readonly map = new Map<string, string>();
  writes = 0;
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    this.writes++;
    this.map.set(key, value);
  }
}

export interface SentDatagram {
  bytes: Uint8Array;
  address: string;
  port: number;
}

export class ScriptedSocket implements UdpSocket {
  onReceive: ((bytes: Uint8Array, address: string, port: number) => void) | null = null;
  readonly sent: SentDatagram[] = [];
  closed = false;
  constructor(private readonly udp: ScriptedUdp) {}
  send(bytes: Uint8Array, address: string, port: number): void {
    const d = { bytes: bytes.slice(), address, port };
    this.sent.push(d);
    if (this.udp.onSend) this.udp.onSend(this, d);
  }
  close(): void {
    this.closed = true;
  }
  /** Delivers a datagram as if it came from address:port (no-op once closed). */
  deliver(bytes: Uint8Array, address: string, port: number): void {
    if (!this.closed && this.onReceive) this.onReceive(bytes, address, port);
  }
}

/** UDP whose "network" is the test: onSend sees every request and may answer at once. */
export class ScriptedUdp implements UdpPort {
  readonly sockets: ScriptedSocket[] = [];
  onSend: ((socket: ScriptedSocket, datagram: SentDatagram) => void) | null = null;
  open(): UdpSocket {
    const s = new ScriptedSocket(this);
    this.sockets.push(s);
    return s;
  }
}

/**
 * A resolver the test scripts: `answers[host]` is the queue of answers given
 * one per query (an address, null for a failure, 'silent' for no answer ever,
 * 'throw'); an empty queue repeats its last answer. Queries are recorded.
 */
export class ScriptedResolver implements ResolverPort {
  readonly queries: Array<{ host: string; atMs: number }> = [];
  readonly answers = new Map<string, Array<string | null | 'silent' | 'throw'>>();
  private readonly last = new Map<string, string | null | 'silent' | 'throw'>();
  constructor(private readonly timer: ManualTimer | null = null) {}
  script(host: string, ...answers: Array<string | null | 'silent' | 'throw'>): this {
    this.answers.set(host, answers);
    return this;
  }
  resolve(host: string, callback: (address: string | null) => void): void {
    this.queries.push({ host, atMs: this.timer?.nowMs ?? 0 });
    const queue = this.answers.get(host) ?? [];
    const a = queue.length > 0 ? queue.shift()! : (this.last.get(host) ?? null);
    this.last.set(host, a);
    if (a === 'throw') throw new Error('resolver failure');
    if (a === 'silent') return;
    callback(a);
  }
  count(host: string): number {
    return this.queries.filter((q) => q.host === host).length;
  }
}

/** NTP epoch (1900) to Unix epoch (1970): 70 years with 17 leap days, in seconds. */
export const NTP_TO_UNIX_SECONDS = (70 * 365 + 17) * 86400;

export interface ReplySpec {
  /** Server receive and transmit times, Unix ms (converted modulo 2^32 s: any era). */
  receiveMs: number;
  transmitMs: number;
  leap?: number;
  version?: number;
  mode?: number;
  stratum?: number;
  /** log2 seconds. */
  precision?: number;
  rootDelayMs?: number;
  rootDispersionMs?: number;
  refId?: string;
  /** Originate timestamp; defaults to the request's transmit timestamp (the echo). */
  origin?: Uint8Array;
  zeroReceive?: boolean;
  zeroTransmit?: boolean;
  zeroReference?: boolean;
}

function putTimestamp(out: Uint8Array, at: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000);
  const ntpSeconds = (((seconds + NTP_TO_UNIX_SECONDS) % 4294967296) + 4294967296) % 4294967296;
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 4294967296);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(at, ntpSeconds);
  dv.setUint32(at + 4, Math.min(fraction, 4294967295));
}

/** A 48-byte server reply to `request` built from RFC 5905's header layout. */
export function buildReply(request: Uint8Array, spec: ReplySpec): Uint8Array {
  const out = new Uint8Array(48);
  const dv = new DataView(out.buffer);
  out[0] = ((spec.leap ?? 0) << 6) | ((spec.version ?? 4) << 3) | (spec.mode ?? 4);
  out[1] = spec.stratum ?? 2;
  out[2] = 6;
  out[3] = (spec.precision ?? -20) & 0xff;
  dv.setUint32(4, Math.round(((spec.rootDelayMs ?? 0) / 1000) * 65536));
  dv.setUint32(8, Math.round(((spec.rootDispersionMs ?? 0) / 1000) * 65536));
  const ref = spec.refId ?? 'LOCL';
  for (let i = 0; i < 4; i++) out[12 + i] = i < ref.length ? ref.charCodeAt(i) : 0;
  if (!spec.zeroReference) putTimestamp(out, 16, spec.receiveMs - 10_000);
  const origin = spec.origin ?? request.subarray(40, 48);
  out.set(origin, 24);
  if (!spec.zeroReceive) putTimestamp(out, 32, spec.receiveMs);
  if (!spec.zeroTransmit) putTimestamp(out, 40, spec.transmitMs);
  return out;
}

/** A CredentialSource holding whatever the test puts in `creds`; records each refresh() reason. */
export class FakeCredentials implements CredentialSource {
  refreshes: string[] = [];
  constructor(public creds: AwsCredentials | null) {}
  current(): AwsCredentials | null {
    return this.creds;
  }
  refresh(reason: string): void {
    this.refreshes.push(reason);
  }
}

/** Runs one SNTP round on virtual time (at most 100 steps of 100 ms), then `settleMs` more for late datagrams. */
export function runSntpRound(client: SntpClient, timers: ManualTimer, settleMs = 0): ServerOutcome[] {
  let result: ServerOutcome[] | null = null;
  client.round((o) => {
    result = o;
  });
  for (let i = 0; i < 100 && result === null; i++) timers.advance(100);
  if (result === null) throw new Error('round did not finish');
  if (settleMs > 0) timers.advance(settleMs);
  return result;
}
