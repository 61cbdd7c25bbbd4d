// Heap flatness of the agent under the soak, on the real XS engine: the soak
// world (test/harness/sim/) runs inside XS (build/xs/agent-soak.js), cycling
// every fault; after a warm-up of WARMUP_MINUTES simulated minutes we gc()
// and read XS's live heap slot count, run MEASURE_MINUTES more, and read it
// again. A leak of even one slot per publish or per credential fetch would
// show as thousands of slots; TOLERANCE_SLOTS allows for the state a running
// agent legitimately varies (which phase, a connection open or not, the
// timers pending at that instant).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xsWorkerWithBundle } from './harness/xs-bundle-worker.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(repo, 'build', 'xs', 'agent-soak.js');
const WARMUP_MINUTES = 10;
const MEASURE_MINUTES = 30;
/** Allowed growth over MEASURE_MINUTES, in heap slots: about twice the swing measured between 10-minute steps of a flat run (mqtt: 14791..14952 over 80 min, no trend), far below one slot per sample (1,800). */
export const TOLERANCE_SLOTS = 300;
const SEED = Number(process.env.SOAK_SEED ?? 0x50a1c0de) >>> 0;

for (const transport of ['https', 'mqtt'] as const) {
  test(`XS heap stays flat over ${MEASURE_MINUTES} simulated minutes of the ${transport} soak (seed ${SEED})`, async () => {
    const { worker, reports } = await xsWorkerWithBundle(bundle);
    try {
      await worker.evaluate(`agentSoakInit(${SEED}, ${JSON.stringify(transport)}, ${WARMUP_MINUTES + MEASURE_MINUTES})`);
      const warm = await worker.evaluate(`agentSoakRunTo(${WARMUP_MINUTES})`);
      const idle = await worker.evaluate('agentSoakIdle()');
      const end = await worker.evaluate(`agentSoakRunTo(${WARMUP_MINUTES + MEASURE_MINUTES})`);
      const h0 = warm.meter.currentHeapCount;
      const h1 = idle.meter.currentHeapCount;
      const h2 = end.meter.currentHeapCount;
      assert.ok(h0 !== null && h1 !== null && h2 !== null, 'engine reports its heap');
      const runs = reports.filter((r) => r[0] === 1);
      assert.equal(runs.length, 2, 'both soak steps completed inside XS');
      process.stderr.write(`agent soak (${transport}, seed ${SEED}) XS heap slots: after ${WARMUP_MINUTES} min ${h0}, idle step ${h1}, after ${WARMUP_MINUTES + MEASURE_MINUTES} min ${h2}; escapes ${runs[1]![1]}\n`);
      const growth = h2! - h1!;
      assert.ok(growth <= TOLERANCE_SLOTS, `[heap-flat] seed=${SEED} transport=${transport}: heap grew by ${growth} slots between simulated minute ${WARMUP_MINUTES} and ${WARMUP_MINUTES + MEASURE_MINUTES} (tolerance ${TOLERANCE_SLOTS}): ${h1} -> ${h2}`);
    } finally {
      await worker.close();
    }
  });
}
