// The dev cloud's TUF repository over its TLS gateway: its own repository
// (root 2 of 3), files served as on disk, HTTP Range (206, 416), 404 and path
// traversal, the admin calls (add a target, publish, switch the served dir),
// and each TUF fault observed on the wire AND through our TUF client
// (bin/tuf-client.js --engine node, trusting the dev cloud's CA through
// NODE_EXTRA_CA_CERTS): it refreshes and downloads with no fault, and fails on
// a tampered target, a replayed timestamp, a withheld snapshot, endless data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { rawHttps, type RawResponse, adminCall } from '../tools/devcloud/client.js';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { repoRoot } from './harness/python-tuf.js';

/** Each CLI run's limit: a hung client fails the test instead of wedging it. */
const CLI_TIMEOUT_MS = 60_000;
/** How many bytes an endless answer must have streamed (times the file) before we call it endless. */
const ENDLESS_FACTOR = 8;

const tufClient = join(repoRoot(), 'bin', 'tuf-client.js');

let cloud: DevCloud;
let stateDir: string;
let ca: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-tuf-'));
  cloud = await startDevCloud({ stateDir, keyType: 'ec', adminPort: 0 });
  ca = readFileSync(cloud.endpoints().caFile, 'utf8');
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function get(path: string, headers: Array<[string, string]> = [], method = 'GET'): Promise<RawResponse> {
  const e = cloud.endpoints();
  return rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method, path, headers: [['host', `127.0.0.1:${e.gatewayPort}`], ...headers], ca });
}

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return adminCall(cloud.endpoints().adminPort!, method, path, body);
}

/** Adds a target through the admin API; returns the wire path of its consistent-snapshot file. */
async function addTarget(name: string, content: Buffer, custom: Record<string, unknown>): Promise<{ wirePath: string; versions: any }> {
  const r = await admin('POST', '/tuf/targets', { name, content: content.toString('base64'), custom });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.sha256, sha256(content));
  const slash = name.lastIndexOf('/');
  return { wirePath: `/tuf/targets/${name.slice(0, slash)}/${r.json.sha256}.${name.slice(slash + 1)}`, versions: r.json.versions };
}

interface Run {
  code: number | null;
  stderr: string;
}

function runClient(args: string[]): Promise<Run> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [tufClient, '--engine', 'node', ...args],
      { timeout: CLI_TIMEOUT_MS, encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: cloud.endpoints().caFile } },
      (error, _stdout, stderr) => ok({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

/** A TUF client with its own metadata dir, trusting the served repository's first root. */
async function newClient(name: string): Promise<{ refresh(): Promise<Run>; download(target: string, outDir: string): Promise<Run> }> {
  const e = cloud.endpoints();
  const metadataDir = join(stateDir, 'clients', name);
  const init = await runClient(['--metadata-dir', metadataDir, 'init', e.tufRootFile]);
  assert.equal(init.code, 0, init.stderr);
  const metadataUrl = e.tufMetadataUrl.replace(/\/$/, '');
  return {
    refresh: () => runClient(['--metadata-dir', metadataDir, '--metadata-url', metadataUrl, 'refresh']),
    download: (target, outDir) =>
      runClient(['--metadata-dir', metadataDir, '--metadata-url', metadataUrl, '--target-name', target, '--target-base-url', e.tufTargetsUrl, '--target-dir', outDir, 'download']),
  };
}

/** Reads up to `limit` bytes of a streamed answer, then closes; reports whether the answer had ended by itself. */
function readSome(path: string, limit: number, maxMs: number): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; ended: boolean; ms: number }> {
  const e = cloud.endpoints();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: e.gatewayPort, method: 'GET', path, ca, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = (ended: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ended, ms: Date.now() - started });
        req.destroy();
      };
      const timer = setTimeout(() => finish(false), maxMs);
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= limit) finish(false);
      });
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
    });
    req.end();
  });
}

const FW = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) & 0xff));
const FW_NAME = 'firmware/prod/vdevice/agent-1.2.0.js';
const FW_CUSTOM = { kind: 'firmware', channel: 'prod', hardwareModel: 'vdevice', securityVersion: 3, provenance: { sourceRevision: 'abc123', builder: 'ci' } };
let fwPath: string;

describe('TUF repository over the gateway', () => {
  test("own repository: created in the state dir, root 2 of 3, served byte for byte; the first root is the device's", async () => {
    const e = cloud.endpoints();
    assert.equal(e.tufRepoDir, join(stateDir, 'tuf', 'repo'));
    assert.equal(e.tufRootFile, join(stateDir, 'tuf', 'repo', 'metadata', '1.root.json'));
    const root = JSON.parse(readFileSync(e.tufRootFile, 'utf8')).signed;
    assert.equal(root.roles.root.threshold, 2);
    assert.equal(root.roles.root.keyids.length, 3);
    for (const file of ['timestamp.json', '1.root.json', 'root.json', '1.snapshot.json']) {
      const res = await get(`/tuf/metadata/${file}`);
      assert.equal(res.status, 200, file);
      assert.deepEqual(res.body, readFileSync(join(e.tufRepoDir, 'metadata', file)), file);
      assert.equal(res.headers['content-length'], String(res.body.length));
      assert.equal(res.headers['accept-ranges'], 'bytes');
    }
    // No private key is reachable: keys live beside the repository, not in it.
    assert.equal((await get('/tuf/metadata/../../keys')).status, 404);
  });

  test('admin POST /tuf/targets adds a target with custom fields and publishes; the signed targets metadata lists it', async () => {
    const added = await addTarget(FW_NAME, FW, FW_CUSTOM);
    fwPath = added.wirePath;
    assert.deepEqual(added.versions, { targets: 2, snapshot: 2, timestamp: 2 });
    const targets = JSON.parse((await get('/tuf/metadata/2.targets.json')).body.toString('utf8')).signed.targets;
    assert.deepEqual(targets[FW_NAME], { length: FW.length, hashes: { sha256: sha256(FW) }, custom: FW_CUSTOM });
    const whole = await get(fwPath);
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, FW);
    assert.equal(whole.headers['content-type'], 'application/octet-stream');
  });

  test('Range: a-b, a-, -n and a past-the-end last byte give 206 + Content-Range; HEAD has no body', async () => {
    const n = FW.length;
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-1123', 100, 1123],
      ['bytes=2990-', 2990, n - 1],
      ['bytes=-16', n - 16, n - 1],
      ['bytes=4-999999', 4, n - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(fwPath, [['range', range]]);
      assert.equal(res.status, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${n}`, range);
      assert.equal(res.headers['content-length'], String(end - start + 1), range);
      assert.deepEqual(res.body, FW.subarray(start, end + 1), range);
    }
    const head = await get(fwPath, [], 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(n));
    assert.equal(head.body.length, 0);
  });

  test('Range: unsatisfiable or malformed byte ranges are 416 with Content-Range bytes */size', async () => {
    for (const range of [`bytes=${FW.length}-`, `bytes=${FW.length + 10}-${FW.length + 20}`, 'bytes=10-5', 'bytes=-0', 'bytes=-', 'bytes=x-y']) {
      const res = await get(fwPath, [['range', range]]);
      assert.equal(res.status, 416, range);
      assert.equal(res.headers['content-range'], `bytes */${FW.length}`, range);
    }
  });

  test('404 for missing files; traversal, writer state, staging and symlinks out of the repository are refused', async () => {
    const e = cloud.endpoints();
    const staged = `/tuf/staging/${sha256(FW)}`;
    // A symlink inside targets/ pointing at a key file outside the repository.
    const keyFile = join(stateDir, 'tuf', 'keys', readFileSync(e.tufRootFile, 'utf8').match(/"keyid": "([0-9a-f]{64})"/)![1] + '.json');
    mkdirSync(join(e.tufRepoDir, 'targets', 'evil'), { recursive: true });
    symlinkSync(keyFile, join(e.tufRepoDir, 'targets', 'evil', 'key.json'));
    for (const path of [
      '/tuf/metadata/99.root.json',
      '/tuf/targets/firmware/prod/vdevice/agent-1.2.0.js',
      '/tuf/metadata/../tuf-repo.json',
      '/tuf/metadata/%2e%2e/tuf-repo.json',
      '/tuf/targets/..%2f..%2fkeys',
      '/tuf/targets/firmware/../../metadata/timestamp.json',
      '/tuf/tuf-repo.json',
      staged,
      '/tuf/metadata/',
      '/tuf/metadata//timestamp.json',
      '/tuf/targets/firmware',
      '/tuf/targets/evil/key.json',
      '/tuf/metadata/%zz',
    ]) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body.toString('utf8'), /private|keyval/, path);
    }
    assert.equal((await get('/tuf/metadata/timestamp.json', [], 'POST')).status, 405);
  });

  test('our TUF client refreshes and downloads the target over the gateway when there is no fault', async () => {
    const c = await newClient('clean');
    const r = await c.refresh();
    assert.equal(r.code, 0, r.stderr);
    const out = join(stateDir, 'out-clean');
    const d = await c.download(FW_NAME, out);
    assert.equal(d.code, 0, d.stderr);
  });

  test('tampered target: one byte flipped on the wire, same length; the client refuses the download', async () => {
    cloud.setTufFault({ kind: 'tamper-target', match: 'targets/firmware/' });
    try {
      const res = await get(fwPath);
      assert.equal(res.status, 200);
      assert.equal(res.body.length, FW.length);
      const differing = [...res.body].flatMap((b, i) => (b !== FW[i] ? [i] : []));
      assert.equal(differing.length, 1);
      const part = await get(fwPath, [['range', `bytes=${differing[0]}-${differing[0]}`]]);
      assert.notEqual(part.body[0], FW[differing[0]!], 'the flipped byte is flipped in a Range answer too');
      const c = await newClient('tampered');
      const d = await c.download(FW_NAME, join(stateDir, 'out-tampered'));
      assert.equal(d.code, 1, d.stderr);
      assert.match(d.stderr, /bad-hash/);
    } finally {
      cloud.clearTufFaults();
    }
    assert.deepEqual((await get(fwPath)).body, FW);
  });

  test('replayed timestamp (admin capture, later replay): the old bytes on the wire; a client that saw the newer one refuses', async () => {
    const captured = await admin('POST', '/faults/tuf/capture-timestamp');
    assert.equal(captured.status, 200);
    const oldBytes = (await get('/tuf/metadata/timestamp.json')).body;
    const published = await admin('POST', '/tuf/publish', {});
    assert.equal(published.json.versions.timestamp, captured.json.version + 1);
    const c = await newClient('replayed');
    assert.equal((await c.refresh()).code, 0);
    assert.equal((await admin('POST', '/faults/tuf/replay-timestamp')).status, 200);
    try {
      const res = await get('/tuf/metadata/timestamp.json');
      assert.deepEqual(res.body, oldBytes);
      assert.equal(JSON.parse(res.body.toString('utf8')).signed.version, captured.json.version);
      const r = await c.refresh();
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /rollback: timestamp version \d+ is below trusted \d+/);
    } finally {
      assert.equal((await admin('POST', '/faults/tuf/clear')).status, 200);
    }
    assert.equal((await c.refresh()).code, 0);
  });

  test('withheld snapshot: 404 for snapshot.json and N.snapshot.json only; a fresh client cannot refresh', async () => {
    assert.equal((await admin('POST', '/faults/tuf/withhold-snapshot')).status, 200);
    try {
      assert.equal((await get('/tuf/metadata/1.snapshot.json')).status, 404);
      assert.equal((await get('/tuf/metadata/snapshot.json')).status, 404);
      assert.equal((await get('/tuf/metadata/timestamp.json')).status, 200);
      assert.equal((await get('/tuf/metadata/1.targets.json')).status, 200);
      const c = await newClient('withheld');
      const r = await c.refresh();
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /snapshot not found/);
    } finally {
      cloud.clearFaults();
    }
    assert.equal((await get('/tuf/metadata/1.snapshot.json')).status, 200);
  });

  test('endless data: the file, then more, no Content-Length, never ending; the client gives up on the target', async () => {
    assert.equal((await admin('POST', '/faults/tuf/endless', { match: 'targets/' })).status, 200);
    try {
      const r = await readSome(fwPath, ENDLESS_FACTOR * FW.length, 10_000);
      assert.equal(r.status, 200);
      assert.equal(r.ended, false);
      assert.equal(r.headers['content-length'], undefined);
      assert.ok(r.body.length >= ENDLESS_FACTOR * FW.length, `${r.body.length} bytes`);
      assert.deepEqual(r.body.subarray(0, FW.length), FW);
      const c = await newClient('endless');
      const d = await c.download(FW_NAME, join(stateDir, 'out-endless'));
      assert.equal(d.code, 1, d.stderr);
      assert.match(d.stderr, new RegExp(`over ${FW.length} bytes`));
    } finally {
      cloud.clearTufFaults();
    }
  });

  test('slow data: a trickle at bytesPerSecond, the whole file in the end', async () => {
    const bytesPerSecond = 2000;
    assert.equal((await admin('POST', '/faults/tuf/slow', { bytesPerSecond, match: 'targets/' })).status, 200);
    try {
      const early = await readSome(fwPath, FW.length, 500);
      assert.ok(early.body.length < FW.length, `only part of the file after 500 ms (got ${early.body.length})`);
      const r = await readSome(fwPath, FW.length + 1, 10_000);
      assert.equal(r.ended, true);
      assert.deepEqual(r.body, FW);
      assert.ok(r.ms >= (FW.length / bytesPerSecond) * 1000 * 0.8, `took ${r.ms} ms`);
    } finally {
      cloud.clearTufFaults();
    }
    assert.equal((await admin('POST', '/faults/tuf/slow', { bytesPerSecond: 0 })).status, 400);
  });

  test('injected 503 on target tuf; admin refusals; POST /tuf/serve switches the served directory', async () => {
    cloud.failNext(503, 1, 'tuf');
    assert.equal((await get('/tuf/metadata/timestamp.json')).status, 503);
    assert.equal((await get('/tuf/metadata/timestamp.json')).status, 200);

    const other = join(stateDir, 'release-repo');
    TufRepo.init(other, { keysDir: join(stateDir, 'release-keys') });
    assert.equal((await admin('POST', '/tuf/serve', { dir: join(stateDir, 'nothing-here') })).status, 400);
    const switched = await admin('POST', '/tuf/serve', { dir: other });
    assert.equal(switched.status, 200);
    assert.equal(switched.json.rootFile, join(other, 'metadata', '1.root.json'));
    assert.deepEqual((await get('/tuf/metadata/timestamp.json')).body, readFileSync(join(other, 'metadata', 'timestamp.json')));
    assert.equal(cloud.endpoints().tufRootFile, join(other, 'metadata', '1.root.json'));
    // Served without keys: the dev cloud cannot sign there.
    const refused = await admin('POST', '/tuf/targets', { name: 'config/prod/vdevice/agent.json', content: 'e30=' });
    assert.equal(refused.status, 400);
    const status = await admin('GET', '/tuf/status');
    assert.equal(status.json.dir, other);
    assert.equal(status.json.keysDir, null);
    const log = await admin('GET', '/tuf/requests?since=0');
    assert.ok(log.json.requests.some((r: { path: string; fault: string }) => r.path === 'metadata/timestamp.json' && r.fault === 'replay-timestamp'));
  });
});
