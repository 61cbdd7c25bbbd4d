// The dev cloud gateway's SigV4 verification over real TLS: requests signed by
// aws-crt (and one by @smithy/signature-v4, a second independent signer) are
// accepted; each tampering is refused with the AWS-shaped answer. Expected
// messages are written out from AWS's documented formats with this test's own
// fixed clock, not copied from the implementation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { SignatureV4 } from '@smithy/signature-v4';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { crtSignPublish, fetchCredentials, rawHttps, type Credentials, type RawResponse } from '../tools/devcloud/client.js';

// 2026-11-22T12:00:00Z: the dev cloud's clock in this file (it only moves when a test moves it).
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired';
const SUBSCRIBER_WAIT_MS = 5_000;

let now = T0;
let cloud: DevCloud;
let stateDir: string;
let ca: string;
let creds: Credentials;
let port: number;
let hostHeader: string;
let subscriber: mqtt.MqttClient;
const delivered: Array<{ topic: string; payload: string }> = [];

function assertAwsError(res: RawResponse, status: number, message: string): void {
  assert.equal(res.status, status, `status (body ${res.body.toString()})`);
  assert.ok(typeof res.headers.date === 'string' && !Number.isNaN(Date.parse(res.headers.date)), 'Date header present');
  assert.equal(res.headers['content-type'], 'application/json');
  const body = res.json() as { message: string; traceId: string };
  assert.equal(body.message, message);
  assert.match(body.traceId, /^[0-9a-f-]{36}$/);
}

function send(path: string, headers: Array<[string, string]>, body: Buffer, method = 'POST'): Promise<RawResponse> {
  return rawHttps({ host: '127.0.0.1', port, method, path, headers, body, ca });
}

async function signed(o: { topic?: string; body?: Buffer; at?: number; service?: string; region?: string; credentials?: Credentials; qos?: 0 | 1 } = {}) {
  const body = o.body ?? Buffer.from(JSON.stringify({ deviceId: 'gw-thing', seq: 1 }));
  const s = await crtSignPublish({
    credentials: o.credentials ?? creds,
    region: o.region ?? 'us-east-1',
    service: o.service ?? 'iotdata',
    hostHeader,
    topic: o.topic ?? 'dt/gw-thing/telemetry',
    qos: o.qos ?? 1,
    body,
    date: new Date(o.at ?? now),
  });
  return { ...s, body };
}

function replaceHeader(headers: Array<[string, string]>, name: string, value: string | null): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== name) out.push([k, v]);
    else if (value !== null) out.push([k, value]);
  }
  return out;
}

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-gw-'));
  cloud = await startDevCloud({ stateDir, keyType: 'ec', timeSource: () => now });
  const e = cloud.endpoints();
  port = e.gatewayPort;
  hostHeader = `127.0.0.1:${port}`;
  ca = readFileSync(e.caFile, 'utf8');
  const device = await cloud.provision('gw-thing');
  creds = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
  subscriber = mqtt.connect(e.brokerUrl, { reconnectPeriod: 0, clientId: 'gw-test-subscriber' });
  subscriber.on('message', (topic, payload) => delivered.push({ topic, payload: payload.toString('utf8') }));
  await new Promise<void>((resolve, reject) => {
    subscriber.once('connect', () => resolve());
    subscriber.once('error', reject);
  });
  await subscriber.subscribeAsync('#', { qos: 1 });
});

after(async () => {
  await subscriber?.endAsync(true);
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function waitDelivered(count: number): Promise<void> {
  for (let waited = 0; delivered.length < count && waited < SUBSCRIBER_WAIT_MS; waited += 20) await new Promise((r) => setTimeout(r, 20));
}

describe('HTTPS publish', () => {
  test('a request signed by aws-crt is accepted, answered like AWS, and reaches the broker', async () => {
    const s = await signed({ topic: 'dt/gw-thing/ok', body: Buffer.from('{"deviceId":"gw-thing","seq":7}') });
    const res = await send(s.path, s.headers, s.body);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers.date, new Date(now).toUTCString(), 'Date header is the cloud clock');
    const body = res.json() as { message: string; traceId: string };
    assert.equal(body.message, 'OK');
    await waitDelivered(1);
    assert.deepEqual(delivered.at(-1), { topic: 'dt/gw-thing/ok', payload: '{"deviceId":"gw-thing","seq":7}' });
    const logged = cloud.messages().at(-1)!;
    assert.equal(logged.via, 'https');
    assert.equal(logged.deviceId, 'gw-thing');
    assert.equal(logged.seq, 7);
    assert.equal(logged.sender, 'gw-thing');
  });

  test('the canonical URI is the wire path encoded once more (a/b -> a%2Fb on the wire)', async () => {
    const s = await signed({ topic: 'a/b c' });
    assert.equal(s.path, '/topics/a%2Fb%20c?qos=1');
    const res = await send(s.path, s.headers, s.body);
    assert.equal(res.status, 200, res.body.toString());
  });

  test('signing name iotdevicegateway (used by an AWS sample) is accepted too', async () => {
    const s = await signed({ service: 'iotdevicegateway' });
    assert.equal((await send(s.path, s.headers, s.body)).status, 200);
  });

  test('a request signed by @smithy/signature-v4 (second independent signer) is accepted', async () => {
    class NodeSha256 {
      private readonly h;
      constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
        this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret as ArrayBuffer));
      }
      update(data: string | ArrayBuffer | ArrayBufferView): void {
        this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data as ArrayBuffer));
      }
      async digest(): Promise<Uint8Array> {
        return new Uint8Array(this.h.digest());
      }
    }
    const signer = new SignatureV4({ service: 'iotdata', region: 'us-east-1', credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken }, sha256: NodeSha256, uriEscapePath: true });
    const body = '{"deviceId":"gw-thing","seq":99}';
    const out = await signer.sign(
      { method: 'POST', protocol: 'https:', hostname: '127.0.0.1', port, path: '/topics/dt%2Fsmithy', query: { qos: '1' }, headers: { host: hostHeader, 'content-type': 'application/json' }, body },
      { signingDate: new Date(now) },
    );
    const headers = Object.entries(out.headers) as Array<[string, string]>;
    headers.push(['content-length', String(Buffer.byteLength(body))]);
    const res = await send('/topics/dt%2Fsmithy?qos=1', headers, Buffer.from(body));
    assert.equal(res.status, 200, res.body.toString());
  });

  test('tampered body is refused as a signature mismatch', async () => {
    const s = await signed();
    const res = await send(s.path, replaceHeader(s.headers, 'content-length', String(s.body.length + 1)), Buffer.concat([s.body, Buffer.from(' ')]));
    assertAwsError(res, 403, SIGNATURE_MISMATCH);
  });

  test('tampered signed header is refused', async () => {
    const s = await signed();
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'content-type', 'text/plain'), s.body), 403, SIGNATURE_MISMATCH);
  });

  test('tampered path (topic) is refused', async () => {
    const s = await signed({ topic: 'dt/a' });
    assertAwsError(await send(s.path.replace('dt%2Fa', 'dt%2Fb'), s.headers, s.body), 403, SIGNATURE_MISMATCH);
  });

  test('tampered query (qos) is refused', async () => {
    const s = await signed({ qos: 1 });
    assertAwsError(await send(s.path.replace('qos=1', 'qos=0'), s.headers, s.body), 403, SIGNATURE_MISMATCH);
  });

  test('tampered X-Amz-Date (inside the window) is refused', async () => {
    const s = await signed();
    const moved = new Date(now + 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'x-amz-date', moved), s.body), 403, SIGNATURE_MISMATCH);
  });

  test('tampered signature is refused', async () => {
    const s = await signed();
    const auth = s.headers.find(([k]) => k.toLowerCase() === 'authorization')![1];
    const last = auth.at(-1) === '0' ? '1' : '0';
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'authorization', auth.slice(0, -1) + last), s.body), 403, SIGNATURE_MISMATCH);
  });

  test('a wrong secret is refused as a signature mismatch', async () => {
    const s = await signed({ credentials: { ...creds, secretAccessKey: creds.secretAccessKey.slice(1) + 'x' } });
    assertAwsError(await send(s.path, s.headers, s.body), 403, SIGNATURE_MISMATCH);
  });

  test('tampered or missing session token is refused as an invalid token', async () => {
    const s = await signed();
    const token = s.headers.find(([k]) => k.toLowerCase() === 'x-amz-security-token')![1];
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'x-amz-security-token', 'A' + token.slice(1)), s.body), 403, INVALID_TOKEN);
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'x-amz-security-token', null), s.body), 403, INVALID_TOKEN);
  });

  test('an access key the provider never issued is refused as an invalid token', async () => {
    const s = await signed({ credentials: { ...creds, accessKeyId: 'ASIAAAAAAAAAAAAAAAAA' } });
    assertAwsError(await send(s.path, s.headers, s.body), 403, INVALID_TOKEN);
  });

  test('signed 5 min ago exactly is accepted; 5 min 1 s ago is "Signature expired"', async () => {
    const ok = await signed({ at: now - 300_000 });
    assert.equal((await send(ok.path, ok.headers, ok.body)).status, 200);
    const old = await signed({ at: now - 301_000 });
    // now = 20261122T120000Z: window start 11:55:00; request 11:54:59.
    assertAwsError(await send(old.path, old.headers, old.body), 403, 'Signature expired: 20261122T115459Z is now earlier than 20261122T115500Z (20261122T120000Z - 5 min.)');
  });

  test('signed 5 min 1 s in the future is "Signature not yet current"', async () => {
    const ok = await signed({ at: now + 300_000 });
    assert.equal((await send(ok.path, ok.headers, ok.body)).status, 200);
    const future = await signed({ at: now + 301_000 });
    assertAwsError(
      await send(future.path, future.headers, future.body),
      403,
      'Signature not yet current: 20261122T120501Z is still later than 20261122T120500Z (20261122T120000Z + 5 min.)',
    );
  });

  test('scope: wrong region, wrong service and a scope date that is not the request date are refused', async () => {
    const r = await signed({ region: 'eu-west-1' });
    assertAwsError(await send(r.path, r.headers, r.body), 403, "Credential should be scoped to a valid region, not 'eu-west-1'. ");
    const s = await signed({ service: 's3' });
    assertAwsError(await send(s.path, s.headers, s.body), 403, "Credential should be scoped to correct service: 'iotdata'. ");
    const d = await signed();
    const auth = d.headers.find(([k]) => k.toLowerCase() === 'authorization')![1].replace('/20261122/', '/20261121/');
    assertAwsError(
      await send(d.path, replaceHeader(d.headers, 'authorization', auth), d.body),
      403,
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261121' != '20261122', from 'x-amz-date'.",
    );
  });

  test('no authentication at all is "Missing Authentication Token"', async () => {
    const res = await send('/topics/x?qos=1', [['host', hostHeader], ['content-length', '2']], Buffer.from('{}'));
    assertAwsError(res, 403, 'Missing Authentication Token');
  });

  test('malformed authentication is refused with a message naming what is wrong (and changes nothing)', async () => {
    const before = cloud.counters().messagesLogged;
    const base: Array<[string, string]> = [['host', hostHeader], ['content-length', '2'], ['x-amz-date', '20261122T120000Z']];
    const incomplete = await send('/topics/x?qos=1', [...base, ['authorization', `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20261122/us-east-1/iotdata/aws4_request`]], Buffer.from('{}'));
    assertAwsError(incomplete, 403, "Authorization header requires 'SignedHeaders' parameter. Authorization header requires 'Signature' parameter.");
    const s = await signed();
    const auth = s.headers.find(([k]) => k.toLowerCase() === 'authorization')!;
    assertAwsError(await send(s.path, [...s.headers, auth], s.body), 403, "Request has more than one 'authorization' header.");
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'x-amz-date', '2026-11-22T12:00:00Z'), s.body), 403, "Date must be in ISO-8601 'basic format'. Got '2026-11-22T12:00:00Z'.");
    assertAwsError(await send(s.path, replaceHeader(s.headers, 'authorization', auth[1].replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')), s.body), 403, 'Unsupported Authorization algorithm; expected AWS4-HMAC-SHA256.');
    assert.equal(cloud.counters().messagesLogged, before);
  });

  test('a shifted gateway clock turns a fresh signature into clock skew, and Date shows the gateway time', async () => {
    cloud.shiftClock(10 * 60_000);
    try {
      const s = await signed();
      const res = await send(s.path, s.headers, s.body);
      assertAwsError(res, 403, 'Signature expired: 20261122T120000Z is now earlier than 20261122T120500Z (20261122T121000Z - 5 min.)');
      assert.equal(res.headers.date, 'Sun, 22 Nov 2026 12:10:00 GMT');
    } finally {
      cloud.shiftClock(0);
    }
  });

  test('expired credentials get the expired-token answer; early expiry too', async () => {
    const device = await cloud.provision('gw-expiring');
    const e = cloud.endpoints();
    cloud.setCredentialLifetime(900);
    const short = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
    cloud.setCredentialLifetime(3600);
    assert.equal(short.expiration, '2026-11-22T12:15:00Z');
    const saved = now;
    try {
      now = T0 + 899_000;
      const fresh = await signed({ credentials: short });
      assert.equal((await send(fresh.path, fresh.headers, fresh.body)).status, 200, 'valid 1 s before expiration');
      now = T0 + 900_000;
      const late = await signed({ credentials: short });
      assertAwsError(await send(late.path, late.headers, late.body), 403, EXPIRED_TOKEN);
    } finally {
      now = saved;
    }
    const other = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
    assert.equal(cloud.expireCredentials(other.accessKeyId), 1);
    const s = await signed({ credentials: other });
    assertAwsError(await send(s.path, s.headers, s.body), 403, EXPIRED_TOKEN);
  });

  test('validly signed but invalid publishes: wildcard topic, qos 2, oversized payload, wrong method, unknown path', async () => {
    const w = await signed({ topic: 'dt/#' });
    assertAwsError(await send(w.path, w.headers, w.body), 400, 'Topic must not contain wildcards (#, +) or NUL.');
    const q = await crtSignPublish({ credentials: creds, region: 'us-east-1', hostHeader, topic: 'dt/q', qos: 1, body: Buffer.from('{}'), date: new Date(now) });
    // Re-sign with qos=2 in the path: aws-crt signs whatever path it is given.
    const q2 = await crtSignPublish({ credentials: creds, region: 'us-east-1', hostHeader, topic: 'dt/q', qos: 2 as 1, body: Buffer.from('{}'), date: new Date(now) });
    assert.notEqual(q.path, q2.path);
    assertAwsError(await send(q2.path, q2.headers, Buffer.from('{}')), 400, 'qos must be 0 or 1.');
    const big = Buffer.alloc(128 * 1024 + 1, 0x61);
    const b = await signed({ body: big });
    assertAwsError(await send(b.path, b.headers, b.body), 413, 'Payload exceeds the maximum size of 128 KB.');
    assertAwsError(await send('/topics/x?qos=1', [['host', hostHeader]], Buffer.alloc(0), 'GET'), 405, 'Method GET is not allowed on /topics; use POST.');
    assertAwsError(await send('/things/x/shadow', [['host', hostHeader]], Buffer.alloc(0), 'GET'), 404, 'Not Found');
  });

  test('only accepted publishes reached the broker; counters agree', async () => {
    await waitDelivered(cloud.counters().accepted.https);
    const c = cloud.counters();
    assert.equal(delivered.length, c.accepted.https, 'every accepted publish was delivered, nothing else');
    assert.ok(c.gatewayRejected >= 20, `gatewayRejected counts refusals (${c.gatewayRejected})`);
    assert.ok((c.rejected['signature-mismatch'] ?? 0) >= 7);
    assert.ok((c.rejected.skew ?? 0) >= 3);
    assert.ok((c.rejected['expired-token'] ?? 0) >= 2);
    assert.equal(c.injectedFaults, 0);
  });
});
