// Signed updates end to end on the virtual device: the firmware bundle on
// XS, the dev cloud serving a TUF repository (its own, signed by tools/tuf-repo)
// and the IoT Jobs data plane through its TLS gateway (aws-crt verifies every
// signature). One scenario world for the config cases: each case is a job,
// its outcome read from the dev cloud's job execution and from the security
// events the broker received, while telemetry keeps flowing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Scenario } from '../tools/vdevice/scenario.js';
import * as world from './harness/update-world.js';

const THING = `e2e-updates-${process.pid}`;
const CONFIG = 'config/prod/vdevice/agent.json';
const custom = (securityVersion: number, extra: Record<string, unknown> = {}) => ({ kind: 'config', channel: 'prod', hardwareModel: 'vdevice', securityVersion, ...extra });
const enc = (s: string) => new TextEncoder().encode(s);

let s: Scenario;

before(async () => {
  // The root the device trusts: the dev cloud's repository root, as provisioning would write it.
  s = await Scenario.start({
    transport: 'https',
    thingName: THING,
    extraConfig: (e) => ({
      update: { hardwareModel: 'vdevice', channel: 'prod', jobsIntervalMs: 500, checkIntervalMs: 3_600_000, rootJson: readFileSync(e.tufRootFile, 'utf8'), fetchDeadlineMs: 3000 },
    }),
  });
  await s.waitReady(60_000);
});

after(async () => {
  await s?.stop();
});

const securityEvents = () => world.securityEvents(s);
const runJob = (targets: string[], timeoutMs?: number) => world.runJob(s, targets, timeoutMs);
const telemetryCount = () => world.telemetryCount(s);

test('a config bundle signed by the targets threshold applies through a job and changes the sample interval', async () => {
  const before = telemetryCount();
  s.cloud.addTufTarget(CONFIG, enc('{"sampleIntervalMs":300}'), custom(1));
  const r = await runJob([CONFIG]);
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
  assert.equal(r.statusDetails.target, CONFIG);
  // The scenario samples once a day: records now come every 300 ms.
  await s.waitFor(() => telemetryCount() >= before + 8, 20_000, 'telemetry at the new interval');
  await s.waitFor((_h, st) => (st as { update?: { configSecurityVersion?: number } }).update?.configSecurityVersion === 1, 10_000, 'config counter raised');
  await s.waitFor(() => securityEvents().some((e) => e.event === 'update-applied' && e.target === CONFIG && typeof e.signers === 'string' && e.role === 'targets'), 20_000, 'update-applied on the security stream');
});

const refusals: Array<[string, () => void | Promise<void>, string, (() => void) | null]> = [
  ['wrong hardware', () => void s.cloud.addTufTarget(CONFIG, enc('{"sampleIntervalMs":400}'), custom(2, { hardwareModel: 'esp32-s3' })), 'wrong-hardware', null],
  ['security version below the counter (rollback)', () => void s.cloud.addTufTarget(CONFIG, enc('{"sampleIntervalMs":400}'), custom(0)), 'security-rollback', null],
  ['a bundle that loosens a compiled limit', () => void s.cloud.addTufTarget(CONFIG, enc('{"maxBoundMs":299000}'), custom(5)), 'loosens-limit', null],
  ['tampered target (dev cloud fault)', () => {
    s.cloud.addTufTarget(CONFIG, enc('{"sampleIntervalMs":350}'), custom(3));
    s.cloud.setTufFault({ kind: 'tamper-target' });
  }, 'bad-hash', () => s.cloud.clearFaults()],
];

for (const [what, setup, code, cleanup] of refusals) {
  test(`refused and reported, telemetry flowing: ${what}`, async () => {
    await setup();
    const flowing = telemetryCount();
    try {
      const r = await runJob([CONFIG]);
      assert.equal(r.status, 'REJECTED', JSON.stringify(r));
      assert.equal(r.statusDetails.code, code);
      await s.waitFor(() => securityEvents().some((e) => e.event === 'update-refused' && e.code === code), 20_000, `update-refused ${code} on the security stream`);
      await s.waitFor(() => telemetryCount() > flowing + 3, 20_000, 'telemetry still flowing');
    } finally {
      cleanup?.();
    }
  });
}

test('a replayed old timestamp (dev cloud fault) is a TUF rollback: REJECTED, attack on the security stream', async () => {
  s.cloud.captureTimestamp();
  s.cloud.addTufTarget(CONFIG, enc('{"sampleIntervalMs":450}'), custom(1, { hardwareModel: 'other' }));
  // The device refreshes once and trusts the newer timestamp (this job is refused on policy).
  assert.equal((await runJob([CONFIG])).statusDetails.code, 'wrong-hardware');
  s.cloud.setTufFault({ kind: 'replay-timestamp' });
  try {
    const r = await runJob([CONFIG]);
    assert.equal(r.status, 'REJECTED', JSON.stringify(r));
    assert.equal(r.statusDetails.code, 'rollback');
    await s.waitFor(() => securityEvents().some((e) => e.event === 'update-refused' && e.code === 'rollback' && e.attack === true && e.attackName === 'rollback'), 20_000, 'rollback attack event');
  } finally {
    s.cloud.clearFaults();
  }
});
