// Deterministic fakes of the ports for the portable time suites (Node and
// XS): a hand-driven tick counter and timer queue, a seeded PRNG, in-memory
// storage, a scripted UDP port, and an NTP reply builder written from RFC
// 5905 independently of src/time (so tests do not check the core against
// itself). No platform imports: these run inside the XS engine too.
import type { KeyValuePort, RandomPort, TickSource, TimerPort, UdpPort, UdpSocket } from '../../src/ports.js';

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

/** Timers driven by advance(); callbacks run in due order. */
export class ManualTimers implements TimerPort {
  private now = 0;
  private seq = 0;
  private readonly pending: Array<{ id: number; at: number; cb: () => void }> = [];
  /** Bound on callbacks run per advance(), so a runaway loop fails instead of hanging. */
  static readonly MAX_RUNS_PER_ADVANCE = 10_000;
  constructor(private readonly ticks: ManualTicks | null = null) {}
  set(callback: () => void, delayMs: number): unknown {
    const id = ++this.seq;
    this.pending.push({ id, at: this.now + Math.max(0, delayMs), cb: callback });
    return id;
  }
  clear(handle: unknown): void {
    const i = this.pending.findIndex((p) => p.id === handle);
    if (i >= 0) this.pending.splice(i, 1);
  }
  get size(): number {
    return this.pending.length;
  }
  /** Delay until the next timer, or Infinity. */
  nextDelay(): number {
    let next = Infinity;
    for (const p of this.pending) next = Math.min(next, p.at - this.now);
    return next;
  }
  /** Moves time forward by `ms` (the tick source too, when given), firing due timers. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let runs = 0; runs < ManualTimers.MAX_RUNS_PER_ADVANCE; runs++) {
      let best = -1;
      for (let i = 0; i < this.pending.length; i++) {
        if (this.pending[i]!.at <= end && (best < 0 || this.pending[i]!.at < this.pending[best]!.at || (this.pending[i]!.at === this.pending[best]!.at && this.pending[i]!.id < this.pending[best]!.id))) best = i;
      }
      if (best < 0) {
        if (this.ticks) this.ticks.advanceMs(end - this.now);
        this.now = end;
        return;
      }
      const p = this.pending.splice(best, 1)[0]!;
      if (this.ticks) this.ticks.advanceMs(p.at - this.now);
      this.now = p.at;
      p.cb();
    }
    throw new Error('ManualTimers: too many timer runs in one advance');
  }
}

/** mulberry32: small, seeded, good enough to generate test cases (never for nonces on a device). */
export class SeededRandom implements RandomPort {
  readonly strong = false;
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.nextU32() & 0xff;
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
