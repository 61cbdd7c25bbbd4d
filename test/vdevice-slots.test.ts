// The virtual device's bootloader: the host boots the firmware of the active
// A/B slot (src/update/slots.ts) from its firmware flash file, runs an image
// only when its bytes match the boot record, resets on the firmware's reboot
// op, and reboots after a boot that raises, so that a trial image that never
// confirms (or never comes up) is reverted without anyone's help.
//
// "A newer firmware" here is the real bundle with a first line that prints a
// marker: a test fixture written into the slot by the test, as an updater would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scenario } from '../tools/vdevice/scenario.js';
import { MAX_BOOT_ATTEMPTS, VirtualDevice } from '../tools/vdevice/host.js';
import type { SlotImage } from '../src/update/slots.js';

/** Writes `bytes` into the inactive slot; activates it with `image` (default: what was written). */
function stage(s: Scenario, bytes: Uint8Array, image?: SlotImage): SlotImage {
  const recorded = image ?? { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  s.withFirmwareSlots((slots) => {
    const region = slots.inactive();
    const blocks = Math.ceil(bytes.length / region.blockSize);
    for (let b = 0; b < blocks; b++) {
      region.erase(b);
      const n = Math.min(region.blockSize, bytes.length - b * region.blockSize);
      region.write(b * region.blockSize, bytes, b * region.blockSize, n);
    }
    slots.activate(recorded);
  });
  return recorded;
}

/** A build older than the floor's persist step (1 h): the first sync persists the trusted time floor in kv. */
const FLOOR_AGE_MS = 2 * 3_600_000;

function marked(s: Scenario, marker: string): Uint8Array {
  return new Uint8Array(Buffer.from(`print(${JSON.stringify(marker)});\n${readFileSync(s.bundle, 'utf8')}`, 'utf8'));
}

function markerRuns(s: Scenario, marker: string): number {
  return s.logs.filter((l) => l === `[print] ${marker}`).length;
}

async function withScenario(work: (s: Scenario) => Promise<void>, extraConfig: Record<string, unknown> = {}): Promise<void> {
  const s = await Scenario.start({ transport: 'https', extraConfig });
  try {
    await work(s);
  } finally {
    await s.stop();
  }
}

test('factory state: the bundle file boots from slot 0, no trial, and the device comes up', () =>
  withScenario(async (s) => {
    assert.deepEqual(s.bootState, { slot: 0, trial: false, image: null, revertedFrom: null });
    assert.equal(s.boots.length, 1);
    assert.equal(s.boots[0]!.source, 'factory');
    assert.equal(s.boots[0]!.cause, 'power-on');
    await s.waitReady();
    // The firmware's reboot op boots the factory bundle again.
    const again = await s.reboot();
    assert.equal(again.cause, 'reboot');
    assert.equal(again.source, 'factory');
    await s.waitReady();
  }));

test('an activated image boots on trial after the reboot op; never confirmed, the next boot reverts it; confirmed, it stays', () =>
  withScenario(async (s) => {
    await s.waitReady();
    const image = stage(s, marked(s, 'fixture: firmware B'));
    // Staged and activated, but nothing changes before a reset.
    assert.equal(markerRuns(s, 'fixture: firmware B'), 0);

    const trial = await s.reboot();
    assert.equal(trial.source, 'slot');
    assert.deepEqual(trial.state, { slot: 1, trial: true, image, revertedFrom: null });
    assert.equal(markerRuns(s, 'fixture: firmware B'), 1, 'the slot image ran');
    await s.waitReady();

    // Nobody confirmed: the next boot is the confirmed (factory) one, and says what it reverted.
    const reverted = await s.reboot();
    assert.equal(reverted.source, 'factory');
    assert.deepEqual(reverted.state, { slot: 0, trial: false, image: null, revertedFrom: image });
    assert.equal(markerRuns(s, 'fixture: firmware B'), 1, 'the reverted image did not run again');
    await s.waitReady();

    // Activated again and confirmed during its trial: it boots from then on, no longer on trial.
    stage(s, marked(s, 'fixture: firmware B'));
    await s.reboot();
    assert.equal(markerRuns(s, 'fixture: firmware B'), 2);
    s.withFirmwareSlots((slots) => slots.confirm());
    const confirmed = await s.reboot();
    assert.deepEqual(confirmed.state, { slot: 1, trial: false, image, revertedFrom: null });
    assert.equal(markerRuns(s, 'fixture: firmware B'), 3);
    await s.waitReady();
    assert.equal(s.device.error, null);
  }));

test('an image whose bytes do not match its SHA-256 is not run: reverted, logged, the confirmed firmware boots', () =>
  withScenario(async (s) => {
    await s.waitReady();
    const good = marked(s, 'fixture: firmware C');
    const image = { length: good.length, sha256: createHash('sha256').update(good).digest('hex') };
    // The slot holds other bytes than the ones the boot record names (one character changed).
    const tampered = marked(s, 'fixture: firmware X');
    assert.equal(tampered.length, good.length);
    stage(s, tampered, image);

    const boot = await s.reboot();
    assert.deepEqual(boot.refused, image);
    assert.equal(boot.source, 'factory');
    assert.deepEqual(boot.state, { slot: 0, trial: false, image: null, revertedFrom: image });
    assert.equal(markerRuns(s, 'fixture: firmware X'), 0, 'the tampered image never ran');
    assert.ok(s.logs.some((l) => /image does not match its boot record/.test(l)), 'the refusal is logged');
    await s.waitReady();
  }));

test('a trial image that throws while booting is reverted automatically: the host reboots and the confirmed firmware comes up', () =>
  withScenario(async (s) => {
    await s.waitReady();
    const broken = new Uint8Array(Buffer.from('print("fixture: broken firmware");\nthrow new Error("fixture: broken firmware");\n', 'utf8'));
    const image = stage(s, broken);
    const before = s.device.bootCount;

    const up = await s.reboot();
    const attempts = s.boots.filter((b) => b.count > before);
    assert.equal(attempts.length, 2, JSON.stringify(attempts));
    assert.equal(attempts[0]!.source, 'slot');
    assert.equal(attempts[0]!.state?.trial, true);
    assert.match(String(attempts[0]!.error), /fixture: broken firmware/);
    assert.equal(up, attempts[1]);
    assert.equal(up.cause, 'failed-boot');
    assert.deepEqual(up.state, { slot: 0, trial: false, image: null, revertedFrom: image });
    assert.equal(markerRuns(s, 'fixture: broken firmware'), 1);
    assert.ok(MAX_BOOT_ATTEMPTS >= 2, 'a failed trial gets the boot that reverts it');
    await s.waitReady();
    assert.equal(s.device.error, null);
  }));

test('reboot and power cut keep the flash queues and the key-value settings', () =>
  withScenario(async (s) => {
    await s.waitReady();
    const kvBefore = JSON.parse(readFileSync(s.kvFile, 'utf8')) as Record<string, string>;
    assert.ok('time.floor' in kvBefore, 'the device persisted its trusted time floor');
    // Nothing can be sent: records stay in flash.
    await s.cloud.pause('refuse');
    await s.burst(7);
    await s.waitFor((h) => h.queueDepth === 7, 10_000, 'seven queued records');

    await s.reboot();
    await s.waitFor((h) => h.queueDepth === 7, 30_000, 'the seven records after the reboot');
    await s.restart();
    await s.waitFor((h) => h.queueDepth === 7, 30_000, 'the seven records after a power cut');
    const kvAfter = JSON.parse(readFileSync(s.kvFile, 'utf8')) as Record<string, string>;
    assert.deepEqual(kvAfter, kvBefore, 'settings survive both resets');

    await s.cloud.resume();
    await s.waitReady();
    await s.waitDrained();
    const telemetry = [...s.delivered().keys()].filter((k) => k.startsWith('telemetry:'));
    assert.equal(telemetry.length, 7, `records queued before the resets were delivered: ${telemetry.join(' ')}`);
    assert.equal(s.device.error, null);
  }, { buildTimeMs: Date.now() - FLOOR_AGE_MS }));

test('the firmware gets the firmware flash as a NOR FlashPort and can reboot through its FirmwarePort; without a firmware file it gets none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vdev-fw-'));
  const run = (firmwareFile: string | undefined) => {
    const statuses: Array<Record<string, unknown>> = [];
    const device = new VirtualDevice({
      bundle: join(import.meta.dirname, '..', '..', 'build', 'xs', 'firmware-port-probe.js'),
      config: {},
      tls: { ca: '' },
      flashFile: join(dir, 'flash.bin'),
      flashBlockSize: 4096,
      flashBlockCount: 4,
      ...(firmwareFile === undefined ? {} : { firmwareFile, firmwareBlockSize: 4096, firmwareBlockCount: 6 }),
      kvFile: join(dir, `kv-${firmwareFile === undefined ? 'none' : 'fw'}.json`),
      onStatus: (s) => statuses.push(s),
    });
    return { device, statuses };
  };
  try {
    const { device, statuses } = run(join(dir, 'firmware.bin'));
    await device.start();
    const second = await device.rebooted(1);
    assert.equal(second.cause, 'reboot');
    assert.equal(device.bootCount, 2);
    await device.stop();
    assert.equal(statuses.length, 1);
    // 0xff (erased), then 0x0f & 0xff = 0x0f, 0xf0 & 0x3c = 0x30: writes only clear bits.
    assert.deepEqual(statuses[0], {
      hasFirmware: true,
      first: { blockSize: 4096, blockCount: 6, flash: [0xff, 0x0f, 0x30], outside: 'HOST', queueByte: 0xff },
    });

    const bare = run(undefined);
    await bare.device.start();
    await bare.device.stop();
    assert.deepEqual(bare.statuses, [{ hasFirmware: false }]);
    assert.equal(bare.device.bootState, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
