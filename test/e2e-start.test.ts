// `npm start` end to end: the firmware bundle on the XS engine, the dev cloud
// verifying every signature with aws-crt, the broker receiving the data.
// These are the acceptance runs, shortened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');

interface Summary {
  durationS: number;
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
  stoppedBy: string | null;
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

/** How long to wait for start-up before signalling anyway (the code before the fix printed no "running" line). */
const STARTUP_WAIT_MS = 15_000;

test('Ctrl-C (SIGINT to the whole process group, as a terminal sends it): clean stop, exit 0, the JSON summary, no pipe error', async () => {
  // detached: its own process group, so the signal reaches node and everything it started, like a terminal's Ctrl-C.
  const child = spawn(process.execPath, [join(repo, 'dist', 'tools', 'start.js'), '--duration', '60', '--json', '--thing', `e2e-sigint-${process.pid}`], {
    cwd: repo,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const running = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, STARTUP_WAIT_MS);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/\[start\] running/.test(stderr)) {
        clearTimeout(timer);
        // Let the device sync and send something first.
        setTimeout(resolve, 3000);
      }
    });
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
  await running;
  process.kill(-child.pid!, 'SIGINT');
  const { code, signal } = await exited;
  clearTimeout(kill);
  assert.doesNotMatch(stderr, /ECONNRESET|EPIPE|Unhandled 'error'/);
  assert.equal(signal, null);
  assert.equal(code, 0, stderr.slice(-2000));
  const s = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Summary;
  assert.equal(s.stoppedBy, 'SIGINT');
  assert.equal(s.firmwareError, null, 'the engine was still there to stop in order');
  assert.ok(s.generated > 0 && s.durationS < 60, JSON.stringify(s));
});

test('status line of a device that cannot tell the time: the bound is ±∞, not ±0ms', () => {
  const run = spawnSync(process.execPath, [join(repo, 'dist', 'tools', 'start.js'), '--duration', '4', '--time-servers', '3', '--liars', '2', '--thing', `e2e-bound-${process.pid}`], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  const lines = run.stdout.split('\n').filter((l) => /^time UNTRUSTED /.test(l));
  assert.ok(lines.length >= 2, run.stdout);
  for (const l of lines) assert.match(l, /^time UNTRUSTED ±∞ \|/);
});
