// Runs every portable core suite (test/core/*.suite.ts) twice: on Node and on
// the real XS engine. A suite may have a Node-side data loader
// (test/core/<name>.data.ts exporting `loadData()`), since XS has no files;
// a loader whose data is absent (`skipReason()`) makes both runs skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PortableSuite } from './harness/portable.js';
import { makeCheck } from './harness/portable.js';
import { runSuiteOnXs } from './harness/xs-suite-runner.js';

/** test/core/<name>.data.ts; skipReason says why the data is not available here (e.g. no ../shared). */
interface DataModule {
  loadData(): unknown;
  skipReason?(): string | false;
}

const here = dirname(fileURLToPath(import.meta.url));
const coreDir = join(here, 'core');
const repo = join(here, '..', '..');
const only = process.env.SUITE;
const names = readdirSync(coreDir)
  .filter((f) => f.endsWith('.suite.js'))
  .map((f) => f.slice(0, -'.suite.js'.length))
  .filter((n) => !only || n === only)
  .sort();

for (const name of names) {
  const suite = (await import(pathToFileURL(join(coreDir, `${name}.suite.js`)).href)).default as PortableSuite;
  const dataFile = join(coreDir, `${name}.data.js`);
  const loader = existsSync(dataFile) ? ((await import(pathToFileURL(dataFile).href)) as DataModule) : null;
  const skip = loader?.skipReason?.() ?? false;
  const data: unknown = loader && !skip ? loader.loadData() : null;

  test(`${name} on Node`, { skip }, async (t) => {
    const cases = suite(data);
    assert.ok(cases.length > 0, 'suite has cases');
    for (const c of cases) await t.test(c.name, () => c.run(makeCheck()));
  });

  test(`${name} on XS`, { skip }, async (t) => {
    const bundle = join(repo, 'build', 'xs', `suite-${name}.js`);
    assert.ok(existsSync(bundle), `XS bundle ${bundle} missing: run npm run build`);
    const run = await runSuiteOnXs(bundle, data);
    const expected = suite(data).map((c) => c.name);
    for (const r of run.results) {
      await t.test(r.name, () => assert.ok(r.ok, r.error));
    }
    assert.ok(run.complete, 'XS run ended without its final report (an exception escaped, or the engine stopped)');
    assert.deepEqual(run.results.map((r) => r.name), expected, 'XS ran every case the suite defines, in order');
  });
}
