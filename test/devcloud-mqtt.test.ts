// MQTT over WebSocket through the dev cloud gateway: a real MQTT.js client
// connects with an aws-crt presigned URL (AWS IoT flavour: token appended
// after signing), publishes QoS 1, receives the broker's PUBACK, and a
// subscriber on the broker's TCP port sees the message. Refused handshakes
// get the AWS-shaped 403 with a Date header.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { crtPresignMqtt, fetchCredentials, rawHttps, type Credentials, type RawResponse } from '../tools/devcloud/client.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const WAIT_MS = 5_000;
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

let now = T0;
let cloud: DevCloud;
let stateDir: string;
let ca: string;
let creds: Credentials;
let port: number;
let hostHeader: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-mqtt-'));
  cloud = await startDevCloud({ stateDir, keyType: 'ec', timeSource: () => now });
  const e = cloud.endpoints();
  port = e.gatewayPort;
  hostHeader = `127.0.0.1:${port}`;
  ca = readFileSync(e.caFile, 'utf8');
  const device = await cloud.provision('mqtt-thing');
  creds = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function presign(o: { at?: number; expiresSeconds?: number; signToken?: boolean; service?: string } = {}): Promise<string> {
  return crtPresignMqtt({ credentials: creds, region: 'us-east-1', hostHeader, date: new Date(o.at ?? now), ...o });
}

/** A WebSocket handshake by hand, to read a refusal's status and body. */
function handshake(path: string): Promise<RawResponse> {
  return rawHttps({
    host: '127.0.0.1',
    port,
    method: 'GET',
    path,
    ca,
    headers: [
      ['host', hostHeader],
      ['connection', 'Upgrade'],
      ['upgrade', 'websocket'],
      ['sec-websocket-version', '13'],
      ['sec-websocket-key', randomBytes(16).toString('base64')],
      ['sec-websocket-protocol', 'mqtt'],
    ],
  });
}

function assertForbidden(res: RawResponse, message: string): void {
  assert.equal(res.status, 403, res.body.toString());
  assert.equal(res.headers.date, new Date(now).toUTCString());
  assert.equal((res.json() as { message: string }).message, message);
}

async function connectSubscriber(): Promise<mqtt.MqttClient> {
  const sub = mqtt.connect(cloud.endpoints().brokerUrl, { reconnectPeriod: 0, clientId: `sub-${randomBytes(4).toString('hex')}` });
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  return sub;
}

describe('MQTT over WebSocket', () => {
  test('presigned URL follows the AWS IoT shape (token after the signature parameters, not signed)', async () => {
    const path = await presign();
    assert.match(path, /^\/mqtt\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA[A-Z2-7]{16}%2F20261122%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261122T120000Z&X-Amz-SignedHeaders=host&/);
    assert.ok(path.includes('X-Amz-Security-Token='));
  });

  test('MQTT.js connects with the presigned URL, QoS 1 publish gets a PUBACK, a broker subscriber sees it', async () => {
    const sub = await connectSubscriber();
    const seen = new Promise<[string, string]>((resolve) => sub.on('message', (t, p) => resolve([t, p.toString()])));
    await sub.subscribeAsync('dt/mqtt-thing/#', { qos: 1 });
    const url = `wss://127.0.0.1:${port}${await presign()}`;
    const device = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, clientId: 'mqtt-thing', wsOptions: { ca }, connectTimeout: WAIT_MS });
    const pubacks: number[] = [];
    device.on('packetreceive', (p) => {
      if (p.cmd === 'puback') pubacks.push(p.messageId!);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        device.once('connect', () => resolve());
        device.once('error', reject);
      });
      const payload = JSON.stringify({ deviceId: 'mqtt-thing', seq: 41 });
      const sent = await device.publishAsync('dt/mqtt-thing/telemetry', payload, { qos: 1 });
      assert.ok(sent && sent.messageId !== undefined);
      assert.deepEqual(pubacks, [sent.messageId], 'exactly one PUBACK, for our message id');
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('subscriber saw nothing')), WAIT_MS).unref());
      assert.deepEqual(await Promise.race([seen, timeout]), ['dt/mqtt-thing/telemetry', payload]);
      // aedes reports the publish to the dev cloud's log asynchronously: poll, bounded.
      const find = () => cloud.messages().find((m) => m.topic === 'dt/mqtt-thing/telemetry');
      for (let waited = 0; find() === undefined && waited < WAIT_MS; waited += 20) await new Promise((r) => setTimeout(r, 20));
      const logged = find()!;
      assert.ok(logged, 'message logged');
      assert.equal(logged.via, 'mqtt');
      assert.equal(logged.seq, 41);
      assert.equal(logged.sender, 'mqtt-thing');
    } finally {
      await device.endAsync(true);
      await sub.endAsync(true);
    }
  });

  test('signing the session token into the canonical query (the common client bug) is refused', async () => {
    assertForbidden(await handshake(await presign({ signToken: true })), SIGNATURE_MISMATCH);
  });

  test('tampered signature, dropped token, wrong service are refused', async () => {
    const path = await presign();
    const sig = /X-Amz-Signature=([0-9a-f]{64})/.exec(path)![1]!;
    assertForbidden(await handshake(path.replace(sig, sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0'))), SIGNATURE_MISMATCH);
    assertForbidden(await handshake(path.replace(/&X-Amz-Security-Token=[^&]*/, '')), 'The security token included in the request is invalid.');
    assertForbidden(await handshake(await presign({ service: 'iotdata' })), "Credential should be scoped to correct service: 'iotdevicegateway'. ");
  });

  test('X-Amz-Expires governs presigned URLs: valid for its whole life, refused one second after', async () => {
    // Signed 10 min ago with a one-hour life: beyond ±5 min, but not expired.
    const longLived = await presign({ at: now - 600_000, expiresSeconds: 3600 });
    const device = mqtt.connect(`wss://127.0.0.1:${port}${longLived}`, { reconnectPeriod: 0, protocolVersion: 4, clientId: 'mqtt-thing-2', wsOptions: { ca }, connectTimeout: WAIT_MS });
    try {
      await new Promise<void>((resolve, reject) => {
        device.once('connect', () => resolve());
        device.once('error', reject);
      });
    } finally {
      await device.endAsync(true);
    }
    const expired = await presign({ at: now - 61_000, expiresSeconds: 60 });
    assertForbidden(await handshake(expired), 'Presigned URL expired: 20261122T115859Z + 60 s = 20261122T115959Z is now earlier than 20261122T120000Z');
  });

  test('without X-Amz-Expires the ±5 min window applies', async () => {
    assertForbidden(await handshake(await presign({ at: now - 301_000 })), 'Signature expired: 20261122T115459Z is now earlier than 20261122T115500Z (20261122T120000Z - 5 min.)');
  });

  test('a refused handshake makes MQTT.js fail to connect (no silent success)', async () => {
    const bad = mqtt.connect(`wss://127.0.0.1:${port}${await presign({ signToken: true })}`, { reconnectPeriod: 0, protocolVersion: 4, wsOptions: { ca }, connectTimeout: WAIT_MS });
    try {
      const outcome = await new Promise<string>((resolve) => {
        bad.once('connect', () => resolve('connected'));
        bad.once('error', () => resolve('error'));
        bad.once('close', () => resolve('closed'));
      });
      assert.notEqual(outcome, 'connected');
    } finally {
      await bad.endAsync(true);
    }
  });

  test('faults on the WebSocket handshake: injected 503, dropped connection', async () => {
    cloud.failNext(503, 1, 'mqtt');
    const res = await handshake(await presign());
    assert.equal(res.status, 503);
    assert.equal((res.json() as { message: string }).message, 'Service Unavailable');
    assert.equal(res.headers.date, new Date(now).toUTCString());
    cloud.dropNext(1, 'before', 'mqtt');
    await assert.rejects(handshake(await presign()));
    cloud.dropNext(1, 'after', 'mqtt');
    const cut = mqtt.connect(`wss://127.0.0.1:${port}${await presign()}`, { reconnectPeriod: 0, protocolVersion: 4, wsOptions: { ca }, connectTimeout: WAIT_MS });
    try {
      const outcome = await new Promise<string>((resolve) => {
        cut.once('connect', () => resolve('connected'));
        cut.once('error', () => resolve('error'));
        cut.once('close', () => resolve('closed'));
      });
      assert.notEqual(outcome, 'connected', 'upgraded, then terminated before CONNACK');
    } finally {
      await cut.endAsync(true);
    }
  });

  test('cutConnections() ends a live MQTT session', async () => {
    const device = mqtt.connect(`wss://127.0.0.1:${port}${await presign()}`, { reconnectPeriod: 0, protocolVersion: 4, clientId: 'mqtt-thing-3', wsOptions: { ca }, connectTimeout: WAIT_MS });
    try {
      await new Promise<void>((resolve, reject) => {
        device.once('connect', () => resolve());
        device.once('error', reject);
      });
      const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
      assert.ok(cloud.cutConnections() >= 1);
      await closed;
    } finally {
      await device.endAsync(true);
    }
  });
});
