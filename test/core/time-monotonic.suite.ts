// Monotonic clock over raw ticks: wrap, signed counters, backwards steps and
// jumps. Expected values are first principles (elapsed = sum of true steps).
import type { PortableSuite } from '../harness/portable.js';
import { MonotonicClock } from '../../src/time/monotonic.js';
import { TimeError } from '../../src/time/errors.js';
import { ManualTicks, SeededRandom } from '../harness/fakes.js';

const TWO_32 = 4294967296;

const suite: PortableSuite = () => [
  {
    name: 'a 32-bit millisecond counter wraps without a disruption',
    run(t) {
      const ticks = new ManualTicks(1000, 32, TWO_32 - 10);
      const mono = new MonotonicClock(ticks);
      ticks.raw = 10; // 20 ms later, past the wrap
      t.equal(mono.nowMs(), 20);
      t.equal(mono.disruptions, 0);
    },
  },
  {
    name: "a signed 32-bit counter (Moddable Time.ticks going negative after ~24.8 days) counts on",
    run(t) {
      const ticks = new ManualTicks(1000, 32, 2 ** 31 - 5);
      const mono = new MonotonicClock(ticks);
      ticks.raw = -(2 ** 31) + 5; // +10 ms in two's complement
      t.equal(mono.nowMs(), 10);
      t.equal(mono.disruptions, 0);
    },
  },
  {
    name: 'a 32-bit microsecond counter wraps every ~71.6 minutes; reads within half a range are exact',
    run(t) {
      const ticks = new ManualTicks(1_000_000, 32, 0);
      const mono = new MonotonicClock(ticks);
      let expected = 0;
      for (let i = 0; i < 10; i++) {
        ticks.advanceMs(30 * 60_000); // 30 min < half range (35.8 min)
        expected += 30 * 60_000;
        t.equal(mono.nowMs(), expected);
      }
      t.equal(mono.disruptions, 0);
      t.equal(mono.resolutionMs, 0.001);
    },
  },
  {
    name: 'ticks going backwards are a disruption and the clock does not go back',
    run(t) {
      const ticks = new ManualTicks(1000, 0, 5000);
      const mono = new MonotonicClock(ticks);
      ticks.raw = 6000;
      t.equal(mono.nowMs(), 1000);
      ticks.raw = 5500;
      t.equal(mono.nowMs(), 1000, 'no step back');
      t.equal(mono.disruptions, 1);
      t.equal(mono.lastDisruption, 'ticks-backwards');
      ticks.raw = 5600;
      t.equal(mono.nowMs(), 1100, 'counts on from the new raw value');
    },
  },
  {
    name: 'on a wrapping counter a step of half the range or more reads as backwards',
    run(t) {
      const ticks = new ManualTicks(1000, 32, 1000);
      const mono = new MonotonicClock(ticks);
      ticks.raw = 999; // one tick back = 2^32 - 1 forward
      t.equal(mono.nowMs(), 0);
      t.equal(mono.lastDisruption, 'ticks-backwards');
    },
  },
  {
    name: 'a forward jump beyond maxStepMs (simulator wall-clock ticks being set) is a disruption',
    run(t) {
      const ticks = new ManualTicks(1000, 0, 0);
      const mono = new MonotonicClock(ticks, { maxStepMs: 60_000 });
      ticks.raw = 59_000;
      t.equal(mono.nowMs(), 59_000);
      ticks.raw = 59_000 + 3_600_000;
      t.equal(mono.nowMs(), 59_000);
      t.equal(mono.lastDisruption, 'ticks-jump');
      t.equal(mono.disruptions, 1);
    },
  },
  {
    name: 'non-finite raw ticks are ignored; bad sources are refused with a typed error',
    run(t) {
      const ticks = new ManualTicks(1000, 0, 0);
      const mono = new MonotonicClock(ticks);
      ticks.raw = NaN;
      t.equal(mono.nowMs(), 0);
      ticks.raw = 7;
      t.equal(mono.nowMs(), 7);
      const isOption = (e: unknown) => e instanceof TimeError && e.code === 'invalid-option';
      t.throws(() => new MonotonicClock(new ManualTicks(0, 0)), isOption);
      t.throws(() => new MonotonicClock(new ManualTicks(1000, 64)), isOption);
      t.throws(() => new MonotonicClock(new ManualTicks(1000, 4)), isOption);
      t.throws(() => new MonotonicClock(ticks, { maxStepMs: 0 }), isOption);
    },
  },
  {
    name: 'property (seeded): random steps, wraps and injected backward steps',
    run(t) {
      const rng = new SeededRandom(0x7153);
      for (let trial = 0; trial < 40; trial++) {
        const bits = [0, 16, 32, 53][rng.below(4)]!;
        const range = bits ? 2 ** bits : 0;
        const start = range ? rng.below(range) : rng.below(1e9);
        const ticks = new ManualTicks(1000, bits, start);
        const mono = new MonotonicClock(ticks);
        let expected = 0;
        let backwards = 0;
        let last = 0;
        for (let i = 0; i < 60; i++) {
          if (rng.chance(0.1)) {
            // backwards by 1 .. 1000 ticks
            const back = 1 + rng.below(1000);
            ticks.raw = range && ticks.raw < back ? ticks.raw + (range - back) : ticks.raw - back;
            backwards++;
          } else {
            const limit = range ? Math.min(range / 2 - 1, 1e7) : 1e7;
            const step = rng.below(limit);
            // (raw + step) mod range without forming a sum above 2^53
            ticks.raw = range && ticks.raw >= range - step ? ticks.raw - (range - step) : ticks.raw + step;
            expected += step;
          }
          const now = mono.nowMs();
          t.ok(now >= last, 'never decreases');
          last = now;
          t.equal(now, expected, `trial ${trial} step ${i}`);
        }
        t.equal(mono.disruptions, backwards, 'every backward step is counted');
      }
    },
  },
];
export default suite;
