// `npm start`'s command line as a user meets it (node dist/tools/start.js):
// --help, options refused before anything starts, file flags, and the
// status line's time bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const START = join(repo, 'dist', 'tools', 'start.js');

/** A run that is not refused must still end: --duration keeps it short. */
function start(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [START, ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The last non-empty stderr line: the CLI's own message (node may print warnings before it). */
const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';

test('--help lists the real flags, names no --liar, shows no source code, exits 0', () => {
  const r = start(['--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const flag of ['--duration', '--json', '--transport', '--time-servers', '--liars', '--min-sources', '--restart-cloud-at', '--thing', '--endpoint', '--credentials-endpoint', '--role-alias', '--ca', '--cert', '--key', '--time-server', '--sample-ms', '--keep-state']) {
    assert.match(r.stdout, new RegExp(`${flag}\\b`), flag);
  }
  assert.doesNotMatch(r.stdout, /--liar(?!s)/, 'there is no --liar flag');
  assert.doesNotMatch(r.stdout, /^import |^\/\/ /m, 'help text, not source lines');
  assert.match(r.stdout, /Ctrl-C/);
});

test('fewer local time servers than the min sources the device needs: refused, exit 2', () => {
  for (const args of [['--time-servers', '1'], ['--time-servers', '2', '--min-sources', '3']]) {
    const r = start([...args, '--duration', '2', '--json', '--thing', `start-cli-${process.pid}`]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(lastLine(r.stderr), /--time-servers .*min sources/, args.join(' '));
    assert.equal(r.stdout, '', 'no run, no summary');
  }
});

function withPemFiles(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'start-cli-'));
  try {
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const remote = (dir: string, overrides: Record<string, string> = {}): string[] => {
  const flags: Record<string, string> = {
    '--endpoint': '127.0.0.1:9',
    '--credentials-endpoint': '127.0.0.1:9',
    '--role-alias': 'alias',
    '--ca': join(dir, 'ca.pem'),
    '--cert': join(dir, 'cert.pem'),
    '--key': join(dir, 'key.pem'),
    ...overrides,
  };
  return Object.entries(flags).flatMap(([k, v]) => [k, v]);
};

test('real endpoints with fewer --time-server flags than min sources: refused, exit 2', () => {
  withPemFiles((dir) => {
    const one = start([...remote(dir), '--time-server', '127.0.0.1:9', '--duration', '2', '--json', '--thing', `start-cli-${process.pid}`]);
    assert.equal(one.status, 2, one.stdout);
    assert.match(lastLine(one.stderr), /1 --time-server .*2 .*min sources/);
    const two = start([...remote(dir), '--time-server', '127.0.0.1:9', '--time-server', '127.0.0.2:9', '--min-sources', '3', '--duration', '2', '--json']);
    assert.equal(two.status, 2, two.stdout);
    assert.match(lastLine(two.stderr), /2 --time-server .*3 .*min sources/);
  });
});

test('a missing or unreadable --ca / --cert / --key: the error names the flag and the path', () => {
  withPemFiles((dir) => {
    const servers = ['--time-server', '127.0.0.1:9', '--time-server', '127.0.0.2:9', '--duration', '2', '--json'];
    const missing = join(dir, 'no-such-ca.pem');
    const r = start([...remote(dir, { '--ca': missing }), ...servers]);
    assert.equal(r.status, 2, r.stdout);
    const line = lastLine(r.stderr);
    assert.ok(line.includes(`--ca ${missing}`), line);
    assert.match(line, /no such file/);
    // A directory where a key file should be: unreadable as a file.
    const dirKey = start([...remote(dir, { '--key': dir }), ...servers]);
    assert.equal(dirKey.status, 2, dirKey.stdout);
    assert.ok(lastLine(dirKey.stderr).includes(`--key ${dir}`), dirKey.stderr);
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, '');
    const emptyCert = start([...remote(dir, { '--cert': empty }), ...servers]);
    assert.equal(emptyCert.status, 2, emptyCert.stdout);
    assert.match(lastLine(emptyCert.stderr), new RegExp(`^--cert ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*empty`));
  });
});

test('status line: an untrusted clock (bound unknown: the firmware sends null) shows ±∞, a known bound its value', async () => {
  const { statusLine } = await import('../tools/start.js');
  const untrusted = statusLine({ generated: 3, health: { timeState: 'UNTRUSTED', timeBoundMs: null, queueDepth: 3 } });
  assert.match(untrusted, /^time UNTRUSTED ±∞ \|/);
  assert.match(statusLine({}), /±∞/, 'nothing reported yet');
  assert.match(statusLine({ health: { timeState: 'SYNCED', timeBoundMs: 9.4 } }), /^time SYNCED ±9ms \|/);
});

test('dev cloud state from an older dev cloud (a root CA, no intermediate): npm start rebuilds its own state, says so, and delivers', () => {
  // A working copy of an earlier checkout has such a .devcloud; npm start's state is regenerable.
  const cwd = mkdtempSync(join(tmpdir(), 'start-stale-'));
  try {
    symlinkSync(join(repo, 'build'), join(cwd, 'build'));
    const state = join(cwd, '.devcloud');
    mkdirSync(state);
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=old dev cloud CA', '-days', '30', '-keyout', join(state, 'ca.key'), '-out', join(state, 'ca.pem')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const run = spawnSync(process.execPath, [START, '--duration', '4', '--json', '--thing', `start-stale-${process.pid}`], { cwd, encoding: 'utf8', timeout: 90_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /older dev cloud .*recreating/);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!) as { acked: number };
    assert.ok(summary.acked > 0, run.stdout);
    assert.ok(existsSync(join(state, 'intermediate.pem')), 'the state now has an intermediate CA');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('npm start prints how to publish a config update: the admin API commands, as valid JSON bodies once the shell substituted the content', async () => {
  const { updateHowTo } = await import('../tools/start.js');
  const text = updateHowTo('http://127.0.0.1:4567', 'my-thing');
  const bodies = [...text.matchAll(/curl -s (\S+) -d '(.*)'$/gm)].map((m) => ({ url: m[1], body: m[2]!.replace(`'$(printf '{"sampleIntervalMs":5000}' | base64 -w0)'`, Buffer.from('{"sampleIntervalMs":5000}').toString('base64')) }));
  assert.deepEqual(bodies.map((b) => b.url), ['http://127.0.0.1:4567/tuf/targets', 'http://127.0.0.1:4567/jobs']);
  const target = JSON.parse(bodies[0]!.body) as { name: string; content: string; custom: Record<string, unknown> };
  assert.equal(target.name, 'config/prod/vdevice/agent.json');
  assert.deepEqual(JSON.parse(Buffer.from(target.content, 'base64').toString('utf8')), { sampleIntervalMs: 5000 });
  assert.deepEqual(target.custom, { kind: 'config', channel: 'prod', hardwareModel: 'vdevice', securityVersion: 1 });
  assert.deepEqual(JSON.parse(bodies[1]!.body), { thing: 'my-thing', document: { operation: 'tuf-update', targets: ['config/prod/vdevice/agent.json'] } });
});
