// `secure-time probe`: one acquisition round against the given NTP servers,
// with the same core the device runs (SecureClock + SntpClient) over Node
// adapters. Exit 0 only when the result is trusted (majority of at least
// --min-sources agreeing servers and a bound within --max-bound-ms).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { NodeRandom } from '../../src/platform/node/random.js';
import { NodeTicks } from '../../src/platform/node/ticks.js';
import { NodeTimers } from '../../src/platform/node/timers.js';
import { NodeUdp } from '../../src/platform/node/udp.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import { SntpClient, type ServerOutcome, type SntpServer } from '../../src/time/sntp-client.js';

const USAGE = `usage: secure-time probe --server HOST[:PORT] [--server ...] [--min-sources N]
                        [--max-bound-ms M] [--timeout-ms T] [--attempts A] [--floor-ms F] [--json]
  Queries every server once (with retries), selects a majority, prints the
  result. A name that does not resolve is a rejected source (unresolved).
  Exit 0 when trusted, 1 when not, 2 on a usage error.`;

export const DEFAULT_NTP_PORT = 123;
/** Default --max-bound-ms: a host checking its servers expects far better than the device's E_max. */
export const DEFAULT_PROBE_MAX_BOUND_MS = 1000;
/**
 * Default --floor-ms: 2026-01-01T00:00:00Z. A host has no firmware build
 * time; any source claiming an earlier time is refused.
 */
export const DEFAULT_PROBE_FLOOR_MS = 1_767_225_600_000;

export interface ProbeOptions {
  servers: string[];
  minSources: number;
  maxBoundMs: number;
  timeoutMs: number;
  attempts: number;
  floorMs: number;
  json: boolean;
}

export interface ProbeSourceReport {
  server: string;
  verdict: ServerOutcome['verdict'];
  reason: string;
  offsetMs: number | null;
  delayMs: number | null;
  boundMs: number | null;
}

export interface ProbeReport {
  state: string;
  trusted: boolean;
  offsetMs: number | null;
  boundMs: number | null;
  earliestMs: number | null;
  latestMs: number | null;
  sources: ProbeSourceReport[];
}

class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'usage';
}

function positiveInt(flag: string, text: string | undefined, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} needs an integer in [1, ${max}]`);
  return n;
}

export function parseArgs(argv: string[]): ProbeOptions {
  if (argv[0] !== 'probe') throw new UsageError(argv.length === 0 ? 'missing command' : `unknown command ${argv[0]}`);
  const o: ProbeOptions = { servers: [], minSources: 2, maxBoundMs: DEFAULT_PROBE_MAX_BOUND_MS, timeoutMs: 1000, attempts: 3, floorMs: DEFAULT_PROBE_FLOOR_MS, json: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string | undefined => argv[++i];
    if (a === '--server') {
      const s = v();
      if (!s) throw new UsageError('--server needs HOST[:PORT]');
      o.servers.push(s);
    } else if (a === '--min-sources') o.minSources = positiveInt(a, v(), 16);
    else if (a === '--max-bound-ms') o.maxBoundMs = positiveInt(a, v(), 3_600_000);
    else if (a === '--timeout-ms') o.timeoutMs = positiveInt(a, v(), 60_000);
    else if (a === '--attempts') o.attempts = positiveInt(a, v(), 8);
    else if (a === '--floor-ms') o.floorMs = positiveInt(a, v(), 253402300799000);
    else if (a === '--json') o.json = true;
    else throw new UsageError(`unknown option ${a}`);
  }
  if (o.servers.length === 0) throw new UsageError('at least one --server is required');
  if (o.servers.length > 8) throw new UsageError('at most 8 servers');
  return o;
}

/** Longest wait for a name lookup: a resolver that does not answer makes that source rejected, not the probe hang. */
export const PROBE_DNS_TIMEOUT_MS = 5000;

/**
 * HOST[:PORT], [V6]:PORT; names are resolved (replies are matched by address).
 * A malformed argument is a usage error; a name that does not resolve is a
 * source without a sample (`unresolved`), reported like a timeout.
 */
async function resolveServer(text: string): Promise<SntpServer | { unresolved: string }> {
  let host = text;
  let port = DEFAULT_NTP_PORT;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = positiveInt('--server port', v6[2], 65535);
  } else if (text.split(':').length === 2) {
    const [h, p] = text.split(':');
    host = h!;
    port = positiveInt('--server port', p, 65535);
  }
  if (!host) throw new UsageError(`bad server ${text}`);
  if (isIP(host)) return { address: host, port };
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      lookup(host, { family: 4 }),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'timeout' })), PROBE_DNS_TIMEOUT_MS))),
    ]);
    return { address: r.address, port };
  } catch (e) {
    return { unresolved: `unresolved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  } finally {
    clearTimeout(timer);
  }
}

function round3(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;
}

export async function probe(o: ProbeOptions): Promise<ProbeReport> {
  const resolved = await Promise.all(o.servers.map(resolveServer));
  const servers = resolved.filter((r): r is SntpServer => !('unresolved' in r));
  const clock = new SecureClock({ ticks: new NodeTicks(), buildTimeMs: o.floorMs, minSources: o.minSources });
  let queried: ServerOutcome[] = [];
  if (servers.length > 0) {
    const ipv6 = servers.some((s) => isIP(s.address) === 6);
    const client = new SntpClient({ udp: new NodeUdp({ ipv6 }), timers: new NodeTimers(), random: new NodeRandom(), clock, servers, timeoutMs: o.timeoutMs, attempts: o.attempts });
    queried = await new Promise<ServerOutcome[]>((resolve) => client.round(resolve));
  }
  // Back in argument order, with the unresolved names as rejected sources.
  let next = 0;
  const outcomes = resolved.map(
    (r): Pick<ServerOutcome, 'verdict' | 'reason' | 'offsetMs' | 'delayMs' | 'boundMs'> =>
      'unresolved' in r ? { verdict: 'rejected', reason: r.unresolved, offsetMs: NaN, delayMs: NaN, boundMs: NaN } : queried[next++]!,
  );
  const reading = clock.now();
  // Offsets are reported against this host's system clock: sample offsets
  // are (wall - monotonic), so add (monotonic - system) read together.
  const monoMinusSystem = clock.monoNow() - Date.now();
  const trusted = (reading.state === 'SYNCED' || reading.state === 'FREE_RUNNING') && reading.bound <= o.maxBoundMs;
  const known = Number.isFinite(reading.bound);
  return {
    state: reading.state,
    trusted,
    offsetMs: known ? round3((reading.earliest + reading.latest) / 2 - Date.now()) : null,
    boundMs: known ? round3(reading.bound) : null,
    earliestMs: known ? reading.earliest : null,
    latestMs: known ? reading.latest : null,
    sources: outcomes.map((s, i) => ({
      server: o.servers[i]!,
      verdict: s.verdict,
      reason: s.reason,
      offsetMs: round3(s.offsetMs + monoMinusSystem),
      delayMs: round3(s.delayMs),
      boundMs: round3(s.boundMs),
    })),
  };
}

function table(r: ProbeReport): string {
  const lines = [`state ${r.state}${r.trusted ? ' (trusted)' : ' (NOT trusted)'}  offset ${r.offsetMs ?? '-'} ms  bound ±${r.boundMs ?? '-'} ms`];
  lines.push(`${'server'.padEnd(26)} ${'verdict'.padEnd(12)} ${'reason'.padEnd(22)} ${'offset ms'.padStart(9)} ${'delay ms'.padStart(12)} ${'bound ms'.padStart(12)}`);
  for (const s of r.sources) {
    lines.push(
      `${s.server.padEnd(26)} ${s.verdict.padEnd(12)} ${(s.reason || '-').padEnd(22)} ${String(s.offsetMs ?? '-').padStart(9)} ${String(s.delayMs ?? '-').padStart(12)} ${String(s.boundMs ?? '-').padStart(12)}`,
    );
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let options: ProbeOptions;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    options = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  let report: ProbeReport;
  try {
    report = await probe(options);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError ? `${USAGE}\n` : ''}`);
    return 2;
  }
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${table(report)}\n`);
  return report.trusted ? 0 : 1;
}
