// No-allocation check on the real XS engine: after warm-up, signing the same
// shaped request again and again must not grow the heap. XS reports its live
// heap (`currentHeapCount`, after our explicit gc()) with every crank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xsWorkerWithBundle } from './harness/xs-bundle-worker.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(repo, 'build', 'xs', 'sigv4-alloc.js');
/** Rounds after warm-up, and signings per round: bounded, a few seconds on XS. */
const ROUNDS = 2;
const PER_ROUND = 8;

test('XS heap does not grow while signing the same-shaped requests (header, presign, chunk)', async () => {
  const { worker, reports } = await xsWorkerWithBundle(bundle);
  try {
    await worker.evaluate(`sigv4AllocRound(${PER_ROUND})`); // warm-up: lazily created engine state
    // Every evaluate itself keeps one heap slot (measured: the same with 0,
    // 20 or 100 signings), so compare each signing round with an empty round.
    const heaps: number[] = [];
    const chunkBytes: number[] = [];
    const rounds = [0, PER_ROUND, 0, 2 * PER_ROUND, 0];
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of rounds) {
        const run = await worker.evaluate(`sigv4AllocRound(${n})`);
        assert.ok(run.meter.currentHeapCount !== null && run.meter.allocate !== null, 'engine reports its heap');
        heaps.push(run.meter.currentHeapCount!);
        chunkBytes.push(run.meter.allocate!);
      }
    }
    assert.equal(reports.length, 1 + ROUNDS * rounds.length, 'every round reported from inside XS');
    assert.ok(reports.every((r) => r[0] === 1), 'rounds completed');
    process.stderr.write(`sigv4 XS heap slots per round ${heaps.join(' ')}; chunk bytes ${chunkBytes[0]}..${chunkBytes[chunkBytes.length - 1]}\n`);
    const emptyGrowth = heaps[2]! - heaps[1]!;
    assert.ok(emptyGrowth >= 0 && emptyGrowth <= 1, `an empty round keeps at most one slot (got ${emptyGrowth})`);
    for (let i = 1; i < heaps.length; i++) {
      assert.equal(heaps[i]! - heaps[i - 1]!, emptyGrowth, `round ${i} (${rounds[i % rounds.length]} signings) grows the heap like an empty round`);
    }
    for (const b of chunkBytes) assert.equal(b, chunkBytes[0], 'chunk memory stays the same');
  } finally {
    await worker.close();
  }
});
