// Majority selection over intervals. Expected results are worked by hand or
// checked against a brute-force oracle (coverage counted at every endpoint).
import type { PortableSuite } from '../harness/portable.js';
import { MAX_SELECTION_SOURCES, Selection } from '../../src/time/selection.js';
import { SeededRandom } from '../harness/fakes.js';

function sel(intervals: Array<[number, number]>): Selection {
  const s = new Selection();
  for (const [lo, hi] of intervals) s.add(lo, hi);
  return s;
}

/** Brute force: how many intervals contain x. */
function cover(intervals: Array<[number, number]>, x: number): number {
  return intervals.filter(([lo, hi]) => lo <= x && x <= hi).length;
}

const suite: PortableSuite = () => [
  {
    name: 'three agreeing intervals and one far away: the far one is a falseticker',
    run(t) {
      const s = sel([[0, 10], [1, 11], [2, 12], [100, 110]]);
      t.equal(s.select(2), true);
      // need = floor(4/2)+1 = 3; points covered 3 times: [2, 10]
      t.equal(s.need, 3);
      t.equal(s.low, 2);
      t.equal(s.high, 10);
      t.deepEqual(s.truechimer.slice(0, 4), [true, true, true, false]);
      t.equal(s.agreeing, 3);
    },
  },
  {
    name: 'two disjoint intervals: no majority (fail closed)',
    run(t) {
      t.equal(sel([[0, 10], [600_000, 600_010]]).select(2), false);
      t.equal(sel([[0, 10], [600_000, 600_010]]).select(1), false, 'one of two is not a strict majority');
    },
  },
  {
    name: 'minSources is a floor on agreeing sources',
    run(t) {
      t.equal(sel([[0, 10]]).select(2), false);
      t.equal(sel([[0, 10]]).select(1), true);
      const two = sel([[0, 10], [5, 20]]);
      t.equal(two.select(2), true);
      t.equal(two.low, 5);
      t.equal(two.high, 10);
      t.equal(sel([[0, 10], [5, 20]]).select(3), false);
    },
  },
  {
    name: 'colluding liars overlapping honest intervals cannot move the result off the truth',
    run(t) {
      // Truth 5. Honest: [0,20] [0,20] [4,6]. Liars: [15,25] twice.
      // Max coverage is 4 on [15,20] (two honest + two liars) and excludes 5;
      // the strict-majority threshold 3 keeps [4,6] too: result hull [4,20].
      const s = sel([[0, 20], [0, 20], [4, 6], [15, 25], [15, 25]]);
      t.equal(s.select(2), true);
      t.equal(s.low, 4);
      t.equal(s.high, 20);
      t.ok(s.low <= 5 && 5 <= s.high);
    },
  },
  {
    name: 'invalid intervals and overflow are refused',
    run(t) {
      const s = new Selection();
      t.equal(s.add(5, 4), false);
      t.equal(s.add(NaN, 4), false);
      t.equal(s.add(0, Infinity), false);
      for (let i = 0; i < MAX_SELECTION_SOURCES; i++) t.equal(s.add(i, i + 1), true);
      t.equal(s.add(0, 1), false);
      t.equal(s.count, MAX_SELECTION_SOURCES);
    },
  },
  {
    name: 'property (seeded): never trusts a minority; with an honest majority the result holds the truth',
    run(t) {
      const rng = new SeededRandom(0x5e1ec7);
      let successes = 0;
      for (let trial = 0; trial < 400; trial++) {
        const n = 1 + rng.below(9);
        const truth = rng.below(1_000_000);
        const honestCount = rng.chance(0.7) ? Math.floor(n / 2) + 1 + rng.below(n - Math.floor(n / 2)) : rng.below(n + 1);
        const intervals: Array<[number, number]> = [];
        for (let i = 0; i < n; i++) {
          if (i < honestCount) {
            const lo = truth - rng.below(1000);
            intervals.push([lo, truth + rng.below(1000)]);
          } else {
            const c = truth + (rng.chance(0.5) ? -1 : 1) * rng.below(5000);
            const w = rng.below(2000);
            intervals.push([c - w, c + w]);
          }
        }
        const minSources = 1 + rng.below(3);
        const s = sel(intervals);
        const ok = s.select(minSources);
        const need = Math.max(Math.floor(n / 2) + 1, minSources);
        // oracle: a majority point exists iff some endpoint is covered `need` times
        const oracle = intervals.some(([lo, hi]) => cover(intervals, lo) >= need || cover(intervals, hi) >= need);
        t.equal(ok, oracle, `trial ${trial}: success matches the brute-force oracle`);
        if (!ok) continue;
        successes++;
        t.ok(cover(intervals, s.low) * 2 > n && cover(intervals, s.high) * 2 > n, `trial ${trial}: both ends covered by a strict majority`);
        t.ok(s.agreeing >= need, `trial ${trial}: agreeing ${s.agreeing} >= ${need}`);
        // Truth is guaranteed inside only when the honest sources alone meet the requirement: with
        // minSources above the honest count, honest sources and a falseticker may agree elsewhere.
        if (honestCount >= need) t.ok(s.low <= truth && truth <= s.high, `trial ${trial}: honest sources meet the requirement -> truth inside`);
      }
      t.ok(successes > 100, `enough successful selections to mean something (${successes})`);
    },
  },
];
export default suite;
