// Name resolution that recovers: a table of host name -> IPv4 address kept
// fresh through a ResolverPort. A name that does not resolve is retried with
// capped exponential backoff (never left out for good), and a name whose
// address stops answering is re-resolved (an NTP pool rotates its addresses).
// A failed re-resolution keeps the last good address.
//
// AliasedUdp lets a core that only accepts IPv4 literals (the agent's
// timeServers) use names: each name gets a fixed alias literal from TEST-NET-1
// (192.0.2.0/24, never routed), translated to the name's current address on
// send and back on receive. Unanswered sends count as connection failures.
import type { RandomPort, ResolverPort, TimerPort, UdpPort, UdpSocket } from '../ports.js';
import { Backoff } from './backoff.js';
import { isIpv4 } from './validate.js';

/** Longest wait for one answer from the resolver; no answer counts as a failure. */
export const RESOLVE_TIMEOUT_MS = 5000;
/** First retry delay range after a failed resolution (full jitter). */
export const RESOLVE_BACKOFF_BASE_MS = 2000;
/** Longest wait between two resolutions of one name. */
export const RESOLVE_BACKOFF_CAP_MS = 10 * 60_000;
/** Most names one table keeps (the agent has at most 8 time servers). */
export const MAX_RESOLVED_HOSTS = 8;
/** Consecutive unanswered sends to a name's address before it is re-resolved. */
export const UNANSWERED_SENDS_BEFORE_REFRESH = 3;
/** Aliases are ALIAS_PREFIX + (index + 1). */
export const ALIAS_PREFIX = '192.0.2.';
/** Longest host name (RFC 1035). */
export const MAX_HOST_NAME_CHARS = 253;

export interface HostTableStats {
  resolutions: number;
  failures: number;
  /** Answers that were not an IPv4 literal (counted as failures too). */
  malformed: number;
  /** Resolver calls that threw (counted as failures too). */
  thrown: number;
  /** Times an answered name changed address. */
  changes: number;
}

export interface HostTableOptions {
  resolver: ResolverPort;
  timers: TimerPort;
  random: RandomPort;
  hosts: readonly string[];
  /** Called whenever a name gets a new address (not for an unchanged answer). */
  onChange?: (host: string, address: string) => void;
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

interface Entry {
  readonly host: string;
  address: string | null;
  /** True once the first resolution finished (answered or failed). */
  settled: boolean;
  /** A resolution is running or scheduled: further failure reports are ignored. */
  busy: boolean;
  /** Bumped per resolution: a late answer of an abandoned one is ignored. */
  generation: number;
  timer: unknown;
  readonly backoff: Backoff;
}

export class HostTable {
  readonly stats: HostTableStats = { resolutions: 0, failures: 0, malformed: 0, thrown: 0, changes: 0 };
  private readonly entries: Entry[] = [];
  private readonly resolver: ResolverPort;
  private readonly timers: TimerPort;
  private readonly onChange: ((host: string, address: string) => void) | undefined;
  private readonly timeoutMs: number;
  private started = false;
  private stopped = false;

  constructor(o: HostTableOptions) {
    if (o.hosts.length > MAX_RESOLVED_HOSTS) throw new RangeError(`host table: at most ${MAX_RESOLVED_HOSTS} names`);
    this.resolver = o.resolver;
    this.timers = o.timers;
    this.onChange = o.onChange;
    this.timeoutMs = o.timeoutMs ?? RESOLVE_TIMEOUT_MS;
    for (const host of o.hosts) {
      if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_NAME_CHARS) throw new RangeError('host table: bad host name');
      const literal = isIpv4(host);
      this.entries.push({
        host,
        address: literal ? host : null,
        settled: literal,
        busy: false,
        generation: 0,
        timer: null,
        backoff: new Backoff(o.random, o.backoffBaseMs ?? RESOLVE_BACKOFF_BASE_MS, o.backoffCapMs ?? RESOLVE_BACKOFF_CAP_MS),
      });
    }
  }

  /** Resolves every name at once; a literal needs no resolution. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const e of this.entries) if (!e.settled) this.resolve(e);
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries) {
      if (e.timer !== null) this.timers.clear(e.timer);
      e.timer = null;
      e.generation++;
      e.busy = false;
    }
  }

  hosts(): string[] {
    return this.entries.map((e) => e.host);
  }

  /** The name's current address, or null while it has none. */
  address(host: string): string | null {
    return this.entry(host)?.address ?? null;
  }

  /** True once every name's first resolution finished, answered or not. */
  settled(): boolean {
    return this.entries.every((e) => e.settled);
  }

  /** The name's address does not answer: re-resolve it (after its backoff delay; once at a time). */
  reportFailure(host: string): void {
    const e = this.entry(host);
    if (!e || e.busy || this.stopped || !this.started || isIpv4(e.host)) return;
    this.schedule(e);
  }

  /** The name's address answered: the next failure is re-resolved promptly again. */
  reportSuccess(host: string): void {
    this.entry(host)?.backoff.reset();
  }

  private entry(host: string): Entry | undefined {
    return this.entries.find((e) => e.host === host);
  }

  private schedule(e: Entry): void {
    e.busy = true;
    e.timer = this.timers.set(() => {
      e.timer = null;
      this.resolve(e);
    }, e.backoff.next());
  }

  private resolve(e: Entry): void {
    if (this.stopped) return;
    e.busy = true;
    const generation = ++e.generation;
    this.stats.resolutions++;
    let answered = false;
    const finish = (address: string | null): void => {
      if (answered || generation !== e.generation || this.stopped) return;
      answered = true;
      if (e.timer !== null) this.timers.clear(e.timer);
      e.timer = null;
      e.settled = true;
      if (address === null) {
        this.stats.failures++;
        this.schedule(e);
        return;
      }
      e.busy = false;
      if (address !== e.address) {
        if (e.address !== null) this.stats.changes++;
        e.address = address;
        try {
          this.onChange?.(e.host, address);
        } catch {
          // A listener's fault must not stop the table.
        }
      }
    };
    e.timer = this.timers.set(() => {
      e.timer = null;
      finish(null);
    }, this.timeoutMs);
    try {
      this.resolver.resolve(e.host, (address) => {
        try {
          if (address !== null && !isIpv4(address)) {
            this.stats.malformed++;
            finish(null);
          } else finish(address);
        } catch {
          // Never let an exception escape into the resolver's callback.
        }
      });
    } catch {
      this.stats.thrown++;
      finish(null);
    }
  }
}

export interface AliasedUdpStats {
  /** Sends dropped because the name had no address yet (its resolution is kicked). */
  unresolved: number;
  /** Sends dropped because an earlier name has the same address and port: one server must not count twice. */
  duplicate: number;
}

/**
 * A UdpPort whose alias literals stand for the table's names, in order
 * (`aliasOf(i)`). Other addresses pass through unchanged.
 */
export class AliasedUdp implements UdpPort {
  readonly stats: AliasedUdpStats = { unresolved: 0, duplicate: 0 };
  /** Per alias index: sends since the last reply from its address. */
  private readonly unanswered: number[];

  constructor(
    private readonly inner: UdpPort,
    private readonly table: HostTable,
  ) {
    this.unanswered = table.hosts().map(() => 0);
  }

  static aliasOf(index: number): string {
    return `${ALIAS_PREFIX}${index + 1}`;
  }

  open(): UdpSocket {
    const socket = this.inner.open();
    const hosts = this.table.hosts();
    const aliased: UdpSocket = {
      onReceive: null,
      send: (bytes, address, port) => {
        const i = this.indexOfAlias(address, hosts.length);
        if (i < 0) return socket.send(bytes, address, port);
        const real = this.table.address(hosts[i]!);
        if (real === null) {
          this.stats.unresolved++;
          this.table.reportFailure(hosts[i]!);
          return;
        }
        for (let j = 0; j < i; j++) {
          if (this.table.address(hosts[j]!) === real) {
            this.stats.duplicate++;
            return;
          }
        }
        if (++this.unanswered[i]! >= UNANSWERED_SENDS_BEFORE_REFRESH) {
          this.unanswered[i] = 0;
          this.table.reportFailure(hosts[i]!);
        }
        socket.send(bytes, real, port);
      },
      close: () => socket.close(),
    };
    socket.onReceive = (bytes, address, port) => {
      let from = address;
      for (let i = 0; i < hosts.length; i++) {
        // A literal server was queried by its literal: its replies keep it
        // (several literal servers may share one address on other ports).
        if (!isIpv4(hosts[i]!) && this.table.address(hosts[i]!) === address) {
          from = AliasedUdp.aliasOf(i);
          this.unanswered[i] = 0;
          this.table.reportSuccess(hosts[i]!);
          break;
        }
      }
      aliased.onReceive?.(bytes, from, port);
    };
    return aliased;
  }

  private indexOfAlias(address: string, count: number): number {
    if (!address.startsWith(ALIAS_PREFIX)) return -1;
    const n = Number(address.slice(ALIAS_PREFIX.length));
    return Number.isInteger(n) && n >= 1 && n <= count && address === AliasedUdp.aliasOf(n - 1) ? n - 1 : -1;
  }
}
