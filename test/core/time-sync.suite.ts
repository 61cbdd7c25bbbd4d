// TimeSync scheduling over scripted UDP and hand-driven timers: acquisition
// retries back off, steady state never polls a server faster than 64 s, and a
// disruption triggers a resync as soon as the servers may be queried.
import type { PortableSuite } from '../harness/portable.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import { SntpClient } from '../../src/time/sntp-client.js';
import { TimeSync } from '../../src/time/time-sync.js';
import { ManualTicks, ManualTimer, ScriptedUdp, SeededRandom, buildReply } from '../harness/fakes.js';

const FLOOR_2026 = 1_767_225_600_000;
const WALL0 = 1_800_000_000_000;

interface World {
  ticks: ManualTicks;
  timers: ManualTimer;
  udp: ScriptedUdp;
  clock: SecureClock;
  sync: TimeSync;
  /** Monotonic send times per server address. */
  sends: Map<string, number[]>;
  online: { value: boolean };
}

function world(pollIntervalMs: number): World {
  const ticks = new ManualTicks(1000, 0, 0);
  const timers = new ManualTimer(ticks);
  const udp = new ScriptedUdp();
  const clock = new SecureClock({ ticks, buildTimeMs: FLOOR_2026 });
  const servers = [2, 3, 4].map((n) => ({ address: `127.0.0.${n}`, port: 123 }));
  const sntp = new SntpClient({ udp, timers, random: new SeededRandom(5), clock, servers, timeoutMs: 1000, attempts: 2, retryJitterMs: 100 });
  const sync = new TimeSync({ sntp, timers, random: new SeededRandom(6), pollIntervalMs, retryMs: 4000 });
  const sends = new Map<string, number[]>();
  const online = { value: true };
  udp.onSend = (socket, d) => {
    const list = sends.get(d.address) ?? [];
    list.push(ticks.raw);
    sends.set(d.address, list);
    if (!online.value) return;
    const t2 = WALL0 + ticks.raw + 5;
    timers.set(() => socket.deliver(buildReply(d.bytes, { receiveMs: t2, transmitMs: t2 }), d.address, d.port), 10);
  };
  return { ticks, timers, udp, clock, sync, sends, online };
}

function minGap(times: number[]): number {
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return gap;
}

const suite: PortableSuite = () => [
  {
    name: 'start: first round at once, SYNCED within one round trip',
    run(t) {
      const w = world(1_024_000);
      w.sync.start();
      w.timers.advance(100);
      t.equal(w.clock.now().state, 'SYNCED');
      t.equal(w.sync.rounds, 1);
      w.sync.stop();
      t.equal(w.timers.size, 0, 'stop leaves no timer behind');
    },
  },
  {
    name: 'steady state: no server is polled faster than 64 s, even with a 1 s poll interval configured',
    run(t) {
      const w = world(1000);
      t.equal(w.sync.pollIntervalMs, 64_000, 'clamped up');
      w.sync.start();
      w.timers.advance(3_600_000);
      for (const [address, times] of w.sends) {
        t.ok(times.length >= 50 && times.length <= 57, `${address}: ${times.length} polls in an hour`);
        t.ok(minGap(times) >= 64_000, `${address}: min gap ${minGap(times)}`);
      }
      t.equal(w.clock.now().state, 'SYNCED');
      w.sync.stop();
    },
  },
  {
    name: 'acquisition: while servers are silent, retries back off (4 s doubling up to the poll interval), bounded',
    run(t) {
      const w = world(64_000);
      w.online.value = false;
      w.sync.start();
      w.timers.advance(600_000);
      const times = w.sends.get('127.0.0.2')!;
      // attempts 2 per round; rounds start 4, 8, 16, 32, 64, 64 ... s (+ <= 12.5 % jitter) after the previous ended
      t.ok(times.length >= 2 * 9 && times.length <= 2 * 14, `${times.length} sends in 10 min`);
      const roundStarts = times.filter((_, i) => i % 2 === 0);
      const gaps = roundStarts.slice(1).map((x, i) => x - roundStarts[i]!);
      t.ok(gaps[0]! >= 4000 && gaps[0]! < 4000 * 1.125 + 2200, `first gap ${gaps[0]}`);
      t.ok(gaps[gaps.length - 1]! >= 64_000, `last gap ${gaps[gaps.length - 1]}`);
      t.equal(w.clock.now().state, 'UNTRUSTED');
      w.online.value = true;
      w.timers.advance(80_000);
      t.equal(w.clock.now().state, 'SYNCED', 'recovers once servers answer');
      w.sync.stop();
    },
  },
  {
    name: 'markDisrupted: DISRUPTED at once, resync as soon as the 64 s per-server limit allows, then SYNCED',
    run(t) {
      const w = world(1_024_000);
      w.sync.start();
      w.timers.advance(100);
      t.equal(w.clock.now().state, 'SYNCED');
      w.timers.advance(10_000);
      w.clock.markDisrupted('SignatureDoesNotMatch: Signature expired');
      t.equal(w.clock.now().state, 'DISRUPTED');
      w.timers.advance(50_000); // 60.1 s after the first poll: still too soon
      t.equal(w.clock.now().state, 'DISRUPTED');
      t.equal(w.sends.get('127.0.0.2')!.length, 1);
      w.timers.advance(14_000);
      t.equal(w.clock.now().state, 'SYNCED');
      t.equal(w.sends.get('127.0.0.2')!.length, 2);
      t.ok(w.sends.get('127.0.0.2')![1]! >= 64_000);
      w.sync.stop();
    },
  },
];
export default suite;
