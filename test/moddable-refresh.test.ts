// Builds the refresh-heap firmware (test/moddable-refresh/, the Pico W's
// creation sizes, instrumented) for the Linux simulator and runs one
// Updater.refresh() over the bench's refresh fixture on the real XS, with
// NobleSignatureVerifier, when a Moddable SDK is installed ($MODDABLE) and
// xvfb-run is present; skips with the reason otherwise. The refresh must
// store the new timestamp, snapshot and targets the fixture serves
// (checked on the device against the served bytes); each heap sample
// (Instrumentation after Debug.gc(), at each fetch) must be present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { findSdk, type Sdk } from '../tools/moddable/sdk.js';
import { measureRefreshHeap, picoLiveBytes, REFRESH_OUTPUT_DIR, refreshHeapUnavailable } from './moddable-refresh-host.js';

const unavailable = refreshHeapUnavailable();

test('lin: one TUF refresh with NobleSignatureVerifier completes on the Moddable XS, sampled at each fetch', { skip: unavailable }, async () => {
  mkdirSync(REFRESH_OUTPUT_DIR, { recursive: true });
  const run = await measureRefreshHeap(findSdk() as Sdk);
  assert.ok(run.built, `mcconfig failed:\n${run.buildOutput.slice(-4000)}`);
  assert.equal(run.abort, null, run.output.slice(-4000));
  assert.equal(run.failure, null, run.output.slice(-4000));
  assert.ok(run.passed, `no verdict:\n${run.output.slice(-4000)}`);
  const where = run.samples.map((s) => s.where.replace(/^fetch\d+ /, ''));
  // Root v2 is looked for (and absent), then timestamp, snapshot v3 and targets v3 (consistent snapshots).
  assert.deepEqual(where, ['start', 'noble loaded', '2.root.json', 'timestamp.json', '3.snapshot.json', '3.targets.json', 'end']);
  for (const s of run.samples) assert.ok(s.slotBytes > 0 && s.chunkBytes > 0 && s.stackBytes > 0, `Instrumentation reported ${JSON.stringify(s)} (an -i build reports every figure)`);
  const peak = Math.max(...run.samples.map(picoLiveBytes));
  assert.ok(peak > picoLiveBytes(run.samples[0]!), 'loading noble and refreshing use heap');
});
