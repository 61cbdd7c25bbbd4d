// Power cuts during updates, on the whole virtual device: the host cuts the
// power at one chosen persistent write (that write torn: half a flash write,
// half an erased block, or a kv set that never lands), then powers on. Each
// case checks that the device then runs a verified image (the old confirmed
// one or the new one: the bootloader checks length and SHA-256 against the
// boot record before it runs anything) and that the job is still reported,
// with a status that matches what runs and with the anti-rollback counter
// raised exactly when the new version is in use.
//
// Cut points of a firmware update: a chunk written into the inactive slot
// (staging), the pending-update record, the boot record written by
// activate(), a write of the trial boot before its self-test passed, the boot
// record written by confirm(), the firmware counter; of a config apply: the
// config record, the config counter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Scenario } from '../tools/vdevice/scenario.js';
import type { PersistentWrite } from '../tools/vdevice/host.js';
import { FirmwareSlots, type SlotImage } from '../src/update/slots.js';
import { ANTI_ROLLBACK_KEYS } from '../src/update/policy.js';
import { CONFIG_RECORD_KEYS } from '../src/update/config-bundle.js';
import { PENDING_FIRMWARE_KV_KEY } from '../src/agent/updates.js';
import { configCustom, createJob, firmwareCustom, jobOutcome, markedFirmware, sha256Hex, telemetryCount, updateHealth, startUpdateScenario } from './harness/update-world.js';

const THING = `e2e-powercut-${process.pid}`;
const FIRMWARE = 'firmware/prod/vdevice/agent.js';
const CONFIG = 'config/prod/vdevice/agent.json';
const JOB_TIMEOUT_MS = 240_000;
const SELF_TEST_TIMEOUT_MS = 15_000;

let s: Scenario;
let controlBytes = 0;
let version = 1;

before(async () => {
  s = await startUpdateScenario({ thingName: THING, sampleIntervalMs: 500, fetchDeadlineMs: 5000, selfTestTimeoutMs: SELF_TEST_TIMEOUT_MS });
  controlBytes = FirmwareSlots.CONTROL_BLOCKS * s.firmwareGeometry!.blockSize;
});

after(async () => {
  await s?.stop();
});

/** The confirmed image running now (null: the factory bundle). */
function confirmedImage(): SlotImage | null {
  assert.equal(updateHealth(s)?.trial, false, 'a confirmed image runs before the case');
  return s.bootState!.image;
}

async function telemetryFlows(what: string): Promise<void> {
  const n = telemetryCount(s);
  await s.waitFor(() => telemetryCount(s) > n + 3, 30_000, `telemetry flowing ${what}`);
}

const isControl = (w: PersistentWrite) => w.chip === 'fw' && w.offset < controlBytes;

/**
 * One firmware update with a power cut where `when` says; then: a verified
 * image runs (old or new), the job ends, and its status agrees with what runs.
 */
async function firmwareCase(when: (w: PersistentWrite, onTrial: boolean) => boolean, expect: { running: 'old' | 'new' | 'either'; status?: string }): Promise<void> {
  await s.refresh();
  const old = confirmedImage();
  const first = s.device.bootCount;
  // The new image came up on trial in this case (the boot is over: its writes are offered).
  const onTrial = () => s.boots.some((b) => b.count > first && b.state?.trial === true && b.error === null);
  const oldCounter = updateHealth(s)?.firmwareSecurityVersion ?? 0;
  const v = ++version;
  const image = markedFirmware(s, `fixture: firmware ${v}`);
  const fresh: SlotImage = { length: image.length, sha256: sha256Hex(image) };
  s.cloud.addTufTarget(FIRMWARE, image, firmwareCustom(v));
  const id = createJob(s, [FIRMWARE]);
  const { boot } = await s.powerCutAt((w) => when(w, onTrial()), JOB_TIMEOUT_MS);

  // What boots after the cut is the old confirmed image or the new one (on trial or confirmed), never anything else.
  const running = boot.state!.image;
  const isOld = JSON.stringify(running) === JSON.stringify(old);
  const isNew = JSON.stringify(running) === JSON.stringify(fresh);
  assert.ok(isOld || isNew, `after the cut: ${JSON.stringify(boot)}`);
  if (expect.running !== 'either') assert.equal(isNew, expect.running === 'new', `after the cut, the ${expect.running} image runs: ${JSON.stringify(boot.state)}`);
  if (boot.source === 'slot') assert.equal(boot.refused, null, 'the bootloader ran a verified image');

  const r = await jobOutcome(s, id, JOB_TIMEOUT_MS);
  if (expect.status) assert.equal(r.status, expect.status, JSON.stringify(r));
  else assert.ok(['SUCCEEDED', 'FAILED'].includes(r.status), JSON.stringify(r));
  await s.waitFor((_h) => updateHealth(s)?.state === 'idle' && updateHealth(s)?.trial === false, 60_000, 'no trial left');
  const now = s.bootState!;
  if (r.status === 'SUCCEEDED') {
    assert.deepEqual(now.image, fresh, 'SUCCEEDED: the new image runs');
    await s.waitFor(() => updateHealth(s)?.firmwareSecurityVersion === v, 20_000, `firmware counter ${v}`);
  } else {
    assert.equal(r.statusDetails.code, 'self-test-failed', JSON.stringify(r));
    assert.deepEqual(now.image, old, 'FAILED: the old image runs');
    await s.waitFor(() => updateHealth(s)?.firmwareSecurityVersion === oldCounter, 20_000, `firmware counter still ${oldCounter}`);
  }
  await telemetryFlows('after the case');
}

test('power cut while staging (a chunk written into the inactive slot): the old image runs; the job is applied later', () => {
  let chunks = 0;
  return firmwareCase((w) => w.chip === 'fw' && w.op === 'write' && w.offset >= controlBytes && ++chunks === 40, { running: 'old', status: 'SUCCEEDED' });
});

test('power cut at the pending-update record after staging: the old image runs; the job is applied later', () =>
  firmwareCase((w) => w.chip === 'kv' && w.key === PENDING_FIRMWARE_KV_KEY && w.value !== '', { running: 'old', status: 'SUCCEEDED' }));

test('power cut at the boot record activate() writes: the old image or the new one on trial runs; the job is reported', () => {
  let staged = false;
  return firmwareCase((w) => {
    if (w.chip === 'kv' && w.key === PENDING_FIRMWARE_KV_KEY && w.value !== '') staged = true;
    return staged && isControl(w);
  }, { running: 'either' });
});

test('power cut during the trial, before the self-test passed (a queue write of the trial boot): the trial reverts; job FAILED', () =>
  firmwareCase((w, onTrial) => onTrial && w.chip === 'flash', { running: 'old', status: 'FAILED' }));

test('power cut at the boot record confirm() writes: the new image confirmed or the trial reverted; the job is reported to match', () =>
  firmwareCase((w, onTrial) => onTrial && isControl(w), { running: 'either' }));

test('power cut at the firmware counter after confirm: the new image runs, the counter is raised at the next boot, job SUCCEEDED', () =>
  firmwareCase((w) => w.chip === 'kv' && w.key === ANTI_ROLLBACK_KEYS.firmware, { running: 'new', status: 'SUCCEEDED' }));

async function configCase(when: (w: PersistentWrite) => boolean): Promise<void> {
  const v = ++version;
  s.cloud.addTufTarget(CONFIG, new TextEncoder().encode(`{"healthIntervalMs":${60_000 + v}}`), configCustom(v));
  const id = createJob(s, [CONFIG]);
  await s.powerCutAt(when, JOB_TIMEOUT_MS);
  const r = await jobOutcome(s, id, JOB_TIMEOUT_MS);
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
  await s.waitFor(() => updateHealth(s)?.configSecurityVersion === v, 20_000, `config counter ${v}`);
  const kv = JSON.parse(readFileSync(s.kvFile, 'utf8')) as Record<string, string>;
  assert.ok(CONFIG_RECORD_KEYS.some((k) => (kv[k] ?? '').includes(`${60_000 + v}`)), 'the new bundle is the stored config');
  await telemetryFlows('after the case');
}

test('config apply: power cut at the config record: the old config stays; the job is applied later', () =>
  configCase((w) => w.chip === 'kv' && CONFIG_RECORD_KEYS.includes(w.key ?? '')));

test('config apply: power cut at the config counter: the bundle is stored; the counter is raised when the job runs again, job SUCCEEDED', () =>
  configCase((w) => w.chip === 'kv' && w.key === ANTI_ROLLBACK_KEYS.config));
