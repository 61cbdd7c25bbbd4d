// Firmware updates end to end on the virtual device: a firmware target in the
// dev cloud's TUF repository, applied through an IoT job. The device stages it
// into its inactive A/B slot (ranged downloads, SHA-256 streamed), activates
// it, reboots; the host (the bootloader) boots the new slot on trial; the
// agent's self-test (trusted time, credentials, one record acknowledged)
// confirms it, raises the firmware anti-rollback counter and reports the job.
// An image that fails (throws at boot, or never passes its self-test) is
// reverted, and the job is FAILED with the reason. Telemetry flows throughout.
//
// "Another firmware" is the real bundle with a first line printing a marker;
// the broken one is a fixture that throws while it is evaluated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Scenario } from '../tools/vdevice/scenario.js';
import { createJob, firmwareCustom, jobOutcome, markedFirmware, markerRuns, securityEvents, sha256Hex, telemetryCount, updateHealth, startUpdateScenario } from './harness/update-world.js';

const THING = `e2e-firmware-${process.pid}`;
const FIRMWARE = 'firmware/prod/vdevice/agent.js';
/** Staging ~500 KB in 4 KiB ranged requests through the XS bridge, a reboot and a self-test. */
const FIRMWARE_JOB_TIMEOUT_MS = 240_000;
const SELF_TEST_TIMEOUT_MS = 15_000;

let s: Scenario;

before(async () => {
  s = await startUpdateScenario({ thingName: THING, sampleIntervalMs: 500, fetchDeadlineMs: 5000, selfTestTimeoutMs: SELF_TEST_TIMEOUT_MS });
});

after(async () => {
  await s?.stop();
});

async function telemetryFlows(what: string): Promise<void> {
  const n = telemetryCount(s);
  await s.waitFor(() => telemetryCount(s) > n + 3, 30_000, `telemetry flowing ${what}`);
}

test('a firmware target applies through a job: staged, activated, rebooted on trial, self-tested, confirmed, counter raised, job SUCCEEDED', async () => {
  await telemetryFlows('before the update');
  const image = markedFirmware(s, 'fixture: firmware 2');
  const sha = sha256Hex(image);
  s.cloud.addTufTarget(FIRMWARE, image, firmwareCustom(2));
  const bootsBefore = s.device.bootCount;
  const r = await jobOutcome(s, createJob(s, [FIRMWARE]), FIRMWARE_JOB_TIMEOUT_MS);
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
  assert.equal(r.statusDetails.target, FIRMWARE);
  assert.equal(r.statusDetails.code, 'applied');

  // The device booted once more, into the other slot, on trial, and ran the new image.
  const boots = s.boots.filter((b) => b.count > bootsBefore);
  assert.equal(boots.length, 1, JSON.stringify(boots));
  assert.equal(boots[0]!.cause, 'reboot');
  assert.equal(boots[0]!.source, 'slot');
  assert.deepEqual(boots[0]!.state, { slot: 1, trial: true, image: { length: image.length, sha256: sha }, revertedFrom: null });
  assert.equal(markerRuns(s, 'fixture: firmware 2'), 1);
  // Confirmed: no longer on trial, the counter raised to the target's security version.
  await s.waitFor(() => updateHealth(s)?.trial === false && updateHealth(s)?.slot === 1 && updateHealth(s)?.firmwareSecurityVersion === 2, 20_000, 'confirmed slot 1, firmware counter 2');
  await s.waitFor(
    () => securityEvents(s).some((e) => e.event === 'update-applied' && e.target === FIRMWARE && e.kind === 'firmware' && e.securityVersion === 2 && e.role === 'targets' && e.job === r.id),
    30_000,
    'update-applied on the security stream',
  );
  await telemetryFlows('after the update');

  // The next reset boots the confirmed image, not on trial.
  const again = await s.reboot();
  assert.equal(again.source, 'slot');
  assert.deepEqual(again.state, { slot: 1, trial: false, image: { length: image.length, sha256: sha }, revertedFrom: null });
  assert.equal(markerRuns(s, 'fixture: firmware 2'), 2);
  await s.waitReady(60_000);
  await telemetryFlows('after a reboot into the confirmed image');
});

test('a firmware image that throws at boot is reverted by the bootloader: the confirmed image runs, job FAILED with the reason, update-reverted', async () => {
  const broken = new Uint8Array(Buffer.from('print("fixture: broken firmware");\nthrow new Error("fixture: broken firmware");\n', 'utf8'));
  const sha = sha256Hex(broken);
  s.cloud.addTufTarget(FIRMWARE, broken, firmwareCustom(3));
  const r = await jobOutcome(s, createJob(s, [FIRMWARE]), FIRMWARE_JOB_TIMEOUT_MS);
  assert.equal(r.status, 'FAILED', JSON.stringify(r));
  assert.equal(r.statusDetails.code, 'self-test-failed');
  assert.equal(r.statusDetails.target, FIRMWARE);
  assert.ok(r.statusDetails.reason && r.statusDetails.reason.length > 0);
  assert.equal(markerRuns(s, 'fixture: broken firmware'), 1, 'the broken image ran once, on trial');
  // Back on the confirmed image of the first test, which says what it reverted.
  const last = s.boots[s.boots.length - 1]!;
  assert.equal(last.state?.slot, 1);
  assert.equal(last.state?.trial, false);
  assert.equal(last.state?.revertedFrom?.sha256, sha);
  await s.waitFor(() => securityEvents(s).some((e) => e.event === 'update-reverted' && e.target === FIRMWARE && e.job === r.id), 30_000, 'update-reverted on the security stream');
  assert.equal(securityEvents(s).filter((e) => e.event === 'update-reverted' && e.job === r.id).length, 1, 'one event for one revert');
  await s.waitFor(() => updateHealth(s)?.firmwareSecurityVersion === 2 && updateHealth(s)?.slot === 1, 20_000, 'the counter not raised by the reverted image');
  await telemetryFlows('after the revert');
});

test('a firmware image that boots but never passes its self-test (no record acknowledged) is reverted by the agent: job FAILED, update-reverted', async () => {
  const image = markedFirmware(s, 'fixture: firmware 4');
  const sha = sha256Hex(image);
  s.cloud.addTufTarget(FIRMWARE, image, firmwareCustom(4));
  const bootsBefore = s.device.bootCount;
  // From now until the trial is over no publish is accepted: the new image's self-test never sees an acknowledged record.
  s.cloud.failNext(503, 100_000, 'publish');
  const id = createJob(s, [FIRMWARE]);
  try {
    await s.waitFor(() => s.boots.some((b) => b.count > bootsBefore && b.state?.trial === true), FIRMWARE_JOB_TIMEOUT_MS, 'the trial boot');
    await s.waitFor(() => s.boots.some((b) => b.count > bootsBefore + 1), SELF_TEST_TIMEOUT_MS + 60_000, 'the reboot after the failed self-test');
  } finally {
    s.cloud.clearFaults();
  }
  const r = await jobOutcome(s, id, 60_000);
  assert.equal(r.status, 'FAILED', JSON.stringify(r));
  assert.equal(r.statusDetails.code, 'self-test-failed');
  assert.equal(markerRuns(s, 'fixture: firmware 4'), 1);
  const last = s.boots[s.boots.length - 1]!;
  assert.deepEqual([last.state?.slot, last.state?.trial, last.state?.revertedFrom?.sha256], [1, false, sha]);
  assert.equal(markerRuns(s, 'fixture: firmware 2') >= 3, true, 'the confirmed image runs again');
  await s.waitFor(() => securityEvents(s).some((e) => e.event === 'update-reverted' && e.job === id), 30_000, 'update-reverted on the security stream');
  await telemetryFlows('after the revert');
  assert.equal(securityEvents(s).filter((e) => e.event === 'update-reverted' && e.job === id).length, 1, 'one event for one revert');
  await s.waitFor(() => updateHealth(s)?.firmwareSecurityVersion === 2, 20_000, 'the counter not raised');
});
