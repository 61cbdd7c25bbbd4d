// The `secure-time` CLI as a user runs it (node bin/secure-time.js), against
// fake NTP servers on 127.0.126.N (ephemeral ports): exit codes, the JSON
// shape, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReply } from './harness/fakes.js';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const CLI_TIMEOUT_MS = 30_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repo, 'bin', 'secure-time.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Honest fake servers (the host clock); `shiftMs` makes a liar. Returns "addr:port" strings. */
async function withServers(shifts: number[], fn: (servers: string[]) => Promise<void>, rootDispersionMs = 0): Promise<void> {
  const sockets: dgram.Socket[] = [];
  try {
    const names: string[] = [];
    for (let i = 0; i < shifts.length; i++) {
      const s = dgram.createSocket('udp4');
      sockets.push(s);
      const address = `127.0.126.${i + 2}`;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, address, () => resolve());
      });
      s.on('message', (msg, rinfo) => {
        const t = Date.now() + shifts[i]!;
        s.send(buildReply(new Uint8Array(msg), { receiveMs: t, transmitMs: t, rootDispersionMs }), rinfo.port, rinfo.address);
      });
      names.push(`${address}:${s.address().port}`);
    }
    await fn(names);
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

const serverArgs = (servers: string[]): string[] => servers.flatMap((s) => ['--server', s]);

test('cli: trusted probe exits 0 and prints one JSON object with the documented keys', { timeout: 60_000 }, async () => {
  await withServers([0, 0, 0, 600_000], async (servers) => {
    const r = await runCli(['probe', '--json', ...serverArgs(servers)]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const k of ['state', 'offsetMs', 'boundMs', 'earliestMs', 'latestMs', 'sources']) assert.ok(k in j, k);
    assert.equal(j.state, 'SYNCED');
    const sources = j.sources as Array<Record<string, unknown>>;
    assert.deepEqual(sources.map((s) => s.server), servers);
    assert.deepEqual(sources.map((s) => s.verdict), ['accepted', 'accepted', 'accepted', 'falseticker']);
    for (const s of sources) for (const k of ['server', 'verdict', 'reason', 'offsetMs', 'delayMs', 'boundMs']) assert.ok(k in s, k);
    // the fake servers serve this host's clock: our offset is within the bound of zero
    assert.ok(Math.abs(j.offsetMs as number) <= (j.boundMs as number) + 1);
  });
});

test('cli: an unreachable server and one honest: not trusted, exit 1; table output without --json', { timeout: 60_000 }, async () => {
  await withServers([0], async (servers) => {
    const r = await runCli(['probe', ...serverArgs([...servers, '127.0.126.250:9']), '--timeout-ms', '200', '--attempts', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /NOT trusted/);
    assert.match(r.stdout, /127\.0\.126\.250:9\s+rejected\s+timeout/);
  });
});

test('cli: --min-sources 1 lets one honest server through; --max-bound-ms is enforced', { timeout: 60_000 }, async () => {
  await withServers([0], async (servers) => {
    assert.equal((await runCli(['probe', ...serverArgs(servers), '--min-sources', '1'])).code, 0);
  });
  // root dispersion 500 ms: the bound is at least 500 ms
  await withServers(
    [0, 0],
    async (servers) => {
      assert.equal((await runCli(['probe', ...serverArgs(servers)])).code, 0, 'default --max-bound-ms 1000');
      const tight = await runCli(['probe', '--json', ...serverArgs(servers), '--max-bound-ms', '400']);
      assert.equal(tight.code, 1);
      const j = JSON.parse(tight.stdout) as Record<string, unknown>;
      assert.equal(j.state, 'SYNCED', 'synced, but not within the bound asked for');
      assert.ok((j.boundMs as number) >= 500);
    },
    500,
  );
});

test('cli: usage errors exit 2 with a message', { timeout: 60_000 }, async () => {
  for (const args of [[], ['probe'], ['sync', '--server', '127.0.0.1'], ['probe', '--server', '127.0.0.1', '--min-sources', 'x'], ['probe', '--server', '127.0.0.1:99999'], ['probe', '--bogus']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /usage: secure-time probe/);
  }
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage/);
});

test('cli: a server name that does not resolve is a rejected source with its reason, not a usage error', { timeout: 60_000 }, async () => {
  // .invalid is reserved (RFC 2606): it never resolves.
  const bogus = `no-such-ntp-${process.pid}.invalid`;
  await withServers([0, 0], async (servers) => {
    const r = await runCli(['probe', '--json', ...serverArgs([...servers, bogus])]);
    assert.equal(r.code, 0, `two honest servers still agree: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as { state: string; sources: Array<Record<string, unknown>> };
    assert.equal(j.state, 'SYNCED');
    assert.deepEqual(j.sources.map((s) => s.server), [...servers, bogus]);
    const bad = j.sources[2]!;
    assert.equal(bad.verdict, 'rejected');
    assert.match(String(bad.reason), /^unresolved/);
    assert.equal(bad.offsetMs, null);
  });
  const alone = await runCli(['probe', '--server', `${bogus}:123`]);
  assert.equal(alone.code, 1, `not trusted, but no usage error: ${alone.stderr}`);
  assert.ok(new RegExp(`${bogus.replace(/\./g, '\\.')}:123\\s+rejected\\s+unresolved`).test(alone.stdout), alone.stdout);
});
