// Issue 13's device side, end to end: the release tool (tools/release, keys in
// SoftHSM2 tokens) writes the repository, the dev cloud serves it, a job names
// the target and the virtual device (firmware bundle on XS) decides. The
// device trusts the ceremony's root 1 (config `update.rootJson`, as
// provisioning would write it) and follows the tool's root rotations itself.
// Its policy requires the provenance fields sourceRevision and builder.
// One scenario world for the group; the cases run in order and build on each
// other (the repository only moves forward, like the device's trusted state).
// Skips with the reason without softhsm2/opensc.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../tools/release/cli.js';
import { Release } from '../tools/release/release.js';
import { Pkcs11Tool } from '../tools/release/token.js';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { Scenario } from '../tools/vdevice/scenario.js';
import * as world from './harness/update-world.js';
import { addToken, ceremonyArgs, makeTokens, softhsmMissing, type Tokens } from './harness/softhsm.js';

const skip = softhsmMissing();
const THING = `e2e-release-${process.pid}`;
const ROOT = ['r1', 'r2', 'r3'];
const APPROVERS = ['alice', 'bob', 'carol'];
const PROVENANCE = { sourceRevision: '9f1c2e7', builder: 'ci-runner-3', pipelineRun: 'run-4711' };

let dir: string;
let state: string;
let tokens: Tokens;
let s: Scenario;
let jobCounter = 0;

/** Runs the release CLI in process with `env` (by default every token's PIN); returns the last JSON line. */
function release(args: string[], env: Record<string, string> = tokens.env): Record<string, unknown> {
  const out: string[] = [];
  const err: string[] = [];
  const code = main([...args, '--state', state], { out: (l) => out.push(l), err: (l) => err.push(l) }, { env });
  assert.equal(code, 0, `release ${args.join(' ')}: ${err.join('\n')}`);
  return JSON.parse(out[out.length - 1] ?? '{}') as Record<string, unknown>;
}

/** An approver at their desk: only the tool's token and their own have a PIN. */
function desk(holder: string): Record<string, string> {
  return tokens.envWithout([...ROOT, ...APPROVERS, 'erin'].filter((t) => t !== holder));
}

function keyOf(holder: string): string {
  return Object.entries(Release.open(state, { env: tokens.env }).keys()).find(([, k]) => k.holder === holder && k.role === 'targets')![0];
}

interface Rel {
  name: string;
  body: string;
  channel?: string;
  hardware?: string;
  securityVersion: number;
  provenance?: Record<string, string> | null;
}

/** request → approvals by `approvers` (each with only their own token) → publish. Returns the target name. */
function publishRelease(r: Rel, approvers: string[]): string {
  const artifact = join(dir, `${++jobCounter}-${r.name}`);
  writeFileSync(artifact, r.body);
  const extra: string[] = [];
  if (r.provenance !== null) {
    const prov = join(dir, `${jobCounter}-provenance.json`);
    writeFileSync(prov, JSON.stringify(r.provenance ?? PROVENANCE));
    extra.push('--provenance', prov);
  }
  const channel = r.channel ?? 'prod';
  const hardware = r.hardware ?? 'vdevice';
  const req = release(['request', '--artifact', artifact, '--kind', 'config', '--channel', channel, '--hardware', hardware, '--security-version', String(r.securityVersion), '--requester', 'dave', '--name', `config/${channel}/${hardware}/${r.name}`, ...extra]);
  for (const a of approvers) release(['approve', String(req['request']), '--token', a], desk(a));
  release(['publish', String(req['request']), '--actor', 'ci'], tokens.envWithout([...ROOT, ...APPROVERS, 'erin']));
  return String(req['name']);
}

/** Bypasses the tool: the TUF writer signs a new targets version with the tokens of `holders` only (revoked or not). */
function forge(holders: string[], name: string, body: string, securityVersion: number): void {
  const env = tokens.envWithout([...ROOT, ...APPROVERS, 'erin'].filter((x) => !holders.includes(x)));
  const token = new Pkcs11Tool(undefined, env);
  const signers = new Map(
    Object.entries(Release.open(state, { env }).keys())
      .filter(([, k]) => holders.includes(k.holder) && k.role === 'targets')
      .map(([id, k]) => [id, token.metadataSigner(k.ref, k.pub, () => tokens.pins[k.ref.token]!)]),
  );
  assert.equal(signers.size, holders.length);
  const repo = TufRepo.open(join(state, 'repo'), { keysDir: join(state, 'online-keys'), keySource: { signer: (id) => signers.get(id) } });
  repo.addTarget(name, Buffer.from(body), { kind: 'config', channel: 'prod', hardwareModel: 'vdevice', securityVersion, provenance: PROVENANCE });
  repo.publish({ signWith: { targets: [...signers.keys()] } });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'e2e-release-'));
  state = join(dir, 'state');
  tokens = makeTokens(join(dir, 'hsm'), ['tool', ...ROOT, ...APPROVERS]);
  release(ceremonyArgs(ROOT, APPROVERS));
  // Provisioning: the ceremony's root 1 is the root this device trusts.
  const rootJson = readFileSync(join(state, 'repo', 'metadata', '1.root.json'), 'utf8');
  s = await Scenario.start({
    transport: 'https',
    thingName: THING,
    extraConfig: {
      update: {
        hardwareModel: 'vdevice',
        channel: 'prod',
        requireProvenance: ['sourceRevision', 'builder'],
        jobsIntervalMs: 500,
        checkIntervalMs: 3_600_000,
        rootJson,
        fetchDeadlineMs: 3000,
      },
    },
  });
  // The dev cloud serves the release tool's repository; the keys dir holds only the online roles' keys.
  s.cloud.serveTufRepo(join(state, 'repo'), join(state, 'online-keys'));
  await s.waitReady(60_000);
});

after(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const securityEvents = () => world.securityEvents(s);
const runJob = (targets: string[], timeoutMs?: number) => world.runJob(s, targets, timeoutMs);
const telemetryCount = () => world.telemetryCount(s);

async function eventOf(job: string, event: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await s.waitFor(() => (found = securityEvents().find((e) => e.event === event && e.job === job)) !== undefined, 20_000, `${event} of ${job} on the security stream`);
  return found!;
}

/** The job is REJECTED with `code`, an update-refused event names it, and telemetry keeps flowing. */
async function assertRefused(target: string, code: string, attack: string | null): Promise<void> {
  const flowing = telemetryCount();
  const r = await runJob([target]);
  assert.deepEqual([r.status, r.statusDetails.code], ['REJECTED', code], JSON.stringify(r));
  const e = await eventOf(r.id, 'update-refused');
  assert.deepEqual([e.target, e.code, e.attack, e.attackName ?? null], [target, code, attack !== null, attack]);
  await s.waitFor(() => telemetryCount() > flowing + 3, 20_000, 'telemetry still flowing');
}

async function assertApplied(target: string, body: string, approvers: string[], securityVersion: number): Promise<Record<string, unknown>> {
  const r = await runJob([target]);
  assert.deepEqual([r.status, r.statusDetails.code, r.statusDetails.target], ['SUCCEEDED', 'applied', target], JSON.stringify(r));
  const e = await eventOf(r.id, 'update-applied');
  // Which keys signed what the device applied: exactly these approvers' token keys, for the targets role.
  assert.equal(e.role, 'targets');
  assert.deepEqual(String(e.signers).split(','), approvers.map(keyOf).sort());
  assert.equal(e.sha256, createHash('sha256').update(body).digest('hex'));
  assert.deepEqual([e.target, e.kind, e.securityVersion], [target, 'config', securityVersion]);
  return e;
}

test('request → two approvals by different approvers → publish: the device applies it and reports the approvers\' keys', { skip }, async () => {
  const before = telemetryCount();
  const body = '{"sampleIntervalMs":300}';
  const target = publishRelease({ name: 'agent.json', body, securityVersion: 1 }, ['alice', 'bob']);
  const e = await assertApplied(target, body, ['alice', 'bob'], 1);
  // The release request the audit log records for these bytes.
  const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; request?: string; artifactSha256?: string });
  assert.ok(audit.some((a) => a.event === 'publish' && a.request === e.release && a.artifactSha256 === e.sha256), `publish of ${String(e.release)} in the audit log`);
  // The bundle changed behaviour: records every 300 ms instead of once a day.
  await s.waitFor(() => telemetryCount() >= before + 8, 20_000, 'telemetry at the new interval');
});

test('the device requires the provenance fields its policy names: a release without builder is refused', { skip }, async () => {
  const target = publishRelease({ name: 'no-builder.json', body: '{"sampleIntervalMs":310}', securityVersion: 2, provenance: { sourceRevision: '9f1c2e7' } }, ['alice', 'carol']);
  await assertRefused(target, 'missing-provenance', null);
  const none = publishRelease({ name: 'no-provenance.json', body: '{"sampleIntervalMs":320}', securityVersion: 2, provenance: null }, ['bob', 'carol']);
  await assertRefused(none, 'missing-provenance', null);
});

test('a release for another channel is refused (wrong-channel)', { skip }, async () => {
  const target = publishRelease({ name: 'agent.json', body: '{"sampleIntervalMs":330}', channel: 'beta', securityVersion: 2 }, ['alice', 'bob']);
  await assertRefused(target, 'wrong-channel', null);
});

test('a release for other hardware is refused (wrong-hardware)', { skip }, async () => {
  const target = publishRelease({ name: 'agent.json', body: '{"sampleIntervalMs":340}', hardware: 'esp32-s3', securityVersion: 2 }, ['alice', 'bob']);
  await assertRefused(target, 'wrong-hardware', null);
});

test('bypassing the tool: targets signed by one approver\'s key only are refused (below the threshold)', { skip }, async () => {
  forge(['alice'], 'config/prod/vdevice/forged-1.json', '{"sampleIntervalMs":350}', 3);
  await assertRefused('config/prod/vdevice/forged-1.json', 'unsigned', 'bad-signatures');
});

test('an approver revoked through a root rotation: targets signed by the revoked key (with or without a valid one) are refused; the next release applies', { skip }, async () => {
  addToken(tokens.env, tokens.pins, 'erin');
  const bob = keyOf('bob');
  // Root 2 without bob's key, erin's new key in his place, signed by r1 and r2 (r3 is not attached).
  const rotation = release(['key', 'revoke', bob, '--replace-with', 'erin=erin', '--actor', 'root-holders'], tokens.envWithout(['r3']));
  assert.equal(rotation['root'], 2);

  forge(['alice', 'bob'], 'config/prod/vdevice/forged-2.json', '{"sampleIntervalMs":360}', 3);
  await assertRefused('config/prod/vdevice/forged-2.json', 'unsigned', 'bad-signatures');
  forge(['bob'], 'config/prod/vdevice/forged-3.json', '{"sampleIntervalMs":370}', 3);
  await assertRefused('config/prod/vdevice/forged-3.json', 'unsigned', 'bad-signatures');

  // The device followed root 1 → 2 on its own; alice and erin release through the tool again.
  const body = '{"sampleIntervalMs":280}';
  const target = publishRelease({ name: 'agent-2.json', body, securityVersion: 3 }, ['alice', 'erin']);
  await assertApplied(target, body, ['alice', 'erin'], 3);
  // The tool built that release on what it published itself, not on the forged versions in the repository.
  for (const forged of ['forged-1.json', 'forged-2.json', 'forged-3.json']) await assertRefused(`config/prod/vdevice/${forged}`, 'not-found', null);
});
