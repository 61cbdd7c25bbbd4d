// Fault injection in the dev cloud, programmatic and through the admin HTTP
// API: forced 429/500/503, dropped connections before and after processing
// (the at-least-once duplicate case), pause (refuse / hang), clock shift,
// early credential expiry, restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { crtSignPublish, fetchCredentials, rawHttps, type Credentials, type RawResponse, adminCall } from '../tools/devcloud/client.js';
import type { ProvisionedDevice } from '../tools/devcloud/state-dir.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
/** How long a 'hang' pause must keep a request unanswered in this test (a negative check: no answer may arrive). */
const HANG_PROBE_MS = 300;

let now = T0;
let cloud: DevCloud;
let stateDir: string;
let ca: string;
let creds: Credentials;
let device: ProvisionedDevice;
let seq = 0;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-faults-'));
  cloud = await startDevCloud({ stateDir, keyType: 'ec', timeSource: () => now, adminPort: 0 });
  const e = cloud.endpoints();
  ca = readFileSync(e.caFile, 'utf8');
  device = await cloud.provision('fault-thing');
  creds = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function publish(o: { payload?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
  const e = cloud.endpoints();
  const body = Buffer.from(o.payload ?? JSON.stringify({ deviceId: 'fault-thing', seq: ++seq }));
  const s = await crtSignPublish({ credentials: creds, region: 'us-east-1', hostHeader: `127.0.0.1:${e.gatewayPort}`, topic: 'dt/fault-thing', body, date: new Date(now) });
  return rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method: 'POST', path: s.path, headers: s.headers, body, ca, timeoutMs: o.timeoutMs });
}

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return adminCall(cloud.endpoints().adminPort!, method, path, body);
}

function assertAws(res: RawResponse, status: number, message: string): void {
  assert.equal(res.status, status, res.body.toString());
  assert.equal(res.headers.date, new Date(now).toUTCString());
  assert.equal((res.json() as { message: string }).message, message);
}

describe('fault injection', () => {
  test('failNext(503, 2): two AWS-shaped 503s, then success; counted as injected, not as gateway rejections', async () => {
    const before = cloud.counters();
    cloud.failNext(503, 2);
    assertAws(await publish(), 503, 'Service Unavailable');
    assertAws(await publish(), 503, 'Service Unavailable');
    assert.equal((await publish()).status, 200);
    const c = cloud.counters();
    assert.equal(c.injectedFaults - before.injectedFaults, 2);
    assert.equal(c.gatewayRejected, before.gatewayRejected);
  });

  test('admin API: 429 and 500 through POST /faults/fail', async () => {
    assert.equal((await admin('POST', '/faults/fail', { status: 429, count: 1 })).status, 200);
    assertAws(await publish(), 429, 'Rate exceeded');
    assert.equal((await admin('POST', '/faults/fail', { status: 500, count: 1 })).status, 200);
    assertAws(await publish(), 500, 'Internal failure');
    assert.equal((await publish()).status, 200);
  });

  test("drop 'before': the connection dies and nothing is published", async () => {
    const before = cloud.counters().messagesLogged;
    cloud.dropNext(1, 'before');
    await assert.rejects(publish());
    assert.equal(cloud.counters().messagesLogged, before);
    assert.equal((await publish()).status, 200);
  });

  test("drop 'after': published but unanswered; the device's retry is flagged as a duplicate", async () => {
    const payload = JSON.stringify({ deviceId: 'fault-thing', seq: 1000 });
    cloud.dropNext(1, 'after');
    await assert.rejects(publish({ payload }));
    const first = cloud.messages().at(-1)!;
    assert.equal(first.seq, 1000);
    assert.equal(first.duplicate, false);
    assert.equal((await publish({ payload })).status, 200);
    const retry = cloud.messages().at(-1)!;
    assert.equal(retry.seq, 1000);
    assert.equal(retry.duplicate, true);
    assert.equal(cloud.counters().duplicates, 1);
  });

  test("pause('refuse') refuses connections; resume() serves again on the same port", async () => {
    const port = cloud.endpoints().gatewayPort;
    await cloud.pause('refuse');
    await assert.rejects(publish(), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    await cloud.resume();
    assert.equal(cloud.endpoints().gatewayPort, port);
    assert.equal((await publish()).status, 200);
  });

  test("pause('hang') accepts but never answers; resume() cuts the held connection", async () => {
    await admin('POST', '/faults/pause', { mode: 'hang' });
    const pending = publish({ timeoutMs: 10_000 });
    const outcome = await Promise.race([pending.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('no answer'), HANG_PROBE_MS))]);
    assert.equal(outcome, 'no answer');
    await admin('POST', '/faults/resume');
    await assert.rejects(pending, 'the held request fails when the pause ends');
    assert.equal((await publish()).status, 200);
  });

  test('admin API: clock shift makes fresh signatures skewed; GET /status shows it', async () => {
    assert.equal((await admin('POST', '/clock', { shiftMs: -6 * 60_000 })).status, 200);
    const status = await admin('GET', '/status');
    assert.equal(status.json.clockShiftMs, -360_000);
    const res = await publish();
    assert.equal(res.status, 403);
    assert.equal(
      (res.json() as { message: string }).message,
      'Signature not yet current: 20261122T120000Z is still later than 20261122T115900Z (20261122T115400Z + 5 min.)',
    );
    await admin('POST', '/clock', { shiftMs: 0 });
    assert.equal((await publish()).status, 200);
  });

  test('admin API: early credential expiry', async () => {
    const e = cloud.endpoints();
    const mine = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
    const r = await admin('POST', '/credentials/expire', { accessKeyId: mine.accessKeyId });
    assert.deepEqual(r.json, { ok: true, expired: 1 });
    const body = Buffer.from('{}');
    const s = await crtSignPublish({ credentials: mine, region: 'us-east-1', hostHeader: `127.0.0.1:${e.gatewayPort}`, topic: 'dt/x', body, date: new Date(now) });
    assertAws(await rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method: 'POST', path: s.path, headers: s.headers, body, ca }), 403, 'The security token included in the request is expired');
    assert.equal((await publish()).status, 200, 'other credentials unaffected');
  });

  test('faults on the credentials provider', async () => {
    cloud.failNext(503, 1, 'credentials');
    const e = cloud.endpoints();
    await assert.rejects(fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem }), /answered 503/);
    await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
  });

  test('admin API: restart over HTTP, messages log, and refusal of bad input', async () => {
    const port = cloud.endpoints().gatewayPort;
    assert.equal((await admin('POST', '/restart')).status, 200);
    assert.equal(cloud.endpoints().gatewayPort, port);
    assert.equal((await publish()).status, 200, 'credentials survive the restart');
    const since = cloud.counters().messagesLogged - 1;
    const log = await admin('GET', `/messages?since=${since}`);
    assert.equal(log.json.messages.length, 1);
    assert.equal(log.json.messages[0].topic, 'dt/fault-thing');
    assert.equal((await admin('POST', '/faults/fail', { status: 418, count: 1 })).status, 400);
    assert.equal((await admin('POST', '/faults/fail', { status: 503, count: -1 })).status, 400);
    assert.equal((await admin('POST', '/faults/drop', { count: 1, when: 'sometimes' })).status, 400);
    assert.equal((await admin('GET', '/messages?since=x')).status, 400);
    assert.equal((await admin('POST', '/nope')).status, 404);
    assert.equal((await admin('POST', '/provision', { thing: 'bad thing' })).status, 400);
    assert.equal((await admin('POST', '/provision', { thing: 'adm-thing', endpoint: 'x y' })).status, 400);
    const prov = await admin('POST', '/provision', { thing: 'adm-thing' });
    assert.equal(prov.status, 200);
    assert.ok(!JSON.stringify(prov.json).includes('PRIVATE KEY'), 'no key material over the admin API');
    assert.equal(JSON.parse(readFileSync(prov.json.provisioningFile, 'utf8')).thingName, 'adm-thing');
    assert.deepEqual(cloud.faults.state().fail.publish, null, 'refused admin calls armed nothing');
    assert.equal((await publish()).status, 200);
  });
});
