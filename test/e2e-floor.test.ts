// Forged time must not brick the device, end to end (the reproduction,
// as stated): a run where 4 of 5 SNTP servers lie, then a run with only
// honest servers over the same persisted state. The liars may fool the clock
// in the first run (SNTP is unauthenticated), but they must not raise the
// persisted trusted floor, so the second run syncs and delivers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');

interface Summary {
  acked: number;
  generated: number;
  timeState: string;
  firmwareError: string | null;
}

function start(args: string[]): Summary {
  const run = spawnSync(process.execPath, [join(repo, 'dist', 'tools', 'start.js'), ...args], { cwd: repo, encoding: 'utf8', timeout: 150_000 });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  assert.equal(run.status, 0, `npm start failed (status ${run.status}, signal ${run.signal}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(last) as Summary;
}

test('4 of 5 time servers lie for 30 s, then a run with honest servers over the kept state reaches SYNCED and delivers within 60 s', () => {
  const thing = `e2e-floor-${process.pid}`;
  const runDir = join(repo, '.devcloud', 'vdevice', thing);
  try {
    const before = Date.now();
    const lied = start(['--time-servers', '5', '--liars', '4', '--thing', thing, '--duration', '30', '--json']);
    assert.equal(lied.firmwareError, null);
    // The floor the liars' run left behind is a time that has passed.
    const kvFile = join(runDir, 'settings.json');
    const kv = existsSync(kvFile) ? (JSON.parse(readFileSync(kvFile, 'utf8')) as Record<string, string>) : {};
    const floor = kv['time.floor'];
    if (floor !== undefined) assert.ok(Number(floor) <= Date.now(), `persisted floor ${floor} is ${Number(floor) - Date.now()} ms in the future`);
    assert.ok(Date.now() - before >= 30_000);

    const honest = start(['--time-servers', '5', '--liars', '0', '--thing', thing, '--keep-state', '--duration', '60', '--json']);
    assert.equal(honest.firmwareError, null);
    assert.equal(honest.timeState, 'SYNCED');
    assert.ok(honest.acked > 0, `acked ${honest.acked} of ${honest.generated}`);
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});
