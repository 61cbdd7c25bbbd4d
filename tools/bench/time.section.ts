// Bench: secure time against 3 local chrony servers.
//   time_to_synced_ms  cold start (new SecureClock, SntpClient, TimeSync) to SYNCED, median of RUNS, wall ms
//   bound_ms           our error bound right after SYNCED (half-width of [earliest, latest]), median
//   chrony_bound_ms    chrony's own estimate for the same servers: a chrony client instance
//                      (chronyd -x) synchronised to them, read with `chronyc tracking`; chrony documents
//                      |system time offset| + root dispersion + root delay / 2 as the bound on its clock error
//   chrony_time_to_synced_ms  that client's start to first selected source (iburst, poll 2^-2 s)
//   time_xs_round_computrons  XS computrons of one SNTP round over 3 scripted servers (request
//                             encoding, 3 replies validated, selection, clock anchored), deterministic
//   time_xs_now_computrons    XS computrons of one clock.now() (the signer calls it per request)
// Why ours is larger: chrony timestamps packets in the kernel and filters many samples, we take
// T1/T4 in JavaScript around Node's event loop and keep one sample per server; both are honest
// bounds for their own timestamps. Wall time here is a measurement, never asserted.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runXsSnippet } from '../xs/snippet.js';
import { NodeRandom } from '../../src/platform/node/random.js';
import { NodeTicks } from '../../src/platform/node/ticks.js';
import { NodeTimers } from '../../src/platform/node/timers.js';
import { NodeUdp } from '../../src/platform/node/udp.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import { SntpClient } from '../../src/time/sntp-client.js';
import { TimeSync } from '../../src/time/time-sync.js';
import { startChronyClient } from '../chrony/client.js';
import { chronydPath, chronyVersion, randomChronyPort, startChronyServers, stopChronyServers } from '../chrony/servers.js';

const RUNS = 5;
/** Give up on one cold start after this long (wall ms). */
const SYNC_TIMEOUT_MS = 30_000;
const FLOOR_2026 = 1_767_225_600_000;

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Computrons on XS for one scripted round and one now() (bundled at bench time, like the queue section). */
async function xsComputrons(): Promise<{ round: number; now: number }> {
  const report = await runXsSnippet<{ round: number; now: number; state: string }>(
    `
        import { SecureClock } from ${JSON.stringify(join(dist, 'src/time/secure-clock.js'))};
        import { SntpClient } from ${JSON.stringify(join(dist, 'src/time/sntp-client.js'))};
        import { ManualTicks, ManualTimer, ScriptedUdp, SeededRandom, buildReply } from ${JSON.stringify(join(dist, 'test/harness/fakes.js'))};
        const lap = () => resetMeter(0, 0) >>> 0;
        const ticks = new ManualTicks(1000, 32, 0);
        const timers = new ManualTimer(ticks);
        const udp = new ScriptedUdp();
        const replies = [];
        udp.onSend = (socket, d) => replies.push({ socket, d, reply: buildReply(d.bytes, { receiveMs: 1800000000000 + ticks.raw + 10, transmitMs: 1800000000000 + ticks.raw + 10 }) });
        const clock = new SecureClock({ ticks, buildTimeMs: 1767225600000 });
        const servers = [2, 3, 4].map((n) => ({ address: '127.0.0.' + n, port: 123 }));
        const client = new SntpClient({ udp, timers, random: new SeededRandom(1), clock, servers });
        let state = '';
        lap();
        client.round(() => { state = clock.now().state; });
        for (const r of replies) r.socket.deliver(r.reply, r.d.address, r.d.port);
        const round = lap();
        clock.now();
        const now = lap();
        const bytes = new TextEncoder().encode(JSON.stringify({ round, now, state }));
        issueCommand(bytes.buffer);
      `,
    dist,
  );
  const r = report as { round: number; now: number; state: string } | null;
  if (r === null || r.state !== 'SYNCED') throw new Error(`XS time bench did not reach SYNCED: ${JSON.stringify(r)}`);
  return { round: r.round, now: r.now };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

async function coldStart(servers: Array<{ address: string; port: number }>): Promise<{ ms: number; bound: number }> {
  const t0 = performance.now();
  const clock = new SecureClock({ ticks: new NodeTicks(), buildTimeMs: FLOOR_2026 });
  const sntp = new SntpClient({ udp: new NodeUdp(), timers: new NodeTimers(), random: new NodeRandom(), clock, servers });
  return await new Promise((resolve, reject) => {
    const sync = new TimeSync({
      sntp,
      timers: new NodeTimers(),
      random: new NodeRandom(),
      onRound: () => {
        const r = clock.now();
        if (r.state === 'SYNCED') {
          const ms = performance.now() - t0;
          sync.stop();
          clearTimeout(giveUp);
          resolve({ ms, bound: r.bound });
        }
      },
    });
    const giveUp = setTimeout(() => {
      sync.stop();
      reject(new Error('no SYNCED within the bench timeout'));
    }, SYNC_TIMEOUT_MS);
    sync.start();
  });
}

export async function run(): Promise<Record<string, number | string | boolean | null>> {
  const xs = await xsComputrons();
  process.stderr.write(`secure time on XS: ${xs.round} computrons per 3-server round, ${xs.now} per now()\n`);
  const xsResult = { time_xs_round_computrons: xs.round, time_xs_now_computrons: xs.now };
  if (!chronydPath()) {
    process.stderr.write('time bench: chronyd not installed, skipped\n');
    return { time_to_synced_ms: null, bound_ms: null, chrony_bound_ms: null, time_bench_skipped: 'chronyd not installed', ...xsResult };
  }
  const port = randomChronyPort();
  const specs = [2, 3, 4].map((n) => ({ address: `127.0.124.${n}`, port }));
  const servers = await startChronyServers(specs);
  try {
    const targets = specs.map((s) => ({ address: s.address, port: s.port }));
    const runs: Array<{ ms: number; bound: number }> = [];
    for (let i = 0; i < RUNS; i++) runs.push(await coldStart(targets));
    const client = startChronyClient(targets);
    let chronyBound: number | null = null;
    let chronySyncMs: number | null = null;
    try {
      chronySyncMs = await client.synced;
      // let it take a few more samples (poll 0.25 s) before reading its estimate
      await new Promise((r) => setTimeout(r, 2000));
      const t = client.tracking();
      if (t) chronyBound = client.boundMs(t);
    } catch (e) {
      process.stderr.write(`time bench: chrony client: ${e instanceof Error ? e.message : String(e)}\n`);
    } finally {
      await client.stop();
    }
    const result = {
      time_to_synced_ms: round3(median(runs.map((r) => r.ms))),
      bound_ms: round3(median(runs.map((r) => r.bound))),
      chrony_bound_ms: chronyBound === null ? null : round3(chronyBound),
      chrony_time_to_synced_ms: chronySyncMs,
      time_bench_runs: RUNS,
      time_bench_chrony: chronyVersion(),
      ...xsResult,
    };
    process.stderr.write(
      [
        'secure time vs 3 local chrony servers (loopback)',
        `  cold start -> SYNCED  median ${result.time_to_synced_ms} ms   (runs: ${runs.map((r) => round3(r.ms)).join(', ')})`,
        `  our bound             median ±${result.bound_ms} ms   (runs: ${runs.map((r) => round3(r.bound)).join(', ')})`,
        `  chrony client bound   ±${result.chrony_bound_ms} ms  (|offset| + root dispersion + root delay/2, chronyc tracking)`,
        `  chrony client synced  after ${chronySyncMs} ms (iburst, poll 2^-2 s)`,
        '',
      ].join('\n'),
    );
    return result;
  } finally {
    await stopChronyServers(servers);
  }
}
