// The release tool (tools/release) against SoftHSM2 tokens and python-tuf's
// client: request → two approvals → publish is accepted by python-tuf; the
// tool refuses self-approval, expired approvals, publishing below threshold and
// approvals for other bytes; python-tuf refuses a repository forged with one
// approver's key and a release signed by a revoked approver; keys stay in their
// tokens; audit verify names each kind of tampering.
// Skips with the reason without softhsm2/opensc or without the .venv-tuf venv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../tools/release/cli.js';
import { Release } from '../tools/release/release.js';
import { Pkcs11Tool } from '../tools/release/token.js';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { ngclientFetch, pythonTufMissing, type NgclientResult } from './harness/python-tuf.js';
import { addToken, ceremonyArgs, makeTokens, softhsmMissing, type Tokens } from './harness/softhsm.js';

const noTokens = softhsmMissing();
const skip = noTokens || pythonTufMissing();

const ROOT = ['r1', 'r2', 'r3'];
const APPROVERS = ['alice', 'bob', 'carol'];

interface Run {
  code: number;
  out: string[];
  err: string[];
  json: Record<string, unknown>;
}

class World {
  readonly state: string;
  readonly tokens: Tokens;
  clock = Date.parse('2030-01-01T00:00:00Z');
  readonly transcript: string[] = [];

  constructor(readonly dir: string) {
    this.state = join(dir, 'state');
    this.tokens = makeTokens(join(dir, 'hsm'), ['tool', ...ROOT, ...APPROVERS]);
  }

  run(args: string[], env: Record<string, string> = this.tokens.env): Run {
    const out: string[] = [];
    const err: string[] = [];
    const code = main([...args, '--state', this.state], { out: (l) => out.push(l), err: (l) => err.push(l) }, { env, now: () => new Date(this.clock) });
    this.transcript.push(...out, ...err);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(out[out.length - 1] ?? '{}') as Record<string, unknown>;
    } catch {
      /* readable output */
    }
    return { code, out, err, json };
  }

  ok(args: string[], env?: Record<string, string>): Record<string, unknown> {
    const r = this.run(args, env);
    assert.equal(r.code, 0, `release ${args.join(' ')}: ${r.err.join('\n')}`);
    return r.json;
  }

  ceremony(): void {
    this.ok(ceremonyArgs(ROOT, APPROVERS));
  }

  request(file: string, body: Buffer | string, requester = 'dave', extra: string[] = []): string {
    const path = join(this.dir, file);
    writeFileSync(path, body);
    const r = this.ok(['request', '--artifact', path, '--kind', 'firmware', '--channel', 'stable', '--hardware', 'esp32-devkitc', '--security-version', '3', '--requester', requester, ...extra]);
    return String(r['request']);
  }

  /** The env of one approver at their desk: the tool's token and their own. */
  desk(holder: string): Record<string, string> {
    return this.tokens.envWithout([...ROOT, ...APPROVERS].filter((t) => t !== holder));
  }

  keyOf(holder: string): string {
    return Object.entries(Release.open(this.state, { env: this.tokens.env }).keys()).find(([, k]) => k.holder === holder && !k.revoked)![0];
  }

  fetch(target: string, work: string): Promise<NgclientResult> {
    return ngclientFetch({ repoDir: join(this.state, 'repo'), trustedRoot: join(this.state, 'repo', 'metadata', '1.root.json'), target, workDir: join(this.dir, work) });
  }
}

function world(t: { after: (fn: () => void) => void }): World {
  const d = mkdtempSync(join(tmpdir(), 'release-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return new World(d);
}

function sha256(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test('request, two approvals by different approvers, publish: python-tuf accepts the target; keys never leave the tokens', { skip }, async (t) => {
  const w = world(t);
  w.ceremony();
  const fw = Buffer.from('firmware 2.0.0\n'.repeat(200));
  const prov = join(w.dir, 'provenance.json');
  writeFileSync(prov, JSON.stringify({ sourceRevision: 'a1b2c3d', builder: 'ci', pipelineRun: '4711' }));
  const req = w.request('app-2.0.0.bin', fw, 'dave', ['--provenance', prov]);

  const shown = w.run(['approve', req, '--token', 'alice'], w.desk('alice'));
  assert.equal(shown.code, 0, shown.err.join('\n'));
  assert.ok(shown.err.some((l) => l.includes(sha256(fw)) && l.includes(`${fw.length} bytes`)), 'the approver is shown the artifact hash and length');
  assert.ok(shown.err.some((l) => l.includes('channel stable') && l.includes('esp32-devkitc')));
  w.clock += 60_000;
  w.ok(['approve', req, '--token', 'bob'], w.desk('bob'));
  // Publishing needs no approver PIN: only the tool's (audit) key and the online file keys.
  const pub = w.ok(['publish', req, '--actor', 'ci'], w.tokens.envWithout([...ROOT, ...APPROVERS]));
  assert.deepEqual(pub['versions'], { targets: 2, snapshot: 2, timestamp: 2 });

  const r = await w.fetch('firmware/stable/esp32-devkitc/app-2.0.0.bin', 'client');
  assert.ok(r.ok, JSON.stringify(r));
  if (r.ok) {
    assert.equal(r.target.sha256, sha256(fw));
    assert.equal(r.target.length, fw.length);
    assert.deepEqual(
      { kind: r.target.custom['kind'], channel: r.target.custom['channel'], hw: r.target.custom['hardwareModel'], sv: r.target.custom['securityVersion'], prov: r.target.custom['provenance'] },
      { kind: 'firmware', channel: 'stable', hw: 'esp32-devkitc', sv: 3, prov: { sourceRevision: 'a1b2c3d', builder: 'ci', pipelineRun: '4711' } },
    );
  }
  const targets = JSON.parse(readFileSync(join(w.state, 'repo', 'metadata', '2.targets.json'), 'utf8')) as { signatures: Array<{ keyid: string }> };
  assert.deepEqual(new Set(targets.signatures.map((s) => s.keyid)), new Set([w.keyOf('alice'), w.keyOf('bob')]));

  // Every key of every token: sensitive since generation and never extractable.
  const tool = new Pkcs11Tool(undefined, w.tokens.env);
  for (const label of ['tool', ...ROOT, ...APPROVERS]) {
    const keys = tool.privateKeys(label, w.tokens.pins[label]!);
    assert.equal(keys.length, 1, `${label} holds one key`);
    for (const k of keys) assert.deepEqual([label, k.sensitive, k.alwaysSensitive, k.extractable, k.neverExtractable], [label, true, true, false, true]);
    const check = w.run(['token', 'check', '--token', label]);
    assert.equal(check.code, 0, check.err.join('\n'));
  }
  // The reading is real: a key made extractable in another token is reported so.
  addToken(w.tokens.env, w.tokens.pins, 'leaky');
  const gen = spawnSync('pkcs11-tool', ['--module', tool.module, '--token-label', 'leaky', '--pin', w.tokens.pins['leaky']!, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '07', '--extractable'], { env: w.tokens.env, encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  assert.deepEqual(tool.privateKeys('leaky', w.tokens.pins['leaky']!).map((k) => [k.extractable, k.neverExtractable]), [[true, false]]);
  assert.equal(w.run(['token', 'check', '--token', 'leaky']).code, 1);

  // No private key or PIN anywhere the tool writes or prints, except the online roles' key files (documented).
  const everything = filesUnder(w.state).filter((f) => !f.includes(`${join(w.state, 'online-keys')}`));
  assert.ok(everything.some((f) => f.endsWith('audit.jsonl')));
  const texts = [...everything.map((f) => readFileSync(f, 'latin1')), w.transcript.join('\n')];
  for (const text of texts) {
    assert.doesNotMatch(text, /PRIVATE KEY/);
    for (const pin of Object.values(w.tokens.pins)) assert.ok(!text.includes(pin), 'a PIN was written or printed');
  }
  for (const f of filesUnder(join(w.state, 'online-keys'))) assert.equal(statSync(f).mode & 0o077, 0, `${f} is private to its owner`);
  assert.equal(w.run(['audit', 'verify']).code, 0);
});

test('the tool refuses self-approval, an expired approval, publishing below threshold and approvals for other bytes', { skip: noTokens }, (t) => {
  const w = world(t);
  w.ceremony();
  const reasons = (): string[] =>
    w.run(['audit', 'show']).out.filter((l) => l.includes(' refusal ')).map((l) => String((JSON.parse(l.slice(l.indexOf('{'))) as { reason: string }).reason));

  // Self-approval: alice requested it.
  const own = w.request('own.bin', 'own build', 'alice');
  const self = w.run(['approve', own, '--token', 'alice'], w.desk('alice'));
  assert.equal(self.code, 1);
  assert.match(self.err.join('\n'), /self-approval/);
  assert.deepEqual(readdirSync(w.state).includes('approvals') ? readdirSync(join(w.state, 'approvals')) : [], []);

  // Below threshold.
  const one = w.request('one.bin', 'one approval');
  w.ok(['approve', one, '--token', 'bob'], w.desk('bob'));
  const below = w.run(['publish', one]);
  assert.equal(below.code, 1);
  assert.match(below.err.join('\n'), /below-threshold: .*1 valid approval\(s\) of 2/);

  // Expired: the second approval comes 16 minutes after the first, with a 15-minute window.
  w.clock += 16 * 60_000;
  w.ok(['approve', one, '--token', 'carol'], w.desk('carol'));
  const expired = w.run(['publish', one]);
  assert.equal(expired.code, 1);
  assert.match(expired.err.join('\n'), /1 valid approval\(s\) of 2.*\(expired\)/);
  // A fresh approval by bob would count again, but an approval file cannot be refreshed by editing it.
  const bobFile = join(w.state, 'approvals', one, `${w.keyOf('bob')}.json`);
  const edited = JSON.parse(readFileSync(bobFile, 'utf8')) as { statement: { approvedAt: string; validUntil: string } };
  edited.statement.approvedAt = new Date(w.clock).toISOString();
  edited.statement.validUntil = new Date(w.clock + 600_000).toISOString();
  writeFileSync(bobFile, JSON.stringify(edited));
  assert.match(w.run(['publish', one]).err.join('\n'), /statement not signed by its key/);

  // Other bytes (1): the artifact is swapped after both approvals.
  const swap = w.request('swap.bin', 'reviewed bytes');
  w.ok(['approve', swap, '--token', 'bob'], w.desk('bob'));
  w.ok(['approve', swap, '--token', 'carol'], w.desk('carol'));
  const stored = join(w.state, 'requests', `${swap}.bin`);
  const good = readFileSync(stored);
  writeFileSync(stored, 'evil bytes!!!!');
  const swapped = w.run(['publish', swap]);
  assert.equal(swapped.code, 1);
  assert.match(swapped.err.join('\n'), /wrong-bytes: the artifact/);
  writeFileSync(stored, good);

  // Other bytes (2): approvals copied from another request do not count for this one.
  const other = w.request('other.bin', 'other bytes');
  mkdirSync(join(w.state, 'approvals', other));
  for (const h of ['bob', 'carol']) copyFileSync(join(w.state, 'approvals', swap, `${w.keyOf(h)}.json`), join(w.state, 'approvals', other, `${w.keyOf(h)}.json`));
  const copied = w.run(['publish', other]);
  assert.equal(copied.code, 1);
  assert.match(copied.err.join('\n'), /wrong-bytes: .*approval for another request/);
  // With the right bytes and two fresh approvals, the same request publishes.
  w.ok(['publish', swap]);
  assert.deepEqual(reasons(), ['self-approval', 'below-threshold', 'below-threshold', 'below-threshold', 'wrong-bytes', 'wrong-bytes']);
  assert.equal(w.run(['audit', 'verify']).code, 0);
});

test('python-tuf refuses a repository forged with one approver key, and a release signed by a revoked approver after rotation', { skip }, async (t) => {
  const w = world(t);
  w.ceremony();
  const first = w.request('app-1.bin', 'app 1');
  w.ok(['approve', first, '--token', 'alice'], w.desk('alice'));
  w.ok(['approve', first, '--token', 'bob'], w.desk('bob'));
  w.ok(['publish', first]);
  assert.ok((await w.fetch('firmware/stable/esp32-devkitc/app-1.bin', 'c0')).ok);

  // Bypassing the tool: the writer signs targets with whatever tokens the forger holds (revoked or not).
  const forge = (holders: string[], name: string): void => {
    const env = w.tokens.envWithout([...ROOT, ...APPROVERS].filter((x) => !holders.includes(x)));
    const registry = Object.entries(Release.open(w.state, { env }).keys());
    const token = new Pkcs11Tool(undefined, env);
    const signers = new Map(
      registry.filter(([, k]) => holders.includes(k.holder) && k.role === 'targets').map(([id, k]) => [id, token.metadataSigner(k.ref, k.pub, () => env[`RELEASE_PIN_${k.ref.token.toUpperCase()}`]!)]),
    );
    const repo = TufRepo.open(join(w.state, 'repo'), { keysDir: join(w.state, 'online-keys'), keySource: { signer: (id) => signers.get(id) } });
    repo.addTarget(name, Buffer.from(`evil ${name}`), { kind: 'firmware', channel: 'stable', hardwareModel: 'esp32-devkitc', securityVersion: 99 });
    repo.publish({ signWith: { targets: [...signers.keys()] } });
  };
  const aliceKey = w.keyOf('alice');
  const bobKey = w.keyOf('bob');
  // Before the rotation alice and bob together are enough: the later refusal is the revocation.
  forge(['alice', 'bob'], 'firmware/stable/esp32-devkitc/pair.bin');
  assert.ok((await w.fetch('firmware/stable/esp32-devkitc/pair.bin', 'c1b')).ok);
  forge(['alice'], 'firmware/stable/esp32-devkitc/evil-1.bin');
  const one = await w.fetch('firmware/stable/esp32-devkitc/evil-1.bin', 'c1');
  assert.deepEqual(one.ok ? 'accepted' : [one.stage, one.error], ['refresh', 'UnsignedMetadataError']);

  // Bob leaves: his key is revoked in root 2 (signed by r1 and r2 only) and erin's token replaces it.
  addToken(w.tokens.env, w.tokens.pins, 'erin');
  const rotation = w.ok(['key', 'revoke', bobKey, '--replace-with', 'erin=erin', '--actor', 'root-holders'], w.tokens.envWithout(['r3']));
  assert.equal(rotation['root'], 2);
  const root2 = JSON.parse(readFileSync(join(w.state, 'repo', 'metadata', '2.root.json'), 'utf8')) as { signed: { roles: { targets: { keyids: string[] } } } };
  assert.ok(!root2.signed.roles.targets.keyids.includes(bobKey));

  // Alice and the revoked bob together: only one valid signature left.
  forge(['alice', 'bob'], 'firmware/stable/esp32-devkitc/evil-2.bin');
  const revoked = await w.fetch('firmware/stable/esp32-devkitc/evil-2.bin', 'c2');
  assert.deepEqual(revoked.ok ? 'accepted' : [revoked.stage, revoked.error], ['refresh', 'UnsignedMetadataError']);
  assert.ok(root2.signed.roles.targets.keyids.includes(aliceKey));

  // The tool also refuses bob now, and alice plus erin release through it; python-tuf follows root 1 → 2.
  const next = w.request('app-2.bin', 'app 2');
  assert.equal(w.run(['approve', next, '--token', 'bob'], w.desk('bob')).code, 1);
  const shown = w.run(['approve', next, '--token', 'alice'], w.desk('alice'));
  assert.equal(shown.code, 0, shown.err.join('\n'));
  // The approver is told that the repository holds targets the tool did not publish (the forgeries above).
  assert.ok(shown.err.some((l) => /targets version 5 was not published by this tool/.test(l)), shown.err.join('\n'));
  w.ok(['approve', next, '--token', 'erin'], w.tokens.envWithout([...ROOT, ...APPROVERS]));
  w.ok(['publish', next]);
  const good = await w.fetch('firmware/stable/esp32-devkitc/app-2.bin', 'c3');
  assert.ok(good.ok, JSON.stringify(good));
  if (good.ok) assert.equal(good.trusted['root'], 2);
  // That release was built on what the tool published: the targets written around it are not carried into it.
  for (const forged of ['pair.bin', 'evil-1.bin', 'evil-2.bin']) {
    const f = await w.fetch(`firmware/stable/esp32-devkitc/${forged}`, `c4-${forged}`);
    assert.equal(f.ok ? 'accepted' : f.stage, 'targetinfo', `${forged} is not in the tool's release`);
  }
});

test('emergency release needs the root threshold, is marked in the log and stays open until reviewed', { skip: noTokens }, (t) => {
  const w = world(t);
  w.ceremony();
  const req = w.request('hotfix.bin', 'hotfix', 'alice');
  w.ok(['approve', req, '--token', 'bob'], w.desk('bob'));
  w.clock += 20 * 60_000;
  w.ok(['approve', req, '--token', 'carol'], w.desk('carol'));
  w.clock += 20 * 60_000;
  // Both approvals are outside the window now; one root holder is not enough to break glass.
  assert.equal(w.run(['publish', req]).code, 1);
  const single = w.run(['emergency', req, '--reason', 'CVE fix', '--root-token', 'r1'], w.tokens.envWithout(['r2', 'r3']));
  assert.equal(single.code, 1);
  assert.match(single.err.join('\n'), /needs 2 root key holders; 1 signed/);
  w.ok(['emergency', req, '--reason', 'CVE fix', '--root-token', 'r1', '--root-token', 'r2']);
  const open = w.run(['audit', 'verify']);
  assert.equal(open.code, 3);
  assert.deepEqual(open.json['openEmergencies'], [req]);
  w.ok(['review', req, '--reviewer', 'erin', '--note', 'hotfix matched the advisory']);
  assert.equal(w.run(['audit', 'verify']).code, 0);
});

test('audit verify detects an edited, a removed, a reordered and a forged entry, and says which', { skip: noTokens }, (t) => {
  const w = world(t);
  w.ceremony();
  const req = w.request('a.bin', 'a');
  w.ok(['approve', req, '--token', 'alice'], w.desk('alice'));
  const log = join(w.state, 'audit.jsonl');
  const pristine = readFileSync(log, 'utf8');
  const lines = pristine.trim().split('\n');
  assert.equal(lines.length, 10);
  const verify = (): Array<[string, number | undefined]> => {
    const r = w.run(['audit', 'verify']);
    return (r.json['problems'] as Array<{ kind: string; seq?: number }>).map((p) => [p.kind, p.seq]);
  };
  const put = (ls: string[]): void => writeFileSync(log, ls.join('\n') + '\n');
  assert.deepEqual(verify(), []);

  const edited = [...lines];
  edited[8] = edited[8]!.replace('"actor":"dave"', '"actor":"mallory"');
  assert.notEqual(edited[8], lines[8]);
  put(edited);
  assert.deepEqual(verify(), [['edited', 9]]);

  put(lines.filter((_, i) => i !== 4));
  assert.deepEqual(verify(), [['removed', 5]]);

  const swapped = [...lines];
  [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
  put(swapped);
  assert.deepEqual(verify(), [['reordered', 6]]);

  // Appended without the tool's key: chained correctly, signed by someone else.
  const last = JSON.parse(lines[9]!) as Record<string, unknown>;
  const forgedEntry = { ...last, seq: 11, event: 'publish', actor: 'mallory', prev: sha256(canonical(last)), sig: '30440220' + '11'.repeat(32) + '0220' + '22'.repeat(32) };
  put([...lines, JSON.stringify(forgedEntry)]);
  assert.deepEqual(verify(), [['forged', 11]]);
  // And the tool will not append behind it.
  assert.equal(w.run(['request', '--artifact', join(w.dir, 'a.bin'), '--kind', 'config', '--channel', 'stable', '--hardware', 'x', '--security-version', '1']).code, 1);

  put(lines);
  assert.deepEqual(verify(), []);
  const shown = w.run(['audit', 'show']).out;
  assert.equal(shown.length, 10);
  assert.match(shown[8]!, /^#9 .* request +ok +actor=dave +request=/);
});

/** OLPC canonical JSON, written here independently of the tool for the forged entry's chain hash. */
function canonical(v: unknown): string {
  if (typeof v === 'string') return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${canonical(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}
