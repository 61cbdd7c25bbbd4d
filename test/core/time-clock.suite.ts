// Secure clock: states, error growth, sleep, disruption, Date votes and the
// trusted floor. Numbers are first principles: 50 ppm over 1000 s is 50 ms,
// 5 % over 100 s is 5000 ms, and so on.
import type { PortableSuite } from '../harness/portable.js';
import { SecureClock, type SecureClockOptions } from '../../src/time/secure-clock.js';
import { TimeError } from '../../src/time/errors.js';
import { parseHttpDate } from '../../src/time/http-date.js';
import { FLOOR_KEY } from '../../src/time/trusted-floor.js';
import { ManualTicks, MemoryKeyValue, SeededRandom } from '../harness/fakes.js';

/** 2026-01-01T00:00:00Z */
const FLOOR_2026 = 1_767_225_600_000;
/** Wall time at monotonic 0: 2027-01-15T08:00:00Z. */
const WALL0 = 1_800_000_000_000;

function make(options: Partial<SecureClockOptions> = {}): { ticks: ManualTicks; clock: SecureClock } {
  const ticks = new ManualTicks(1000, 0, 0);
  const clock = new SecureClock({ ticks, buildTimeMs: FLOOR_2026, ...options });
  return { ticks, clock };
}

/** Two honest sources, each ±halfWidth around the true offset WALL0, then select. */
function sync(clock: SecureClock, ticks: ManualTicks, halfWidth = 10): void {
  const m = ticks.raw;
  clock.addSample('a', WALL0 - halfWidth, WALL0 + halfWidth, m);
  clock.addSample('b', WALL0 - halfWidth, WALL0 + halfWidth, m);
  clock.select();
}

const isCode = (code: string) => (e: unknown) => e instanceof TimeError && e.code === code;

const suite: PortableSuite = () => [
  {
    name: 'boot: UNTRUSTED, earliest is the build-time floor, latest and bound infinite',
    run(t) {
      const { clock } = make();
      t.deepEqual(clock.now(), { state: 'UNTRUSTED', earliest: FLOOR_2026, latest: Infinity, bound: Infinity });
      t.equal(clock.trusted(1e15), false);
    },
  },
  {
    name: 'two agreeing sources: SYNCED, interval around true time; bound grows at phi (50 ppm: 50 ms per 1000 s)',
    run(t) {
      const { ticks, clock } = make();
      ticks.raw = 5000;
      sync(clock, ticks, 10);
      const r0 = clock.now();
      t.equal(r0.state, 'SYNCED');
      // [WALL0 + 5000 - 10 - 1 (tick), WALL0 + 5000 + 10 + 1]
      t.equal(r0.earliest, WALL0 + 5000 - 11);
      t.equal(r0.latest, WALL0 + 5000 + 11);
      t.equal(r0.bound, 11);
      t.ok(clock.trusted(11) && !clock.trusted(10.9));
      ticks.raw += 1_000_000;
      const r1 = clock.now();
      t.equal(r1.earliest, WALL0 + 1_005_000 - 61);
      t.equal(r1.latest, WALL0 + 1_005_000 + 61);
    },
  },
  {
    name: 'SYNCED becomes FREE_RUNNING after syncedForMs and UNTRUSTED after voidAfterMs',
    run(t) {
      const { ticks, clock } = make({ syncedForMs: 1000, voidAfterMs: 10_000 });
      sync(clock, ticks);
      ticks.raw += 1000;
      t.equal(clock.now().state, 'SYNCED');
      ticks.raw += 1;
      t.equal(clock.now().state, 'FREE_RUNNING');
      t.ok(clock.trusted(100));
      ticks.raw += 9000;
      t.equal(clock.now().state, 'UNTRUSTED');
      t.equal(clock.now().latest, Infinity);
    },
  },
  {
    name: 'a bound above maxBoundMs (E_max) is UNTRUSTED',
    run(t) {
      // E = 10 + 1 + 50e-6 * elapsed: reaches 100 ms after 1 780 000 ms
      const { ticks, clock } = make({ maxBoundMs: 100 });
      sync(clock, ticks, 10);
      ticks.raw += 1_779_000;
      t.equal(clock.now().state, 'SYNCED');
      ticks.raw += 2_000;
      t.equal(clock.now().state, 'UNTRUSTED');
    },
  },
  {
    name: 'time asleep widens the bound at the sleep rate (5 %: 5000 ms per 100 s)',
    run(t) {
      const { ticks, clock } = make();
      sync(clock, ticks, 10);
      const before = clock.now();
      clock.beginSleep();
      ticks.raw += 100_000;
      clock.endSleep();
      const after = clock.now();
      t.equal(after.bound - before.bound, 5000);
      t.equal(after.state, 'SYNCED');
    },
  },
  {
    name: 'markDisrupted: DISRUPTED, untrusted, resync requested, server time not adopted; a new majority recovers',
    run(t) {
      const reasons: string[] = [];
      const { ticks, clock } = make({ onResyncNeeded: (r) => reasons.push(r) });
      sync(clock, ticks);
      clock.markDisrupted('RequestTimeTooSkewed');
      const r = clock.now();
      t.deepEqual(r, { state: 'DISRUPTED', earliest: r.earliest, latest: Infinity, bound: Infinity });
      t.ok(r.earliest >= FLOOR_2026);
      t.equal(clock.trusted(1e9), false);
      t.deepEqual(reasons, ['RequestTimeTooSkewed']);
      t.equal(clock.select(), false, 'old evidence was dropped');
      ticks.raw += 100;
      sync(clock, ticks);
      t.equal(clock.now().state, 'SYNCED');
    },
  },
  {
    name: 'a new majority overlapping the running interval tightens it; one that contradicts it replaces it and is counted',
    run(t) {
      const { ticks, clock } = make();
      sync(clock, ticks, 100);
      ticks.raw += 1000;
      // new evidence ±10 around WALL0 + 50: intersection with [WALL0 - 100, WALL0 + 100] (+ drift) is [WALL0 + 40, WALL0 + 60]
      clock.addSample('a', WALL0 + 40, WALL0 + 60, ticks.raw);
      clock.addSample('b', WALL0 + 40, WALL0 + 60, ticks.raw);
      clock.select();
      const r = clock.now();
      t.equal(r.earliest, WALL0 + 1000 + 40 - 1);
      t.equal(r.latest, WALL0 + 1000 + 60 + 1);
      t.equal(clock.disagreements, 0);
      clock.addSample('a', WALL0 + 10_000, WALL0 + 10_020, ticks.raw);
      clock.addSample('b', WALL0 + 10_000, WALL0 + 10_020, ticks.raw);
      clock.select();
      t.equal(clock.disagreements, 1);
      t.equal(clock.now().earliest, WALL0 + 1000 + 10_000 - 1);
    },
  },
  {
    name: 'ticks going backwards disrupt the clock',
    run(t) {
      const { ticks, clock } = make();
      ticks.raw = 10_000;
      sync(clock, ticks);
      ticks.raw = 9_000;
      t.equal(clock.now().state, 'DISRUPTED');
      t.equal(clock.disruptionReason, 'ticks-backwards');
    },
  },
  {
    name: 'bound never shrinks without a new sample (seeded walk over awake, asleep and reads)',
    run(t) {
      const rng = new SeededRandom(0xb0d);
      for (let trial = 0; trial < 20; trial++) {
        const { ticks, clock } = make({ maxBoundMs: 1e9, voidAfterMs: 1e12, syncedForMs: 1e12 });
        sync(clock, ticks, rng.below(100));
        let last = clock.now().bound;
        for (let i = 0; i < 50; i++) {
          const op = rng.below(3);
          if (op === 0) ticks.raw += rng.below(1e6);
          else if (op === 1) {
            clock.beginSleep();
            ticks.raw += rng.below(1e5);
            clock.endSleep();
          }
          const b = clock.now().bound;
          t.ok(b >= last, `trial ${trial} step ${i}: ${b} >= ${last}`);
          last = b;
        }
      }
    },
  },
  {
    name: 'property (seeded): with a real oscillator error within phi, the interval always contains true time',
    run(t) {
      const rng = new SeededRandom(0xd21f7);
      for (let trial = 0; trial < 30; trial++) {
        const { ticks, clock } = make({ maxBoundMs: 1e9, voidAfterMs: 1e12 });
        const rho = ((rng.u32() / 2 ** 32) * 2 - 1) * 50e-6; // true rate error, |rho| <= 50 ppm
        let trueElapsed = 0;
        const trueWall = (): number => WALL0 + trueElapsed;
        // a sample: true wall at this mono lies in [w - e1, w + e2]
        const sample = (name: string): void => {
          const e1 = rng.below(50);
          const e2 = rng.below(50);
          clock.addSample(name, trueWall() - ticks.raw - e1, trueWall() - ticks.raw + e2, ticks.raw);
        };
        sample('a');
        sample('b');
        clock.select();
        for (let i = 0; i < 30; i++) {
          const dt = rng.below(3_600_000);
          trueElapsed += dt;
          ticks.raw += dt * (1 + rho);
          if (rng.chance(0.2)) {
            sample(rng.chance(0.5) ? 'a' : 'b');
            clock.select();
          }
          const r = clock.now();
          t.ok(r.earliest <= Math.floor(trueWall()) && Math.ceil(trueWall()) <= r.latest, `trial ${trial} step ${i}: ${r.earliest} <= ${trueWall()} <= ${r.latest}`);
        }
      }
    },
  },
  {
    name: 'Date header: RFC 9110 example parses; malformed dates throw date-header-invalid',
    run(t) {
      // RFC 9110 §5.6.7 example; 784111777 s is the well-known Unix time of that instant
      t.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), 784_111_777_000);
      t.equal(parseHttpDate('Thu, 01 Jan 1970 00:00:00 GMT'), 0);
      t.equal(parseHttpDate('Thu, 29 Feb 2024 23:59:59 GMT'), 1_709_251_199_000);
      const bad = isCode('date-header-invalid');
      t.throws(() => parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), bad, 'RFC 850 form refused');
      t.throws(() => parseHttpDate('Sun Nov  6 08:49:37 1994'), bad, 'asctime form refused');
      t.throws(() => parseHttpDate('Mon, 06 Nov 1994 08:49:37 GMT'), bad, 'wrong weekday');
      t.throws(() => parseHttpDate('Tue, 31 Feb 2026 08:49:37 GMT'), bad, '31 February');
      t.throws(() => parseHttpDate('Sun, 06 Nov 1994 24:49:37 GMT'), bad);
      t.throws(() => parseHttpDate('Sun, 06 Nov 1994 08:49:37 UTC'), bad);
      t.throws(() => parseHttpDate(''), bad);
    },
  },
  {
    name: 'Date vote: one vote with a 1 s + round-trip bound; with one NTP sample it makes two sources',
    run(t) {
      const { ticks, clock } = make();
      // True wall at mono m is WALL0 + m. Request sent at mono 1000, answered at 1200.
      ticks.raw = 1000;
      const sent = clock.monoNow();
      ticks.raw = 1200;
      // The server stamped its Date somewhere in between; its second is truncated.
      const dateMs = Math.floor((WALL0 + 1100) / 1000) * 1000;
      const headers: Array<[string, string]> = [['Content-Type', 'application/json'], ['Date', new Date(dateMs).toUTCString()]];
      t.equal(clock.addDateVote('sts', headers, sent), 'accepted');
      t.equal(clock.now().state, 'UNTRUSTED', 'one vote is not two sources');
      clock.addSample('ntp', WALL0 - 5, WALL0 + 5, ticks.raw);
      t.equal(clock.select(), true);
      const r = clock.now();
      t.equal(r.state, 'SYNCED');
      t.ok(r.earliest <= WALL0 + 1200 && WALL0 + 1200 <= r.latest);
      t.equal(clock.sourceVerdict('date:sts'), 'accepted');
    },
  },
  {
    name: 'Date vote: Age present (maybe cached) or no Date is not counted; a malformed Date is refused, counted, and changes nothing',
    run(t) {
      const { ticks, clock } = make();
      const sent = clock.monoNow();
      ticks.raw = 50;
      t.equal(clock.addDateVote('cdn', [['Date', 'Fri, 15 Jan 2027 08:00:00 GMT'], ['Age', '30']], sent), 'age-present');
      t.equal(clock.addDateVote('cdn', [['Server', 'x']], sent), 'no-date');
      t.equal(clock.rejectedDateVotes, 0, 'no Date offered yet');
      t.equal(clock.addDateVote('cdn', [['Date', 'yesterday']], sent), 'invalid');
      t.equal(clock.addDateVote('old', [['Date', 'Sun, 06 Nov 1994 08:49:37 GMT']], sent), 'before-floor');
      t.equal(clock.rejectedDateVotes, 2);
      clock.addSample('ntp', WALL0 - 5, WALL0 + 5, ticks.raw);
      t.equal(clock.select(), false, 'nothing else entered the pool');
    },
  },
  {
    name: 'trusted floor: a corrupt stored value is reported, ignored, and left untouched',
    run(t) {
      for (const junk of ['abc', '', '-5', '1e12', '99999999999999999999', ' 12']) {
        const store = new MemoryKeyValue();
        store.map.set(FLOOR_KEY, junk);
        const { clock } = make({ store });
        t.ok(clock.floor.restoreError !== null && clock.floor.restoreError.code === 'floor-corrupt', `junk ${JSON.stringify(junk)}`);
        t.equal(clock.now().earliest, FLOOR_2026);
        t.equal(store.writes, 0);
        t.equal(store.get(FLOOR_KEY), junk);
      }
    },
  },
  {
    name: 'options are validated with a typed error',
    run(t) {
      const bad = isCode('invalid-option');
      t.throws(() => make({ phiPpm: -1 }), bad);
      t.throws(() => make({ minSources: 0 }), bad);
      t.throws(() => make({ minSources: 1.5 }), bad);
      t.throws(() => make({ maxBoundMs: NaN }), bad);
      t.throws(() => make({ buildTimeMs: -1 }), bad);
    },
  },
];
export default suite;
