// The TUF repository writer (tools/tuf-repo) on its own: layout, hashes and
// lengths, signatures checked with @tufjs/models' verifier (node:crypto), key
// IDs recomputed from a hand-written canonical form, rotation and revocation
// thresholds, refusals, and that no private key is ever printed.
// python-tuf's view of the same repositories is test/tuf-repo-interop.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { main } from '../tools/tuf-repo/cli.js';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { TufRepoError } from '../tools/tuf-repo/errors.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tuf-repo-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function readMd(dir: string, name: string): { bytes: Buffer; json: Record<string, unknown> } {
  const bytes = readFileSync(join(dir, 'metadata', name));
  return { bytes, json: JSON.parse(bytes.toString('utf8')) };
}

function rootAt(dir: string, version: number): Metadata<Root> {
  return Metadata.fromJSON(MetadataKind.Root, readMd(dir, `${version}.root.json`).json as never);
}

const FIXED_NOW = new Date('2030-01-01T00:00:00.700Z');

test('init writes version 1 of every role, each signed by its keys; key IDs follow the TUF canonical form', (t) => {
  const d = tmp(t);
  const repo = TufRepo.init(join(d, 'r'), {
    keysDir: join(d, 'k'),
    now: () => FIXED_NOW,
    roles: { root: { keys: 3, threshold: 2 }, timestamp: { keyType: 'ecdsa-sha2-nistp256' }, snapshot: { keyType: 'rsassa-pss-sha256' } },
    expiresSeconds: { timestamp: 3600 },
  });
  const r = join(d, 'r');
  assert.deepEqual(readMd(r, 'root.json').bytes, readMd(r, '1.root.json').bytes);
  const root = rootAt(r, 1);
  assert.equal(root.signed.roles.root!.threshold, 2);
  assert.equal(root.signed.roles.root!.keyIDs.length, 3);
  assert.equal(Object.keys(root.signatures).length, 3);
  // Whole seconds, UTC, the form python-tuf parses.
  assert.equal(root.signed.expires, '2031-01-01T00:00:00Z');
  assert.equal(repo.timestamp().signed.expires, '2030-01-01T01:00:00Z');

  root.verifyDelegate('root', root);
  root.verifyDelegate('timestamp', repo.timestamp());
  root.verifyDelegate('snapshot', repo.snapshot());
  root.verifyDelegate('targets', repo.targets());

  for (const [keyid, key] of Object.entries(root.signed.keys)) {
    // Written out by hand: sorted keys, no whitespace, the PEM's newlines raw (canonical JSON does not escape them).
    const canonical = `{"keytype":"${key.keyType}","keyval":{"public":"${key.keyVal.public}"},"scheme":"${key.scheme}"}`;
    assert.equal(keyid, sha256(Buffer.from(canonical)), `key ID of a ${key.scheme} key`);
  }
  const types = Object.values(root.signed.keys).map((k) => `${k.keyType}/${k.scheme}`).sort();
  assert.deepEqual(types, ['ecdsa-sha2-nistp256/ecdsa-sha2-nistp256', 'ed25519/ed25519', 'ed25519/ed25519', 'ed25519/ed25519', 'ed25519/ed25519', 'rsa/rsassa-pss-sha256']);

  for (const f of readdirSync(join(d, 'k'))) assert.equal(statSync(join(d, 'k', f)).mode & 0o777, 0o600, f);
});

test('add-target and publish: consistent-snapshot file names, custom fields, snapshot and timestamp carry exact lengths and hashes', (t) => {
  const d = tmp(t);
  const r = join(d, 'r');
  const repo = TufRepo.init(r, { keysDir: join(d, 'k') });
  const fw = Buffer.from('firmware image bytes\n'.repeat(50));
  const custom = { kind: 'firmware', hardwareModel: 'esp32-devkitc', fleet: 'beta', things: ['dev-1'], securityVersion: 4 };
  repo.addTarget('fw/app.bin', fw, custom);
  assert.deepEqual(repo.publish(), { targets: 2, snapshot: 2, timestamp: 2 });

  assert.deepEqual(readFileSync(join(r, 'targets', 'fw', `${sha256(fw)}.app.bin`)), fw);
  const targets = readMd(r, '2.targets.json');
  const entry = (targets.json.signed as { targets: Record<string, { length: number; hashes: Record<string, string>; custom: unknown }> }).targets['fw/app.bin']!;
  assert.deepEqual(entry, { length: fw.length, hashes: { sha256: sha256(fw) }, custom });

  const snapshot = readMd(r, '2.snapshot.json');
  assert.deepEqual((snapshot.json.signed as { meta: unknown }).meta, {
    'targets.json': { version: 2, length: targets.bytes.length, hashes: { sha256: sha256(targets.bytes) } },
  });
  const ts = readMd(r, 'timestamp.json');
  assert.deepEqual((ts.json.signed as { meta: unknown }).meta, {
    'snapshot.json': { version: 2, length: snapshot.bytes.length, hashes: { sha256: sha256(snapshot.bytes) } },
  });
  // The previous consistent snapshot stays for clients mid-update.
  readMd(r, '1.targets.json');
  // Nothing changed: only a new timestamp.
  assert.deepEqual(repo.publish(), { targets: 2, snapshot: 2, timestamp: 3 });
});

test('without consistent snapshots targets keep their names and metadata has no version prefix', (t) => {
  const d = tmp(t);
  const r = join(d, 'r');
  const repo = TufRepo.init(r, { keysDir: join(d, 'k'), consistentSnapshot: false });
  repo.addTarget('a/b.txt', Buffer.from('hello'));
  repo.publish();
  assert.equal(readFileSync(join(r, 'targets', 'a', 'b.txt'), 'utf8'), 'hello');
  assert.deepEqual(readdirSync(join(r, 'metadata')).sort(), ['1.root.json', 'root.json', 'snapshot.json', 'targets.json', 'timestamp.json']);
});

test('rotate-root: version N+1 verifies under a threshold of root N and of itself; short of either, it is refused', (t) => {
  const d = tmp(t);
  const r = join(d, 'r');
  const keys = join(d, 'k');
  const repo = TufRepo.init(r, { keysDir: keys, roles: { root: { keys: 2, threshold: 2 } } });
  const [k1, k2] = repo.root().signed.roles.root!.keyIDs as [string, string];
  const { version, added } = repo.rotateRoot({ addKeys: [{ role: 'root', type: 'ecdsa-sha2-nistp256' }], removeKeys: [{ keyid: k2, role: 'root' }] });
  assert.equal(version, 2);
  const v1 = rootAt(r, 1);
  const v2 = rootAt(r, 2);
  v1.verifyDelegate('root', v2);
  v2.verifyDelegate('root', v2);
  assert.deepEqual(new Set(v2.signed.roles.root!.keyIDs), new Set([k1, added[0]!.keyid]));
  assert.equal(v2.signed.keys[k2], undefined, 'a key no role uses is dropped');

  // Root 3 with only the new key's file left for root 2's keys: 1 of 2 available, refused.
  rmSync(join(keys, `${k1}.json`));
  assert.throws(() => repo.rotateRoot({}), (e: unknown) => e instanceof TufRepoError && e.code === 'threshold');
  assert.equal(repo.root().signed.version, 2, 'nothing written');
});

test('revoke-key: the key leaves its role; metadata it signs afterwards fails under the new root', (t) => {
  const d = tmp(t);
  const r = join(d, 'r');
  const repo = TufRepo.init(r, { keysDir: join(d, 'k') });
  const revoked = repo.root().signed.roles.targets!.keyIDs[0]!;
  const { version, added } = repo.revokeKey(revoked, { replaceWith: 'ed25519' });
  assert.equal(version, 2);
  const root = rootAt(r, 2);
  assert.deepEqual(root.signed.roles.targets!.keyIDs, [added[0]!.keyid]);
  assert.equal(root.signed.keys[revoked], undefined);
  assert.equal(root.signatures[revoked], undefined);
  // The revocation re-signed targets with the replacement.
  root.verifyDelegate('targets', repo.targets());

  repo.addTarget('evil.bin', Buffer.from('evil'));
  repo.publish({ signWith: { targets: [revoked] } });
  assert.throws(() => root.verifyDelegate('targets', repo.targets()));

  // Revoking the only key of a role without a replacement leaves it below threshold.
  const ts = root.signed.roles.timestamp!.keyIDs[0]!;
  assert.throws(() => repo.revokeKey(ts), (e: unknown) => e instanceof TufRepoError && e.code === 'threshold');
});

test('publish refuses when the keys dir lacks a threshold of a role; bad target names are refused', (t) => {
  const d = tmp(t);
  const r = join(d, 'r');
  const keys = join(d, 'k');
  const repo = TufRepo.init(r, { keysDir: keys, roles: { targets: { keys: 2, threshold: 2 } } });
  rmSync(join(keys, `${repo.root().signed.roles.targets!.keyIDs[1]!}.json`));
  repo.addTarget('x', Buffer.from('x'));
  assert.throws(() => repo.publish(), (e: unknown) => e instanceof TufRepoError && e.code === 'threshold');
  for (const name of ['../x', '/abs', 'a//b', 'a/./b', 'a/', '', 'a\\b']) {
    assert.throws(() => repo.addTarget(name, Buffer.from('x')), (e: unknown) => e instanceof TufRepoError && e.code === 'bad-input', name);
  }
  assert.throws(() => TufRepo.init(r, { keysDir: keys }), (e: unknown) => e instanceof TufRepoError && e.code === 'exists');
});

test('CLI: every command prints one JSON line, never private key material; usage errors exit 2', (t) => {
  const d = tmp(t);
  const out: string[] = [];
  const err: string[] = [];
  const cli = (...args: string[]): number => main([...args, '--repo', join(d, 'r'), '--keys', join(d, 'k')], (l) => out.push(l), (l) => err.push(l));
  writeFileSync(join(d, 'fw.bin'), 'fw');
  assert.equal(cli('init', '--role-keys', 'root=2', '--threshold', 'root=2', '--key-type', 'ecdsa-sha2-nistp256', '--expires', 'timestamp=2h'), 0);
  assert.equal(cli('add-target', join(d, 'fw.bin'), '--name', 'fw.bin', '--custom', '{"kind":"firmware","securityVersion":1}'), 0);
  assert.equal(cli('publish'), 0);
  assert.equal(cli('rotate-root', '--add', 'root=ed25519', '--threshold', 'root=2'), 0);
  const status = JSON.parse(out[0]!) as { roles: { targets: { keyids: string[] } } };
  assert.equal(cli('revoke-key', status.roles.targets.keyids[0]!, '--replace-with', 'ed25519'), 0);
  assert.equal(cli('status'), 0);
  const last = JSON.parse(out.at(-1)!) as { versions: Record<string, number>; targets: Record<string, unknown> };
  // init 1/1/1; publish with a target: 2/2/2; rotate-root (root keys only): a new timestamp; revoke a targets key: all three.
  assert.deepEqual(last.versions, { root: 3, timestamp: 4, snapshot: 3, targets: 3 });
  assert.deepEqual(Object.keys(last.targets), ['fw.bin']);
  for (const l of out) JSON.parse(l);

  const privates = readdirSync(join(d, 'k')).map((f) => (JSON.parse(readFileSync(join(d, 'k', f), 'utf8')) as { private: string }).private);
  const printed = out.join('\n') + err.join('\n');
  assert.doesNotMatch(printed, /PRIVATE KEY/);
  for (const p of privates) {
    const body = p.split('\n')[1]!;
    assert.ok(!printed.includes(body), 'a private key line was printed');
  }

  assert.equal(cli('publish', '--expires', 'timestamp=soon'), 2);
  assert.equal(cli('init', '--bogus'), 2);
  assert.equal(cli('add-target', join(d, 'fw.bin'), '--name', 'x', '--custom', '[1]'), 2);
  assert.equal(cli('revoke-key', 'f'.repeat(64)), 1);
});
