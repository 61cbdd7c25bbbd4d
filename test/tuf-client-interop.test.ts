// Issue 12 acceptance: metadata written by python-tuf (makePythonTufRepo: a
// root rotation, all four key types, a delegated role) and by @tufjs/models
// (tools/tuf-repo) verifies with OUR client, driven through its CLI
// (bin/tuf-client.js --engine node, the tuf-conformance protocol) against the
// repository served over HTTP on 127.0.0.1. Downloaded bytes are checked
// against the generators' own hashes; the client must refuse a tampered
// target, metadata signed by a key that is not the role's, and an expired
// timestamp. Skips with the reason when the `.venv-tuf/` venv is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import { fileSigner, generateKey } from '../tools/tuf-repo/keys.js';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { makePythonTufRepo, pythonTufMissing, repoRoot } from './harness/python-tuf.js';

const skip = pythonTufMissing();

/** Each CLI run's limit: a hung client fails the test instead of wedging it. */
const CLI_TIMEOUT_MS = 60_000;
/** The test server drops a request (and its socket) that takes longer than this. */
const SERVER_REQUEST_TIMEOUT_MS = 10_000;
/** The test server refuses to serve a file larger than this. */
const SERVER_MAX_FILE_BYTES = 16 * 1024 * 1024;

const tufClient = join(repoRoot(), 'bin', 'tuf-client.js');
const tufRepoCli = join(repoRoot(), 'bin', 'tuf-repo.js');

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tuf-client-interop-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

interface Served {
  /** Base URL of `dir` (no trailing slash). */
  url: string;
  /** Paths requested, in order. */
  requests: string[];
}

/** Serves the files under `dir` read-only on 127.0.0.1 until the test ends. */
async function serve(t: { after: (fn: () => Promise<void> | void) => void }, dir: string): Promise<Served> {
  const root = resolve(dir);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = resolve(root, '.' + path);
    if (req.method !== 'GET' || !file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile() || statSync(file).size > SERVER_MAX_FILE_BYTES) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  server.requestTimeout = SERVER_REQUEST_TIMEOUT_MS;
  server.headersTimeout = SERVER_REQUEST_TIMEOUT_MS;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(
    () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

interface Run {
  code: number | null;
  stderr: string;
}

/** Async (never spawnSync): the server answering the client runs in this process. */
function runNode(script: string, args: string[]): Promise<Run> {
  return new Promise((ok) => {
    execFile(process.execPath, [script, ...args], { timeout: CLI_TIMEOUT_MS, encoding: 'utf8' }, (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      ok({ code, stderr });
    });
  });
}

/** One client: its own metadata dir, started from `trustedRoot`. */
class Client {
  readonly metadataDir: string;
  constructor(
    private readonly d: string,
    private readonly name: string,
    private readonly server: Served,
  ) {
    this.metadataDir = join(d, name, 'metadata');
  }

  async init(trustedRoot: string): Promise<void> {
    const r = await runNode(tufClient, ['--engine', 'node', '--metadata-dir', this.metadataDir, 'init', trustedRoot]);
    assert.equal(r.code, 0, r.stderr);
  }

  refresh(): Promise<Run> {
    return runNode(tufClient, ['--engine', 'node', '--metadata-dir', this.metadataDir, '--metadata-url', `${this.server.url}/metadata`, 'refresh']);
  }

  /** Downloads `names` into a fresh target dir; returns the run and the files it holds afterwards. */
  async download(names: string[]): Promise<Run & { files: Map<string, Buffer> }> {
    const targetDir = mkdtempSync(join(this.d, `${this.name}-targets-`));
    const args = ['--engine', 'node', '--metadata-dir', this.metadataDir, '--metadata-url', `${this.server.url}/metadata`];
    for (const n of names) args.push('--target-name', n);
    args.push('--target-base-url', `${this.server.url}/targets`, '--target-dir', targetDir, 'download');
    const r = await runNode(tufClient, args);
    const files = new Map<string, Buffer>();
    for (const f of readdirSync(targetDir)) files.set(f, readFileSync(join(targetDir, f)));
    return { ...r, files };
  }

  trustedVersion(role: string): number {
    return (JSON.parse(readFileSync(join(this.metadataDir, `${role}.json`), 'utf8')) as { signed: { version: number } }).signed.version;
  }
}

/** A successful download of one target leaves exactly one file, with the generator's hash and length. */
async function assertDownloads(c: Client, target: { name: string; sha256: string; length: number }): Promise<void> {
  const r = await c.download([target.name]);
  assert.equal(r.code, 0, `${target.name}: ${r.stderr}`);
  const files = [...r.files.values()];
  assert.equal(files.length, 1, `${target.name}: ${[...r.files.keys()].join(', ')}`);
  assert.equal(files[0]!.length, target.length, target.name);
  assert.equal(sha256(files[0]!), target.sha256, target.name);
}

async function assertRefused(r: Promise<Run & { files?: Map<string, Buffer> }> | Run, what: string, reason: RegExp): Promise<void> {
  const run = await r;
  assert.equal(run.code, 1, `${what}: expected a refusal (exit 1), got ${run.code}: ${run.stderr}`);
  assert.match(run.stderr, reason, what);
  if ('files' in run && run.files) assert.equal(run.files.size, 0, `${what}: a refused target must not be stored`);
}

/** Replaces the signatures of a targets metadata file with one by a freshly generated key that no role lists. */
function resignWithForeignKey(file: string, keysDir: string): void {
  const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(readFileSync(file, 'utf8')));
  md.signatures = {};
  const { keyid } = generateKey(keysDir, 'ed25519');
  md.sign(fileSigner(keysDir, keyid));
  writeFileSync(file, JSON.stringify(md.toJSON(), null, 1));
}

test('our client verifies python-tuf\'s reference repository over HTTP: root rotation, four key types, a delegated target', { skip }, async (t) => {
  const d = tmp(t);
  const ref = await makePythonTufRepo(join(d, 'ref'));
  assert.ok(ref.targets.some((x) => x.role !== 'targets'), 'the reference repository has a delegated target');
  const server = await serve(t, ref.dir);

  const c = new Client(d, 'c', server);
  await c.init(ref.trustedRoot);
  const refreshed = await c.refresh();
  assert.equal(refreshed.code, 0, refreshed.stderr);
  for (const role of ['root', 'timestamp', 'snapshot', 'targets'] as const) assert.equal(c.trustedVersion(role), ref.versions[role], role);

  for (const target of ref.targets) await assertDownloads(c, target);
  assert.ok(server.requests.some((p) => /\/metadata\/\d+\.fleet-a\.json$/.test(p)), `delegated role fetched: ${server.requests.join(' ')}`);

  // All targets in one run, in argument order, by a client that starts from version 1 of root.
  const fresh = new Client(d, 'fresh', server);
  await fresh.init(ref.trustedRoot);
  const all = await fresh.download(ref.targets.map((x) => x.name));
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual([...all.files.values()].map((b) => sha256(b)).sort(), ref.targets.map((x) => x.sha256).sort());
});

test('our client refuses a tampered target of python-tuf\'s repository, and a delegated role re-signed by a key it does not list', { skip }, async (t) => {
  const d = tmp(t);
  const ref = await makePythonTufRepo(join(d, 'ref'));
  const server = await serve(t, ref.dir);
  const top = ref.targets.find((x) => x.role === 'targets')!;
  const delegated = ref.targets.find((x) => x.role !== 'targets')!;

  // Tampered bytes of the top-level target (same length): refused at download, nothing stored.
  const head = top.name.slice(0, top.name.lastIndexOf('/') + 1);
  const base = top.name.slice(head.length);
  const stored = join(ref.targetsDir, head, `${top.sha256}.${base}`);
  const original = readFileSync(stored);
  const tampered = Buffer.from(original);
  tampered[0] ^= 0x01;
  writeFileSync(stored, tampered);
  const a = new Client(d, 'a', server);
  await a.init(ref.trustedRoot);
  await assertRefused(a.download([top.name]), 'tampered target', /\bbad-hash: /);
  writeFileSync(stored, original);
  await assertDownloads(a, top);

  // The delegated role's metadata re-signed by a stranger: its target is refused; the top-level one is not.
  resignWithForeignKey(join(ref.metadataDir, `${ref.versions[delegated.role]}.${delegated.role}.json`), join(d, 'foreign-keys'));
  const b = new Client(d, 'b', server);
  await b.init(ref.trustedRoot);
  await assertRefused(b.download([delegated.name]), 'delegated role signed by a foreign key', /\bunsigned: /);
  await assertDownloads(b, top);
});

test('our client verifies a repository written with @tufjs/models (tools/tuf-repo) and refuses tampering, a foreign key and an expired timestamp', { skip }, async (t) => {
  const d = tmp(t);
  const dir = join(d, 'repo');
  const keys = join(d, 'keys');
  const repo = TufRepo.init(dir, {
    keysDir: keys,
    roles: {
      root: { keys: 2, threshold: 2, keyType: 'ecdsa-sha2-nistp256' },
      targets: { keyType: 'rsa-pkcs1v15-sha256' },
      snapshot: { keyType: 'rsassa-pss-sha256' },
      timestamp: { keyType: 'ed25519' },
    },
  });
  const fw = Buffer.from('firmware 2.0.0\n'.repeat(200));
  const cfg = Buffer.from(JSON.stringify({ sampleIntervalMs: 30000 }));
  const reported = [
    { name: 'fw/app-2.0.0.bin', ...repo.addTarget('fw/app-2.0.0.bin', fw, { kind: 'firmware', securityVersion: 4 }) },
    { name: 'config/fleet-b/settings.json', ...repo.addTarget('config/fleet-b/settings.json', cfg, { kind: 'config' }) },
  ];
  // The writer's report agrees with the bytes we gave it (computed here, not taken from the writer).
  assert.deepEqual(reported.map((x) => [x.sha256, x.length]), [[sha256(fw), fw.length], [sha256(cfg), cfg.length]]);
  repo.publish();
  const root = repo.root();
  const trustedRoot = join(dir, 'metadata', '1.root.json');
  const server = await serve(t, dir);

  const c = new Client(d, 'c', server);
  await c.init(trustedRoot);
  for (const target of reported) await assertDownloads(c, target);

  // Tampered target bytes.
  const fwFile = join(dir, 'targets', 'fw', `${sha256(fw)}.app-2.0.0.bin`);
  const tampered = Buffer.from(fw);
  tampered[fw.length - 2] ^= 0x20;
  writeFileSync(fwFile, tampered);
  const x = new Client(d, 'x', server);
  await x.init(trustedRoot);
  await assertRefused(x.download(['fw/app-2.0.0.bin']), 'tampered target', /\bbad-hash: /);
  writeFileSync(fwFile, fw);

  // A new targets version signed by the snapshot key, which root does not list for targets.
  const snapshotKey = root.signed.roles.snapshot!.keyIDs[0]!;
  assert.ok(!root.signed.roles.targets!.keyIDs.includes(snapshotKey));
  const evil = join(d, 'evil.bin');
  writeFileSync(evil, 'evil');
  const cli = async (...args: string[]) => {
    const r = await runNode(tufRepoCli, [...args, '--repo', dir, '--keys', keys]);
    assert.equal(r.code, 0, `tuf-repo ${args.join(' ')}: ${r.stderr}`);
  };
  await cli('add-target', evil, '--name', 'fw/evil.bin');
  await cli('publish', '--sign-with', `targets=${snapshotKey}`);
  await assertRefused(c.refresh(), 'targets signed by a key not in the role (updating client)', /\bunsigned: /);
  const f = new Client(d, 'f', server);
  await f.init(trustedRoot);
  await assertRefused(f.download(['fw/evil.bin']), 'targets signed by a key not in the role (new client)', /\bunsigned: /);
  // Control: the same content signed by the targets key is accepted, so the refusal was the signature.
  await cli('publish', '--bump', 'targets');
  await assertDownloads(c, { name: 'fw/evil.bin', sha256: sha256(Buffer.from('evil')), length: 4 });

  // The writer's own expired timestamp: refused by the updating client and by a new one.
  await cli('set-expires', 'timestamp=-1h');
  await cli('publish');
  await assertRefused(c.refresh(), 'expired timestamp (updating client)', /\bexpired: /);
  const e = new Client(d, 'e', server);
  await e.init(trustedRoot);
  await assertRefused(e.refresh(), 'expired timestamp (new client)', /\bexpired: /);
  // Control: a fresh timestamp from the same writer is accepted again.
  await cli('set-expires', 'timestamp=1d');
  await cli('publish');
  const again = await c.refresh();
  assert.equal(again.code, 0, again.stderr);
});
