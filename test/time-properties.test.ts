// fast-check properties of the time core (Node only; the same properties run
// on XS as seeded portable suites in test/core/time-*.suite.ts). Shrinking
// gives minimal counterexamples when something breaks.
import { test } from 'node:test';
import fc from 'fast-check';
import { Selection } from '../src/time/selection.js';
import { MonotonicClock } from '../src/time/monotonic.js';
import { SecureClock } from '../src/time/secure-clock.js';
import { ManualTicks } from './harness/fakes.js';

const RUNS = 300;
const interval = fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1e5 })).map(([lo, w]) => [lo, lo + w] as [number, number]);

function coverage(intervals: Array<[number, number]>, x: number): number {
  return intervals.filter(([lo, hi]) => lo <= x && x <= hi).length;
}

test('selection never trusts a minority and keeps the truth when honest sources are a majority', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1e6, max: 1e6 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1e4 }), fc.integer({ min: 0, max: 1e4 })), { minLength: 0, maxLength: 8 }),
      fc.array(interval, { minLength: 0, maxLength: 8 }),
      fc.integer({ min: 1, max: 4 }),
      (truth, honestWidths, liars, minSources) => {
        const intervals: Array<[number, number]> = [...honestWidths.map(([a, b]) => [truth - a, truth + b] as [number, number]), ...liars].slice(0, 16);
        const s = new Selection();
        for (const [lo, hi] of intervals) s.add(lo, hi);
        if (!s.select(minSources)) return;
        const n = intervals.length;
        if (!(coverage(intervals, s.low) * 2 > n && coverage(intervals, s.high) * 2 > n)) throw new Error('an end covered by a minority');
        if (s.agreeing < minSources) throw new Error('fewer than minSources agree');
        const honest = Math.min(honestWidths.length, 16);
        if (honest * 2 > n && !(s.low <= truth && truth <= s.high)) throw new Error('honest majority but truth outside');
      },
    ),
    { numRuns: RUNS },
  );
});

test('monotonic clock: any step sequence on any counter width never decreases and counts every backward step', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0, 16, 32, 53),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30_000 })), { maxLength: 100 }),
      (bits, steps) => {
        const range = bits ? 2 ** bits : 0;
        const ticks = new ManualTicks(1000, bits, range ? range - 1000 : 0);
        const mono = new MonotonicClock(ticks);
        let expected = 0;
        let backwards = 0;
        let last = 0;
        for (const [back, size] of steps) {
          const step = range ? Math.min(size, range / 2 - 1) : size;
          if (back && step > 0) {
            ticks.raw = range && ticks.raw < step ? ticks.raw + (range - step) : ticks.raw - step;
            backwards++;
          } else {
            ticks.raw = range && ticks.raw >= range - step ? ticks.raw - (range - step) : ticks.raw + step;
            expected += step;
          }
          const now = mono.nowMs();
          if (now < last || now !== expected) throw new Error(`now ${now}, expected ${expected}`);
          last = now;
        }
        if (mono.disruptions !== backwards) throw new Error('backward steps not all counted');
      },
    ),
    { numRuns: RUNS },
  );
});

test('secure clock: the bound never shrinks without a new sample', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }),
      fc.array(fc.tuple(fc.constantFrom('awake', 'asleep', 'read'), fc.integer({ min: 0, max: 1e7 })), { maxLength: 60 }),
      (halfWidth, ops) => {
        const ticks = new ManualTicks(1000, 0, 0);
        const clock = new SecureClock({ ticks, buildTimeMs: 0, maxBoundMs: 1e12, voidAfterMs: 1e12 });
        clock.addSample('a', 1e12 - halfWidth, 1e12 + halfWidth, 0);
        clock.addSample('b', 1e12 - halfWidth, 1e12 + halfWidth, 0);
        clock.select();
        let last = clock.now().bound;
        for (const [op, ms] of ops) {
          if (op === 'asleep') clock.beginSleep();
          if (op !== 'read') ticks.raw += ms;
          if (op === 'asleep') clock.endSleep();
          const b = clock.now().bound;
          if (b < last) throw new Error(`bound shrank from ${last} to ${b}`);
          last = b;
        }
      },
    ),
    { numRuns: RUNS },
  );
});
