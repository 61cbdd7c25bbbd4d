// The trusted floor: what may raise it (elapsed uptime, TLS-authenticated Date
// headers, accepted SigV4 signatures) and what may not (SNTP, however many
// servers agree), the per-boot cap, persistence, and recovery after a
// liar-majority boot. Expected numbers are worked by hand from the model:
// floor(m) = evidence + elapsed - 50 ppm of it - one 1 ms tick, and the cap
// is boot floor + uptime + 24 h.
import type { PortableSuite } from '../harness/portable.js';
import { SecureClock, type SecureClockOptions } from '../../src/time/secure-clock.js';
import { FLOOR_KEY } from '../../src/time/trusted-floor.js';
import { SntpClient, type ServerOutcome } from '../../src/time/sntp-client.js';
import { ManualTicks, ManualTimer, MemoryKeyValue, ScriptedUdp, SeededRandom, buildReply, runSntpRound } from '../harness/fakes.js';

/** True wall time at monotonic 0: 2027-01-15T08:00:00Z. */
const WALL0 = 1_800_000_000_000;
/** Firmware build time: one hour before WALL0 (within the per-boot cap of it). */
const BUILD = WALL0 - 3_600_000;
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
/** AWS SigV4's clock-skew window, 5 minutes (the AWS documentation's figure, not the core's constant). */
const SIGV4_WINDOW_MS = 300_000;

function make(options: Partial<SecureClockOptions> = {}): { ticks: ManualTicks; clock: SecureClock } {
  const ticks = new ManualTicks(1000, 0, 0);
  const clock = new SecureClock({ ticks, buildTimeMs: BUILD, ...options });
  return { ticks, clock };
}

/** An IMF-fixdate for `ms`, written out by hand (not through the core's parser). */
function imfDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** A Date vote answered at the current tick for a request sent 200 ms earlier; the server stamped it 100 ms before we read it. */
function vote(clock: SecureClock, ticks: ManualTicks, source: string, trueNowMs: number): { verdict: string; dateMs: number } {
  const dateMs = Math.floor((trueNowMs - 100) / 1000) * 1000;
  const verdict = clock.addDateVote(source, [['Date', imfDate(dateMs)]], ticks.raw - 200);
  return { verdict, dateMs };
}

/** Three sources agreeing that true time is `trueMs` (± `halfMs`) at the current tick: the clock becomes SYNCED. */
function syncAt(clock: SecureClock, ticks: ManualTicks, trueMs: number, halfMs: number): void {
  for (const s of ['ntp-a', 'ntp-b', 'ntp-c']) clock.addSample(s, trueMs - ticks.raw - halfMs, trueMs - ticks.raw + halfMs, ticks.raw);
  if (!clock.select()) throw new Error('sync failed');
}

interface Rig {
  ticks: ManualTicks;
  timers: ManualTimer;
  clock: SecureClock;
  client: SntpClient;
}

/** SNTP servers 10 ms away each direction; server i is `shifts[i]` ms off true time. */
function sntpRig(shifts: number[], store: MemoryKeyValue): Rig {
  const ticks = new ManualTicks(1000, 0, 0);
  const timers = new ManualTimer(ticks);
  const udp = new ScriptedUdp();
  const clock = new SecureClock({ ticks, buildTimeMs: BUILD, store });
  const servers = shifts.map((_, i) => ({ address: `127.0.0.${i + 2}`, port: 123 }));
  const client = new SntpClient({ udp, timers, random: new SeededRandom(7), clock, servers, attempts: 1, timeoutMs: 500, retryJitterMs: 0 });
  udp.onSend = (socket, d) => {
    const i = servers.findIndex((s) => s.address === d.address && s.port === d.port);
    const t2 = WALL0 + ticks.raw + 10 + shifts[i]!;
    timers.set(() => socket.deliver(buildReply(d.bytes, { receiveMs: t2, transmitMs: t2 + 2 }), d.address, d.port), 22);
  };
  return { ticks, timers, clock, client };
}

const runRound = (r: Rig): ServerOutcome[] => runSntpRound(r.client, r.timers);

const suite: PortableSuite = () => [
  {
    name: 'SNTP: four of five servers lie by +1 year: they may set the clock, but the floor (RAM and store) only follows uptime; the next boot syncs with honest servers',
    run(t) {
      const store = new MemoryKeyValue();
      const liars = sntpRig([0, YEAR_MS, YEAR_MS, YEAR_MS, YEAR_MS], store);
      liars.ticks.raw = 10_000;
      runRound(liars);
      const fooled = liars.clock.now();
      t.equal(fooled.state, 'SYNCED', 'a liar majority wins the selection: SNTP is unauthenticated');
      t.ok(fooled.earliest > WALL0 + YEAR_MS - DAY_MS, `clock reads the liars' time: ${fooled.earliest}`);
      const uptime = liars.ticks.raw;
      t.ok(liars.clock.floor.floorMs <= BUILD + uptime, `floor ${liars.clock.floor.floorMs - BUILD} ms above build, uptime ${uptime} ms`);
      const stored = store.get(FLOOR_KEY);
      t.ok(stored === undefined || Number(stored) <= BUILD + uptime, `stored floor ${stored}`);

      const honest = sntpRig([0, 0, 0, 0, 0], store);
      honest.ticks.raw = 10_000;
      const o = runRound(honest);
      t.deepEqual(o.map((x) => x.verdict), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'], JSON.stringify(o.map((x) => x.reason)));
      const r = honest.clock.now();
      t.equal(r.state, 'SYNCED');
      t.ok(r.earliest <= WALL0 + honest.ticks.raw && WALL0 + honest.ticks.raw <= r.latest, 'true time inside');
    },
  },
  {
    name: 'SNTP: a liar majority does not raise the floor even when it agrees with nothing else for hours (floor = build + uptime - 50 ppm - 1 tick)',
    run(t) {
      const { ticks, clock } = make();
      for (let k = 1; k <= 4; k++) {
        ticks.raw = k * 1_800_000;
        for (const s of ['a', 'b', 'c']) clock.addSample(s, WALL0 + YEAR_MS - 5, WALL0 + YEAR_MS + 5, ticks.raw);
        t.equal(clock.select(), true);
      }
      t.equal(clock.now().state, 'SYNCED');
      // 7 200 000 ms of uptime: 50 ppm of it is 360 ms, plus one 1 ms tick.
      t.equal(clock.floor.floorMs, BUILD + 7_200_000 - 360 - 1);
    },
  },
  {
    name: 'Date vote of an authenticated server: held while the clock is untrusted, applied (and persisted) once a selection agrees; after reboot earlier claims are refused',
    run(t) {
      const store = new MemoryKeyValue();
      const { ticks, clock } = make({ store });
      ticks.raw = 1200;
      const { verdict, dateMs } = vote(clock, ticks, 'sts', WALL0 + 1200);
      t.equal(verdict, 'accepted');
      t.equal(clock.now().state, 'UNTRUSTED', 'one vote does not set the clock');
      t.equal(clock.floor.floorMs, Math.floor(BUILD + 1200 - 0.06 - 1), 'untrusted: only uptime (1200 ms, less 0.06 ms at 50 ppm and a tick) raises the floor');
      ticks.raw = 1300;
      syncAt(clock, ticks, WALL0 + 1300, 5);
      t.equal(clock.now().state, 'SYNCED');
      // The vote's Date, carried 100 ms (less 50 ppm and a tick), is below the clock's earliest (true - 5 ms - a tick).
      const carried = dateMs + 100 - 0.005 - 1;
      t.equal(clock.floor.floorMs, Math.floor(carried), 'the Date is a time that has passed');
      t.equal(store.get(FLOOR_KEY), String(Math.floor(carried)));
      const again = make({ store });
      t.equal(again.clock.now().earliest, Math.floor(carried));
      t.equal(again.clock.addSample('replay', dateMs - 60_000 - 5, dateMs - 60_000 + 5, 0), 'before-floor');
    },
  },
  {
    name: 'a TLS-authenticated server whose clock is 10 min fast (a skewed gateway) cannot lift the floor past the honest majority\'s interval',
    run(t) {
      const store = new MemoryKeyValue();
      const { ticks, clock } = make({ store });
      ticks.raw = 3_600_000;
      syncAt(clock, ticks, WALL0 + ticks.raw, 5);
      vote(clock, ticks, 'skewed-gateway', WALL0 + ticks.raw + 600_000);
      clock.acceptedSignature(WALL0 + ticks.raw + 600_000);
      const trueNow = WALL0 + ticks.raw;
      t.ok(clock.floor.floorMs <= trueNow, `floor ${clock.floor.floorMs - trueNow} ms from true time`);
      t.ok(clock.floor.floorMs >= trueNow - 7, 'and it did rise as far as the clock agrees');
      const next = make({ store });
      t.equal(next.clock.addSample('honest', trueNow - 5, trueNow + 5, 0), 'accepted', 'after reboot honest time is not before the floor');
    },
  },
  {
    name: 'accepted signature: the floor rises to signing time - 5 min once trusted; non-finite or lower reports change nothing',
    run(t) {
      const { ticks, clock } = make();
      ticks.raw = 2000;
      clock.acceptedSignature(WALL0 + 2000);
      t.equal(clock.now().state, 'UNTRUSTED', 'the floor is not the clock');
      t.equal(clock.floor.floorMs, Math.floor(BUILD + 2000 - 0.1 - 1), 'untrusted: uptime only (less 50 ppm and a tick)');
      syncAt(clock, ticks, WALL0 + 2000, 5);
      t.equal(clock.floor.floorMs, WALL0 + 2000 - SIGV4_WINDOW_MS - 1, 'signing time - 5 min, less a tick');
      clock.acceptedSignature(NaN);
      clock.acceptedSignature(Infinity);
      clock.acceptedSignature(WALL0 - DAY_MS);
      clock.acceptedSignature('soon' as unknown as number);
      t.equal(clock.floor.floorMs, WALL0 + 2000 - SIGV4_WINDOW_MS - 1);
    },
  },
  {
    name: 'per-boot cap: with a liar majority AND authenticated evidence a year ahead, the floor rises at most 24 h above boot floor + uptime; the next boot 24 h more',
    run(t) {
      const store = new MemoryKeyValue();
      const { ticks, clock } = make({ store });
      ticks.raw = 5000;
      syncAt(clock, ticks, WALL0 + YEAR_MS, 5);
      vote(clock, ticks, 'a', WALL0 + YEAR_MS);
      vote(clock, ticks, 'b', WALL0 + YEAR_MS);
      clock.acceptedSignature(WALL0 + YEAR_MS);
      t.equal(clock.floor.floorMs, BUILD + 5000 + DAY_MS - 1);
      t.ok(clock.cappedFloorRaises >= 3, `capped ${clock.cappedFloorRaises}`);
      t.equal(store.get(FLOOR_KEY), String(BUILD + 5000 + DAY_MS - 1));
      const next = make({ store });
      syncAt(next.clock, next.ticks, WALL0 + YEAR_MS, 5);
      next.clock.acceptedSignature(WALL0 + YEAR_MS);
      t.equal(next.clock.floor.floorMs, BUILD + 5000 + 2 * DAY_MS - 2);
      const tight = make({ maxFloorRisePerBootMs: 0 });
      tight.ticks.raw = 1000;
      syncAt(tight.clock, tight.ticks, WALL0 + YEAR_MS, 5);
      tight.clock.acceptedSignature(WALL0 + YEAR_MS);
      t.equal(tight.clock.floor.floorMs, BUILD + 1000 - 1, 'cap 0: boot floor + uptime only');
    },
  },
  {
    name: 'uptime: the floor follows boot floor + elapsed time (less 50 ppm and a tick) and is written once per persist step',
    run(t) {
      const store = new MemoryKeyValue();
      const { ticks, clock } = make({ store });
      t.equal(clock.now().earliest, BUILD);
      ticks.raw = 1_800_000;
      t.equal(clock.now().earliest, BUILD + 1_800_000 - 90 - 1);
      t.equal(store.writes, 0, 'less than an hour above the build time: nothing to write');
      ticks.raw = 5_500_000;
      clock.now();
      t.equal(store.writes, 1);
      t.equal(store.get(FLOOR_KEY), String(BUILD + 5_500_000 - 275 - 1));
      ticks.raw = 7_200_000;
      t.equal(clock.now().earliest, BUILD + 7_200_000 - 360 - 1);
      t.equal(store.writes, 1, 'less than an hour above the stored value');
      ticks.raw = 9_200_000;
      clock.now();
      t.equal(store.writes, 2);
    },
  },
  {
    name: 'sleep: asleep, the floor rises at the sleep rate bound (5 %), and not at all until endSleep() says how long',
    run(t) {
      const { ticks, clock } = make();
      ticks.raw = 1000;
      clock.now();
      clock.beginSleep();
      ticks.raw = 51_000;
      clock.now();
      t.ok(clock.floor.floorMs <= BUILD + 1000 + 50_000 * 0.95, `mid-sleep floor ${clock.floor.floorMs - BUILD}`);
      ticks.raw = 101_000;
      clock.endSleep();
      // 1000 ms awake at 50 ppm (0.05 ms) + 100 000 ms asleep at 5 % (5000 ms) + one tick.
      t.equal(clock.floor.floorMs, Math.floor(BUILD + 101_000 - 0.05 - 5000 - 1));
    },
  },
  {
    name: 'Date vote never throws: malformed dates, odd header lists and non-string values are invalid, counted, and leave the clock as it was',
    run(t) {
      const { ticks, clock } = make();
      ticks.raw = 1000;
      const good = imfDate(WALL0);
      const cases: unknown[] = [
        [['Date', 'yesterday']],
        [['Date', good.slice(0, 20)]],
        [['Date', good.replace('GMT', 'UTC')]],
        [['Date', 42]],
        [['Date', null]],
        [['Date']],
        [['Date', good, 'extra']],
        [[7, good]],
        [null],
        ['Date: x'],
        [['Date', good], ['date', good]],
        null,
        undefined,
        'Date',
        { length: 1, 0: ['Date', good] },
        new Array(300).fill(['X', 'y']),
      ];
      let n = 0;
      for (const headers of cases) {
        t.equal(clock.addDateVote('x', headers as Array<[string, string]>, 900), 'invalid', `case ${n}`);
        n++;
      }
      t.equal(clock.addDateVote('x', [['Date', good]], NaN), 'invalid', 'non-finite send time');
      t.equal(clock.addDateVote('x', [['Date', good]], 5000), 'invalid', 'sent after it was answered');
      t.equal(clock.rejectedDateVotes, n + 2);
      t.equal(clock.floor.floorMs, BUILD + 998, 'only uptime moved the floor (1000 ms less 0.05 ms and a tick)');
      t.equal(clock.sourceVerdict('date:x'), 'unknown', 'nothing pooled');
      t.equal(clock.addDateVote('x', [['date', ` ${good} `]], 900), 'accepted', 'the same Date, well formed, still counts');
    },
  },
];
export default suite;
