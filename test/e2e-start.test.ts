// `npm start` end to end: the firmware bundle on the XS engine, the dev cloud
// verifying every signature with aws-crt, the broker receiving the data.
// These are the acceptance runs, shortened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');

interface Summary {
  generated: number;
  acked: number;
  pending: number;
  dropped: number;
  deadLettered: number;
  heldBack: Record<string, number>;
  gatewayRejected: number;
  deliveredUnique: number;
  deliveredTotal: number;
  cloudRestarted: boolean;
  timeState: string;
  firmwareError: string | null;
}

function start(args: string[]): Summary {
  const run = spawnSync(process.execPath, [join(repo, 'dist', 'tools', 'start.js'), '--json', '--thing', `e2e-${process.pid}`, ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  assert.equal(run.status, 0, `npm start failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(last) as Summary;
}

for (const transport of ['https', 'mqtt']) test(`${transport}: honest time, dev cloud killed and restarted mid-run: everything generated is delivered, nothing rejected`, () => {
  const s = start(['--duration', '14', '--restart-cloud-at', '4', '--sample-ms', '250', '--transport', transport]);
  assert.equal(s.firmwareError, null);
  assert.equal(s.cloudRestarted, true);
  assert.ok(s.generated >= 20, `generated ${s.generated}`);
  assert.equal(s.pending, 0, 'queue drained');
  assert.ok(s.acked >= s.generated, `acked ${s.acked} of ${s.generated}`);
  assert.ok(s.deliveredUnique >= s.generated, `delivered ${s.deliveredUnique} distinct records of ${s.generated}`);
  assert.equal(s.dropped, 0);
  assert.equal(s.deadLettered, 0);
  assert.equal(s.gatewayRejected, 0, 'the gateway never saw a bad signature');
  assert.equal(s.timeState, 'SYNCED');
});

test('two of three time servers lie: the device cannot tell the time, signs nothing, keeps everything queued and says why', () => {
  const s = start(['--duration', '6', '--time-servers', '3', '--liars', '2', '--sample-ms', '250']);
  assert.equal(s.firmwareError, null);
  assert.notEqual(s.timeState, 'SYNCED');
  assert.ok(s.generated > 0);
  assert.equal(s.acked, 0);
  assert.equal(s.deliveredTotal, 0);
  assert.equal(s.pending, s.generated, 'every record is still in flash');
  assert.ok((s.heldBack['time-untrusted'] ?? 0) > 0, `held back: ${JSON.stringify(s.heldBack)}`);
  assert.equal(s.gatewayRejected, 0, 'nothing was sent that the gateway had to refuse');
});
