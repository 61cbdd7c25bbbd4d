// The `devcloud` CLI as a user runs it (bin/devcloud.js, a real child
// process): provisioning, a standalone start with Debian's mosquitto as the
// broker, HTTPS publish and MQTT over WebSocket through it, the admin API, and
// a clean stop on SIGTERM.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { findMosquitto } from '../tools/devcloud/mosquitto-broker.js';
import { crtPresignMqtt, crtSignPublish, fetchCredentials, rawHttps } from '../tools/devcloud/client.js';

const BIN = resolve('bin/devcloud.js');
/** Bounds on the child process: start (CA + server certificate + mosquitto) and stop. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const WAIT_MS = 5_000;

const stateDir = mkdtempSync(join(tmpdir(), 'devcloud-cli-'));
let child: ChildProcess | null = null;

after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: START_TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function firstLine(p: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no endpoints line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devcloud exited early with ${code}`));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('devcloud CLI', () => {
  test('provision writes a device certificate and a provisioning JSON for a board on the LAN', () => {
    const r = run(['provision', '--thing', 'cli-thing', '--state-dir', stateDir, '--key-type', 'ec', '--endpoint', '192.168.1.50']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { provisioningFile: string; certFile: string };
    const prov = JSON.parse(readFileSync(out.provisioningFile, 'utf8')) as Record<string, unknown>;
    assert.equal(prov.endpoint, '192.168.1.50');
    assert.equal(prov.gatewayPort, 8443);
    assert.equal(prov.credentialsPort, 8444);
    assert.equal(prov.publishService, 'iotdata');
    assert.equal(new X509Certificate(readFileSync(out.certFile)).subject, 'CN=cli-thing');
    assert.ok(!JSON.stringify(prov).includes('PRIVATE KEY'), 'the provisioning JSON names the key file, it does not embed the key');
  });

  test('bad arguments exit 2 with a message', () => {
    for (const args of [['provision', '--state-dir', stateDir], ['provision', '--thing', 'bad/name', '--state-dir', stateDir], ['--broker', 'nope'], ['--no-such-flag']]) {
      const r = run(args);
      assert.equal(r.status, 2, `devcloud ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
  });

  test('standalone with mosquitto: HTTPS publish and MQTT over WebSocket reach subscribers; SIGTERM stops everything', async () => {
    assert.ok(findMosquitto() !== null, 'this test needs the Debian package mosquitto (.ci/run must install it)');
    child = spawn(
      process.execPath,
      [BIN, '--state-dir', stateDir, '--key-type', 'ec', '--broker', 'mosquitto', '--hostname', 'devcloud.local', '--gateway-port', '0', '--credentials-port', '0', '--broker-port', '0', '--admin-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const e = JSON.parse(await firstLine(child)) as { gatewayPort: number; credentialsPort: number; brokerPort: number; adminPort: number; brokerUrl: string; caFile: string; roleAlias: string };
    const ca = readFileSync(e.caFile, 'utf8');
    assert.equal(new X509Certificate(readFileSync(join(stateDir, 'server.pem'))).checkHost('devcloud.local'), 'devcloud.local');

    const cert = readFileSync(join(stateDir, 'devices', 'cli-thing.pem'), 'utf8');
    const key = readFileSync(join(stateDir, 'devices', 'cli-thing.key'), 'utf8');
    const creds = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert, key, thingName: 'cli-thing' });

    const sub = mqtt.connect(e.brokerUrl, { reconnectPeriod: 0, clientId: 'cli-sub' });
    const seen: string[] = [];
    sub.on('message', (_t, p) => seen.push(p.toString('utf8')));
    await new Promise<void>((res, rej) => {
      sub.once('connect', () => res());
      sub.once('error', rej);
    });
    await sub.subscribeAsync('dt/cli-thing/#', { qos: 1 });

    const body = Buffer.from('{"deviceId":"cli-thing","seq":1}');
    const s = await crtSignPublish({ credentials: creds, region: 'us-east-1', hostHeader: `127.0.0.1:${e.gatewayPort}`, topic: 'dt/cli-thing/a', body, date: new Date() });
    const res = await rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method: 'POST', path: s.path, headers: s.headers, body, ca });
    assert.equal(res.status, 200, res.body.toString());

    const url = `wss://127.0.0.1:${e.gatewayPort}${await crtPresignMqtt({ credentials: creds, region: 'us-east-1', hostHeader: `127.0.0.1:${e.gatewayPort}`, date: new Date() })}`;
    const dev = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, clientId: 'cli-thing', wsOptions: { ca }, connectTimeout: WAIT_MS });
    let pubacks = 0;
    dev.on('packetreceive', (p) => {
      if (p.cmd === 'puback') pubacks++;
    });
    await new Promise<void>((res, rej) => {
      dev.once('connect', () => res());
      dev.once('error', rej);
    });
    await dev.publishAsync('dt/cli-thing/b', '{"deviceId":"cli-thing","seq":2}', { qos: 1 });
    assert.equal(pubacks, 1, 'mosquitto acknowledged the QoS 1 publish through the WebSocket bridge');
    await dev.endAsync(true);

    for (let waited = 0; seen.length < 2 && waited < WAIT_MS; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen.sort(), ['{"deviceId":"cli-thing","seq":1}', '{"deviceId":"cli-thing","seq":2}']);
    await sub.endAsync(true);

    const counters = await new Promise<{ accepted: { https: number } }>((res, rej) => {
      httpGet({ host: '127.0.0.1', port: e.adminPort, path: '/counters', agent: false }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      }).on('error', rej);
    });
    assert.equal(counters.accepted.https, 1);

    const exited = new Promise<number | null>((res) => child!.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref())]);
    assert.equal(code, 0);
    assert.equal(await portOpen(e.brokerPort), false, 'mosquitto stopped with the dev cloud');
    assert.equal(await portOpen(e.gatewayPort), false);
  });
});
