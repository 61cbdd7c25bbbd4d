// The virtual device's I/O bridge, end to end: a probe bundle inside XS uses
// every bridged port against real Node I/O.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualDevice } from '../tools/vdevice/host.js';

test('bridged ports: ticks wrap, random, NOR-flash semantics, key-value, UDP, timers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vdev-'));
  const echo = createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  const status = new Promise<Record<string, unknown>>((resolve) => {
    const device = new VirtualDevice({
      bundle: join(import.meta.dirname, '..', '..', 'build', 'xs', 'bridge-probe.js'),
      config: { echoPort: echo.address().port },
      tls: { ca: '' },
      flashFile: join(dir, 'flash.bin'),
      flashBlockSize: 4096,
      flashBlockCount: 4,
      kvFile: join(dir, 'kv.json'),
      tickStart: 2 ** 32 - 10,
      onStatus: (s) => {
        resolve(s);
        void device.stop();
      },
    });
    void device.start();
  });
  const timeout = setTimeout(() => assert.fail('probe did not report within 10 s'), 10000);
  const s = await status;
  clearTimeout(timeout);
  echo.close();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(s.tick0, 2 ** 32 - 10, 'the raw counter starts where the host put it, just below the 32-bit wrap');
  assert.ok(Number(s.elapsed) >= 30 && Number(s.elapsed) < 5000, `elapsed across the wrap: ${s.elapsed}`);
  assert.equal(s.randomNonZero, true);
  // 0xff (erased), then 0x0f & 0xff = 0x0f, 0xf0 & 0x3c = 0x30: writes only clear bits.
  assert.deepEqual(s.flash, [0xff, 0x0f, 0x30]);
  assert.equal(s.kvBefore, null);
  assert.deepEqual(s.udp, { text: 'hi', address: '127.0.0.1', fromEchoPort: true });
});
