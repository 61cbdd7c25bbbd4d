// Hardened SNTP client: one acquisition round over a fixed list of servers.
//
// Per query: a fresh socket (fresh ephemeral port) and a random 64-bit nonce
// as transmit timestamp; only a datagram from the queried address AND port
// that echoes the nonce can end the query. Anything else (spoofed, truncated,
// oversized, garbage) is counted and ignored, so an off-path attacker cannot
// even cut our wait short. T1 and T4 are read on the monotonic clock, so the
// sample is an interval of (wall - monotonic) with error bound
//   delay/2 + rootDelay/2 + rootDispersion + precision + our resolution + phi * rtt
// (the first term is exact: the offset interval is [T3 - T4, T2 - T1]).
//
// Bounds: `attempts` per server per round, each waiting `timeoutMs` plus a
// random jitter; a server that answered is not queried again for
// `minPollIntervalMs` (never below 64 s); Kiss-o'-Death RATE doubles that
// server's interval up to MAX_KOD_BACKOFF_MS, DENY and RSTR drop it for the
// life of this client.
import type { TimeServerAddress } from '../shared/validate.js';
import type { RandomPort, TimerPort, UdpPort, UdpSocket } from '../ports.js';
import { TimeError, requireNumber } from './errors.js';
import {
  DEFAULT_MAX_ROOT_DISTANCE_MS,
  NTP_NONCE_BYTES,
  NTP_PACKET_BYTES,
  NtpReply,
  encodeRequest,
  parseReply,
  type ReplyVerdict,
} from './ntp-packet.js';
import type { SecureClock } from './secure-clock.js';

/** Servers per client (each also a selection source). */
export const MAX_SNTP_SERVERS = 8;
/** RFC 4330 / chrony minpoll 6: never poll one server faster than this in steady state. */
export const MIN_POLL_INTERVAL_MS = 64_000;
/** Cap of the Kiss-o'-Death RATE back-off: 2^17 s, chrony's maxpoll. */
export const MAX_KOD_BACKOFF_MS = 131_072_000;
export const DEFAULT_ATTEMPTS = 3;
export const MAX_ATTEMPTS = 8;
export const DEFAULT_TIMEOUT_MS = 1000;
export const DEFAULT_RETRY_JITTER_MS = 250;

/** A server to query: what shared/validate.ts timeServer() returns from config. */
export type SntpServer = TimeServerAddress;

export type ServerVerdict = 'accepted' | 'falseticker' | 'rejected';

export interface ServerOutcome {
  server: string;
  verdict: ServerVerdict;
  /**
   * '' when accepted; 'outside-majority' for a falseticker; otherwise why the
   * server gave no usable sample: a ReplyVerdict (kiss-*, unsynchronized,
   * bad-stratum, zero-timestamp, root-distance, server-time-order), 'timeout',
   * 'rate-limited', 'before-floor', 'negative-delay', 'send-failed', or
   * 'no-majority' (valid sample, but the selection found no majority).
   */
  reason: string;
  /** Midpoint of the sample, wall - monotonic, ms (NaN without a sample). */
  offsetMs: number;
  delayMs: number;
  boundMs: number;
  /** Monotonic ms when the reply arrived (T4), NaN without a sample. */
  monoMs: number;
}

export interface SntpClientOptions {
  udp: UdpPort;
  timers: TimerPort;
  random: RandomPort;
  clock: SecureClock;
  servers: SntpServer[];
  attempts?: number;
  timeoutMs?: number;
  retryJitterMs?: number;
  maxRootDistanceMs?: number;
  /** Steady-state interval per server; clamped up to MIN_POLL_INTERVAL_MS. */
  minPollIntervalMs?: number;
}

/**
 * Why datagrams were ignored without ending a query: a ReplyVerdict that
 * cannot be ours, 'wrong-sender', 'not-bytes' (the port handed us something
 * other than a Uint8Array), 'stale' (for a query that is over) or
 * 'callback-error' (an exception inside our handling, caught so that it
 * never reaches the port).
 */
export type IgnoredReason = 'wrong-sender' | 'truncated' | 'oversized' | 'bad-version' | 'not-server-mode' | 'origin-mismatch' | 'not-bytes' | 'stale' | 'callback-error';

function isIgnorable(v: ReplyVerdict | IgnoredReason): v is IgnoredReason {
  return v === 'truncated' || v === 'oversized' || v === 'bad-version' || v === 'not-server-mode' || v === 'origin-mismatch';
}

class ServerState {
  readonly server: SntpServer;
  readonly name: string;
  readonly nonce = new Uint8Array(NTP_NONCE_BYTES);
  readonly reply = new NtpReply();
  nextAllowedMono = 0;
  kodBackoffMs = 0;
  dropped = '';
  socket: UdpSocket | null = null;
  timer: unknown = null;
  attempt = 0;
  t1 = 0;
  busy = false;
  readonly outcome: ServerOutcome;
  constructor(server: SntpServer) {
    this.server = server;
    this.name = `${server.address}:${server.port}`;
    this.outcome = { server: this.name, verdict: 'rejected', reason: '', offsetMs: NaN, delayMs: NaN, boundMs: NaN, monoMs: NaN };
  }
}

export class SntpClient {
  private readonly udp: UdpPort;
  private readonly timers: TimerPort;
  private readonly random: RandomPort;
  readonly clock: SecureClock;
  private readonly states: ServerState[] = [];
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly retryJitterMs: number;
  private readonly maxRootDistanceMs: number;
  private readonly minPollIntervalMs: number;
  private readonly request = new Uint8Array(NTP_PACKET_BYTES);
  private readonly jitterBytes = new Uint8Array(2);
  private pending = 0;
  private done: ((outcomes: ServerOutcome[]) => void) | null = null;
  /** Datagrams ignored without ending a query, by reason. */
  readonly ignored: Record<IgnoredReason, number> = {
    'wrong-sender': 0,
    truncated: 0,
    oversized: 0,
    'bad-version': 0,
    'not-server-mode': 0,
    'origin-mismatch': 0,
    'not-bytes': 0,
    stale: 0,
    'callback-error': 0,
  };

  constructor(options: SntpClientOptions) {
    this.udp = options.udp;
    this.timers = options.timers;
    this.random = options.random;
    this.clock = options.clock;
    if (!Array.isArray(options.servers) || options.servers.length === 0 || options.servers.length > MAX_SNTP_SERVERS) {
      throw new TimeError('invalid-option', `servers must list 1 to ${MAX_SNTP_SERVERS} servers`);
    }
    for (const s of options.servers) {
      if (typeof s.address !== 'string' || s.address.length === 0) throw new TimeError('invalid-option', 'server address must be a non-empty string');
      requireNumber('server port', s.port, 1, 65535);
      const st = new ServerState(s);
      if (this.states.some((o) => o.name === st.name)) throw new TimeError('invalid-option', `duplicate server ${st.name}`);
      this.states.push(st);
    }
    this.attempts = requireNumber('attempts', options.attempts ?? DEFAULT_ATTEMPTS, 1, MAX_ATTEMPTS);
    this.timeoutMs = requireNumber('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, 60_000);
    this.retryJitterMs = requireNumber('retryJitterMs', options.retryJitterMs ?? DEFAULT_RETRY_JITTER_MS, 0, 60_000);
    this.maxRootDistanceMs = requireNumber('maxRootDistanceMs', options.maxRootDistanceMs ?? DEFAULT_MAX_ROOT_DISTANCE_MS, 0, 16_000);
    this.minPollIntervalMs = Math.max(MIN_POLL_INTERVAL_MS, options.minPollIntervalMs ?? MIN_POLL_INTERVAL_MS);
  }

  /** True while a round is running. */
  get busy(): boolean {
    return this.done !== null;
  }

  /** Earliest monotonic ms at which some non-dropped server may be queried again. */
  nextQueryMono(): number {
    let next = Infinity;
    for (const st of this.states) if (!st.dropped) next = Math.min(next, st.nextAllowedMono);
    return next;
  }

  /**
   * Queries every server once (with retries), then runs selection on the
   * clock and reports one outcome per server. `done` is called exactly once,
   * asynchronously (from a socket or timer callback) unless no server could
   * be queried at all.
   */
  round(done: (outcomes: ServerOutcome[]) => void): void {
    if (this.done) throw new TimeError('invalid-option', 'a round is already running');
    this.done = done;
    this.pending = this.states.length;
    const m = this.clock.monoNow();
    for (const st of this.states) {
      const o = st.outcome;
      o.verdict = 'rejected';
      o.reason = '';
      o.offsetMs = o.delayMs = o.boundMs = o.monoMs = NaN;
      st.attempt = 0;
      if (st.dropped) this.finish(st, st.dropped);
      else if (m < st.nextAllowedMono) this.finish(st, 'rate-limited');
      else this.startAttempt(st);
    }
  }

  private startAttempt(st: ServerState): void {
    st.busy = true;
    this.random.fill(st.nonce);
    st.nonce[0]! |= 1; // never the all-zero timestamp, which means "unset"
    encodeRequest(this.request, st.nonce);
    let socket: UdpSocket;
    try {
      socket = this.udp.open();
    } catch {
      this.finish(st, 'send-failed');
      return;
    }
    st.socket = socket;
    socket.onReceive = (bytes, address, port) => {
      // Every byte from outside is data: nothing may escape into the port.
      try {
        this.receive(st, socket, bytes, address, port);
      } catch {
        this.ignored['callback-error']++;
      }
    };
    st.timer = this.timers.set(() => this.timeout(st, socket), this.timeoutMs);
    st.t1 = this.clock.monoNow();
    try {
      socket.send(this.request, st.server.address, st.server.port);
    } catch {
      this.stopQuery(st);
      this.finish(st, 'send-failed');
    }
  }

  private stopQuery(st: ServerState): void {
    if (st.timer !== null) this.timers.clear(st.timer);
    st.timer = null;
    const s = st.socket;
    st.socket = null;
    if (s) {
      s.onReceive = null;
      try {
        s.close();
      } catch {
        // closing is best effort; the query is over either way
      }
    }
  }

  private timeout(st: ServerState, socket: UdpSocket): void {
    st.timer = null;
    if (st.socket !== socket) return;
    this.stopQuery(st);
    st.attempt++;
    if (st.attempt >= this.attempts) {
      this.finish(st, 'timeout');
      return;
    }
    this.random.fill(this.jitterBytes);
    const jitter = (((this.jitterBytes[0]! << 8) | this.jitterBytes[1]!) / 65536) * this.retryJitterMs;
    st.timer = this.timers.set(() => {
      st.timer = null;
      this.startAttempt(st);
    }, jitter);
  }

  private receive(st: ServerState, socket: UdpSocket, bytes: Uint8Array, address: string, port: number): void {
    const t4 = this.clock.monoNow();
    if (st.socket !== socket) {
      this.ignored.stale++;
      return;
    }
    if (address !== st.server.address || port !== st.server.port) {
      this.ignored['wrong-sender']++;
      return;
    }
    if (!(bytes instanceof Uint8Array)) {
      this.ignored['not-bytes']++;
      return;
    }
    const length = bytes.length;
    const verdict = parseReply(bytes, length, st.nonce, this.clock.floor.floorMs, this.maxRootDistanceMs, st.reply);
    if (isIgnorable(verdict)) {
      this.ignored[verdict]++;
      return;
    }
    // The server really answered this query (nonce echoed): the query ends.
    this.stopQuery(st);
    st.nextAllowedMono = t4 + this.minPollIntervalMs;
    if (verdict === 'kiss-rate') {
      st.kodBackoffMs = Math.min(MAX_KOD_BACKOFF_MS, Math.max(this.minPollIntervalMs, st.kodBackoffMs * 2));
      st.nextAllowedMono = t4 + st.kodBackoffMs;
      this.finish(st, verdict);
      return;
    }
    if (verdict === 'kiss-deny' || verdict === 'kiss-rstr') {
      st.dropped = verdict;
      this.finish(st, verdict);
      return;
    }
    if (verdict !== 'ok') {
      this.finish(st, verdict);
      return;
    }
    const r = st.reply;
    const rtt = t4 - st.t1;
    const delay = rtt - (r.transmitMs - r.receiveMs);
    if (delay < 0) {
      this.finish(st, 'negative-delay');
      return;
    }
    const offset = (r.receiveMs - st.t1 + (r.transmitMs - t4)) / 2;
    const bound = delay / 2 + r.rootDelayMs / 2 + r.rootDispersionMs + r.precisionMs + this.clock.mono.resolutionMs + this.clock.phi * rtt;
    const o = st.outcome;
    o.offsetMs = offset;
    o.delayMs = delay;
    o.boundMs = bound;
    o.monoMs = t4;
    const added = this.clock.addSample(st.name, offset - bound, offset + bound, t4);
    if (added !== 'accepted') {
      this.finish(st, added);
      return;
    }
    st.kodBackoffMs = 0;
    o.verdict = 'accepted';
    this.finish(st, '');
  }

  private finish(st: ServerState, reason: string): void {
    st.busy = false;
    st.outcome.reason = reason;
    this.pending--;
    if (this.pending > 0 || !this.done) return;
    const done = this.done;
    this.done = null;
    const selected = this.clock.select();
    const outcomes: ServerOutcome[] = [];
    for (const s of this.states) {
      if (s.outcome.verdict === 'accepted') {
        // Without a majority nobody is provably lying, but no sample is used either.
        if (!selected) {
          s.outcome.verdict = 'rejected';
          s.outcome.reason = 'no-majority';
        } else if (this.clock.sourceVerdict(s.name) === 'falseticker') {
          s.outcome.verdict = 'falseticker';
          s.outcome.reason = 'outside-majority';
        }
      }
      outcomes.push({ ...s.outcome });
    }
    done(outcomes);
  }

  /** Stops every query in flight without reporting (shutdown). */
  cancel(): void {
    for (const st of this.states) this.stopQuery(st);
    this.done = null;
    this.pending = 0;
  }
}
