// The dev cloud's credentials provider: mutual TLS with device certificates
// from the local CA, AWS's response shape, thing-name check, lifetimes, and
// credentials that survive a restart of the servers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { createCa, createLeaf } from '../tools/devcloud/pki.js';
import { crtSignPublish, rawHttps, type Credentials, type RawResponse } from '../tools/devcloud/client.js';
import type { ProvisionedDevice } from '../tools/devcloud/state-dir.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const WAIT_MS = 5_000;

let now = T0;
let cloud: DevCloud;
let stateDir: string;
let ca: string;
let device: ProvisionedDevice;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-provider-'));
  cloud = await startDevCloud({ stateDir, keyType: 'ec', timeSource: () => now, credentialLifetimeSeconds: 1800 });
  ca = readFileSync(cloud.endpoints().caFile, 'utf8');
  device = await cloud.provision('prov-thing');
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function ask(o: { cert?: string; key?: string; alias?: string; thingName?: string } = {}): Promise<RawResponse> {
  const e = cloud.endpoints();
  const headers: Array<[string, string]> = [['host', `127.0.0.1:${e.credentialsPort}`]];
  if (o.thingName !== undefined) headers.push(['x-amzn-iot-thingname', o.thingName]);
  return rawHttps({
    host: '127.0.0.1',
    port: e.credentialsPort,
    method: 'GET',
    path: `/role-aliases/${o.alias ?? e.roleAlias}/credentials`,
    headers,
    ca,
    cert: 'cert' in o ? o.cert : device.certPem,
    key: 'key' in o ? o.key : device.keyPem,
  });
}

describe('credentials provider', () => {
  test('provisioning writes a client certificate (CN = thing) signed by the intermediate CA under the root, and a private key readable only by the owner', () => {
    const cert = new X509Certificate(device.certPem);
    const caCert = new X509Certificate(ca);
    const intermediate = new X509Certificate(readFileSync(join(stateDir, 'intermediate.pem'), 'utf8'));
    assert.equal(cert.subject, 'CN=prov-thing');
    assert.ok(cert.verify(intermediate.publicKey), 'signed by the intermediate CA');
    assert.ok(cert.checkIssued(intermediate));
    assert.ok(intermediate.verify(caCert.publicKey), 'intermediate signed by the root');
    assert.ok(intermediate.ca);
    // Backdated a week so devices whose clock is somewhat behind still accept them.
    const weekAgo = Date.now() - 7 * 86_400_000;
    for (const c of [cert, caCert]) assert.ok(Math.abs(Date.parse(c.validFrom) - weekAgo) < 3_600_000, `validFrom ${c.validFrom}`);
    assert.ok(Date.parse(cert.validTo) > Date.now() + 800 * 86_400_000, `validTo ${cert.validTo}`);
    assert.equal(caCert.ca, true);
    assert.equal(statSync(device.keyFile).mode & 0o777, 0o600);
    const prov = JSON.parse(readFileSync(device.provisioningFile, 'utf8')) as Record<string, unknown>;
    assert.equal(prov.thingName, 'prov-thing');
    assert.equal(prov.roleAlias, 'devcloud-role-alias');
    assert.equal(prov.region, 'us-east-1');
    assert.equal(prov.caCertificate, ca);
    assert.equal(prov.credentialsPort, cloud.endpoints().credentialsPort);
  });

  test('the server certificate covers 127.0.0.1 and localhost', () => {
    const server = new X509Certificate(readFileSync(join(stateDir, 'server.pem')));
    assert.ok(server.checkIP('127.0.0.1'));
    assert.equal(server.checkHost('localhost'), 'localhost');
  });

  test('a device certificate gets AWS-shaped credentials with a Date header and the configured lifetime', async () => {
    const res = await ask({ thingName: 'prov-thing' });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers.date, 'Sun, 22 Nov 2026 12:00:00 GMT');
    const body = res.json() as { credentials: Credentials };
    assert.deepEqual(Object.keys(body), ['credentials']);
    assert.deepEqual(Object.keys(body.credentials).sort(), ['accessKeyId', 'expiration', 'secretAccessKey', 'sessionToken']);
    assert.match(body.credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(body.credentials.expiration, '2026-11-22T12:30:00Z', '1800 s after 12:00:00Z');
    assert.equal(body.credentials.sessionToken.length, 1024, 'a session token as long as AWS ones (768 random bytes, base64)');
    assert.notEqual(body.credentials.secretAccessKey, body.credentials.sessionToken);
  });

  test('the thing-name header must match the certificate', async () => {
    const res = await ask({ thingName: 'someone-else' });
    assert.equal(res.status, 403);
    assert.equal((res.json() as { message: string }).message, 'Invalid thing name passed');
    assert.ok(res.headers.date);
  });

  test('an unknown role alias is 404', async () => {
    const res = await ask({ alias: 'no-such-alias' });
    assert.equal(res.status, 404);
    assert.equal((res.json() as { message: string }).message, 'Role alias does not exist');
  });

  test('no client certificate, or one from another CA, never gets past the TLS handshake', async () => {
    const before = cloud.counters().rejected['client-cert'] ?? 0;
    await assert.rejects(ask({ cert: undefined, key: undefined }));
    const otherCa = await createCa('ec', 'someone else CA');
    const stranger = await createLeaf(otherCa, 'ec', 'prov-thing', 'client', []);
    await assert.rejects(ask({ cert: stranger.certPem, key: stranger.keyPem }));
    for (let waited = 0; (cloud.counters().rejected['client-cert'] ?? 0) < before + 2 && waited < WAIT_MS; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.equal(cloud.counters().rejected['client-cert'], before + 2);
  });

  test('lifetime changes apply to credentials issued afterwards', async () => {
    cloud.setCredentialLifetime(60);
    try {
      const body = (await ask()).json() as { credentials: Credentials };
      assert.equal(body.credentials.expiration, '2026-11-22T12:01:00Z');
    } finally {
      cloud.setCredentialLifetime(1800);
    }
    assert.throws(() => cloud.setCredentialLifetime(0), RangeError);
    assert.throws(() => cloud.setCredentialLifetime(43201), RangeError);
  });

  test('restart keeps ports, CA and issued credentials', async () => {
    const creds = ((await ask()).json() as { credentials: Credentials }).credentials;
    const before = cloud.endpoints();
    await cloud.restart();
    const afterRestart = cloud.endpoints();
    assert.equal(afterRestart.gatewayPort, before.gatewayPort);
    assert.equal(afterRestart.credentialsPort, before.credentialsPort);
    assert.equal(afterRestart.brokerPort, before.brokerPort);
    assert.equal(readFileSync(afterRestart.caFile, 'utf8'), ca);
    const body = Buffer.from('{"seq":1}');
    const s = await crtSignPublish({ credentials: creds, region: 'us-east-1', hostHeader: `127.0.0.1:${afterRestart.gatewayPort}`, topic: 'dt/restart', body, date: new Date(now) });
    const res = await rawHttps({ host: '127.0.0.1', port: afterRestart.gatewayPort, method: 'POST', path: s.path, headers: s.headers, body, ca });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal((await ask()).status, 200, 'provider answers after restart');
  });

  test('a second start on the same state directory reuses the CA', async () => {
    const again = await startDevCloud({ stateDir, keyType: 'ec', timeSource: () => now });
    try {
      assert.equal(readFileSync(again.endpoints().caFile, 'utf8'), ca);
    } finally {
      await again.stop();
    }
  });
});
