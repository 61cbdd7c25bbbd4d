// The project's own signer (src/sigv4) talking to the dev cloud, whose
// verifier is aws-crt: an end-to-end peer check of the device path. HTTPS
// publishes to tricky topics (property-based, bounded) and a presigned MQTT
// URL used by MQTT.js must all be accepted; a skewed signing time must get the
// AWS skew answer the uploader classifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { Signer, presignMqttUrl, signIotPublish } from '../src/sigv4/index.js';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { fetchCredentials, rawHttps, type Credentials } from '../tools/devcloud/client.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
/** Property runs: each is one TLS request; bounded for a shared 2-core machine. */
const RUNS = 40;
const WAIT_MS = 5_000;

let cloud: DevCloud;
let stateDir: string;
let ca: string;
let creds: Credentials;
let endpoint: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-signer-'));
  cloud = await startDevCloud({ stateDir, keyType: 'ec', timeSource: () => T0 });
  const e = cloud.endpoints();
  endpoint = `127.0.0.1:${e.gatewayPort}`;
  ca = readFileSync(e.caFile, 'utf8');
  const device = await cloud.provision('signer-thing');
  creds = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function signer(service = 'iotdata'): Signer {
  return new Signer({ credentials: creds, region: 'us-east-1', service });
}

async function publishWith(s: Signer, topic: string, body: Uint8Array, timeMs = T0) {
  const req = signIotPublish(s, { endpoint, topic, body, timeMs, headers: [['content-type', 'application/json']] });
  const headers = req.headers.map(([k, v]) => [k, v] as [string, string]);
  headers.push(['content-length', String(body.length)]);
  return rawHttps({ host: '127.0.0.1', port: cloud.endpoints().gatewayPort, method: 'POST', path: req.path, headers, body: Buffer.from(body), ca });
}

// Topic characters AWS allows in a publish topic: anything but the wildcards and NUL.
const topicChar = fc.oneof(
  fc.constantFrom('a', 'Z', '0', '/', ' ', '-', '_', '.', '~', '%', '$', '&', '=', '?', ':', '@', '!', "'", '(', ')', '*', ',', ';', 'é', 'ß', '日', '🚀'),
  fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !/[#+\u0000]/.test(c) && !/[\uD800-\uDFFF]/.test(c)),
);
const topic = fc
  .array(topicChar, { minLength: 1, maxLength: 40 })
  .map((cs) => cs.join(''))
  .filter((t) => t.split('/').length - 1 <= 7 && Buffer.byteLength(t) <= 256);

describe('project signer -> dev cloud (aws-crt verifier)', () => {
  test('HTTPS publish to arbitrary valid topics, with arbitrary bodies, is accepted', async () => {
    const s = signer();
    await fc.assert(
      fc.asyncProperty(topic, fc.uint8Array({ maxLength: 512 }), async (t, body) => {
        const res = await publishWith(s, t, body);
        assert.equal(res.status, 200, `topic ${JSON.stringify(t)}: ${res.body.toString()}`);
        const logged = cloud.messages().at(-1)!;
        assert.equal(logged.topic, t);
        assert.equal(logged.payloadBase64, Buffer.from(body).toString('base64'));
      }),
      { numRuns: RUNS, seed: 20261122 },
    );
  });

  test('signing name iotdevicegateway is accepted for HTTPS publish', async () => {
    assert.equal((await publishWith(signer('iotdevicegateway'), 'dt/x', new Uint8Array([1, 2, 3]))).status, 200);
  });

  test('a device clock 6 min slow gets the skew answer, with the cloud time in Date', async () => {
    const res = await publishWith(signer(), 'dt/x', new Uint8Array(0), T0 - 360_000);
    assert.equal(res.status, 403);
    assert.equal(res.headers.date, 'Sun, 22 Nov 2026 12:00:00 GMT');
    assert.equal((res.json() as { message: string }).message, 'Signature expired: 20261122T115400Z is now earlier than 20261122T115500Z (20261122T120000Z - 5 min.)');
  });

  test('presignMqttUrl: MQTT.js connects and gets a PUBACK', async () => {
    const url = presignMqttUrl(signer('iotdevicegateway'), { endpoint, timeMs: T0, expiresSeconds: 300 });
    const device = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, clientId: 'signer-thing', wsOptions: { ca }, connectTimeout: WAIT_MS });
    const pubacks: number[] = [];
    device.on('packetreceive', (p) => {
      if (p.cmd === 'puback') pubacks.push(p.messageId!);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        device.once('connect', () => resolve());
        device.once('error', reject);
      });
      const sent = await device.publishAsync('dt/signer-thing', '{"seq":1}', { qos: 1 });
      assert.deepEqual(pubacks, [sent!.messageId]);
    } finally {
      await device.endAsync(true);
    }
  });
});
