// The XS engine can exit 0 after a module throws. These tests prove that our
// runner turns every such failure into a failed run, so a green XS suite
// really means the code ran to the end inside XS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSuiteOnXs } from './harness/xs-suite-runner.js';
import { XsWorker, XsEngineError } from '../tools/xs/worker.js';

const dir = mkdtempSync(join(tmpdir(), 'xs-harness-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function bundle(name: string, code: string): string {
  const p = join(dir, `${name}.js`);
  writeFileSync(p, code);
  return p;
}

const send = `const send = (o) => { const b = new TextEncoder().encode(JSON.stringify(o)); return issueCommand(b.buffer); };`;

test('a script that throws before reporting is an engine error', async () => {
  await assert.rejects(runSuiteOnXs(bundle('throws', 'throw new Error("boom at top level");'), null), (e: unknown) => e instanceof XsEngineError && /boom/.test(String(e)));
});

test('an async failure (rejected promise, no report) leaves the run incomplete', async () => {
  const run = await runSuiteOnXs(bundle('rejects', `${send} (async () => { send({kind:'result', name:'a', ok:true}); await null; throw new Error('late'); })();`), null);
  assert.equal(run.complete, false);
});

test('a done report whose counts disagree with the results is incomplete', async () => {
  const run = await runSuiteOnXs(bundle('liar', `${send} send({kind:'result', name:'a', ok:false, error:'x'}); send({kind:'done', passed:1, failed:0});`), null);
  assert.equal(run.complete, false);
});

test('a consistent report is complete and carries the failure', async () => {
  const run = await runSuiteOnXs(bundle('honest', `${send} send({kind:'result', name:'a', ok:false, error:'x'}); send({kind:'done', passed:0, failed:1});`), null);
  assert.equal(run.complete, true);
  assert.deepEqual(run.results, [{ name: 'a', ok: false, error: 'x' }]);
});

test('the meter counts work done inside XS', async () => {
  const w = new XsWorker();
  try {
    const small = await w.evaluate('let s = 0; for (let i = 0; i < 10; i++) s += i; s;');
    const large = await w.evaluate('let t = 0; for (let i = 0; i < 100000; i++) t += i; t;');
    assert.ok(large.meter.compute > small.meter.compute * 100, `${large.meter.compute} vs ${small.meter.compute}`);
  } finally {
    await w.close();
  }
});
