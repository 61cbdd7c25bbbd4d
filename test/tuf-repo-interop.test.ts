// Interop with python-tuf (tuf 7.0.0, the reference implementation): its
// client, tuf.ngclient.Updater, verifies repositories our writer produced,
// across root rotations and a revoked key, and refuses what it must (targets
// signed by a revoked key, a tampered target, a new root without a threshold
// of the old root's signatures). Also checks makePythonTufRepo, the
// python-written reference repository the client tests use.
// Skips with the reason when the `.venv-tuf/` venv (.ci/run) is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { makePythonTufRepo, ngclientFetch, pythonTufMissing, type NgclientResult } from './harness/python-tuf.js';

const skip = pythonTufMissing();

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tuf-interop-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function assertOk(r: NgclientResult): asserts r is Extract<NgclientResult, { ok: true }> {
  assert.ok(r.ok, `python-tuf refused: ${JSON.stringify(r)}`);
}

function assertRefused(r: NgclientResult, stage: string, error: string): void {
  assert.equal(r.ok, false, `python-tuf accepted: ${JSON.stringify(r)}`);
  if (!r.ok) assert.deepEqual([r.stage, r.error], [stage, error], r.message);
}

test('python-tuf verifies our repository through two root rotations and a revoked key, and refuses targets the revoked key signs', { skip }, async (t) => {
  const d = tmp(t);
  const dir = join(d, 'repo');
  const repo = TufRepo.init(dir, {
    keysDir: join(d, 'keys'),
    roles: {
      root: { keys: 3, threshold: 2, keyType: 'ecdsa-sha2-nistp256' },
      targets: { keys: 2, threshold: 1 },
      snapshot: { keyType: 'rsassa-pss-sha256' },
      timestamp: { keyType: 'ecdsa-sha2-nistp256' },
    },
  });
  const trustedRoot = join(dir, 'metadata', '1.root.json');
  const fw = Buffer.from('firmware 1.0.0\n'.repeat(100));
  const fwCustom = { kind: 'firmware', hardwareModel: 'esp32-devkitc', fleet: 'beta', things: ['dev-1', 'dev-2'], securityVersion: 2 };
  repo.addTarget('fw/app-1.0.0.bin', fw, fwCustom);
  repo.publish();

  const clientA = join(d, 'client-a');
  const first = await ngclientFetch({ repoDir: dir, trustedRoot, target: 'fw/app-1.0.0.bin', workDir: clientA });
  assertOk(first);
  assert.deepEqual(first.target, { path: 'fw/app-1.0.0.bin', length: fw.length, sha256: sha256(fw), custom: fwCustom });
  assert.deepEqual(first.trusted, { root: 1, timestamp: 2, snapshot: 2, targets: 2 });

  // Root 2: one root key replaced by a key of another type. Root 3: a targets key revoked.
  const rootKeys = repo.root().signed.roles.root!.keyIDs;
  repo.rotateRoot({ addKeys: [{ role: 'root', type: 'ed25519' }], removeKeys: [{ keyid: rootKeys[0]!, role: 'root' }] });
  const revoked = repo.root().signed.roles.targets!.keyIDs[0]!;
  repo.revokeKey(revoked);
  const cfg = Buffer.from(JSON.stringify({ sampleIntervalMs: 15000 }));
  const cfgCustom = { kind: 'config', hardwareModel: 'esp32-devkitc', fleet: 'beta', securityVersion: 1 };
  repo.addTarget('config/beta.json', cfg, cfgCustom);
  repo.publish();

  const incremental = await ngclientFetch({ repoDir: dir, target: 'config/beta.json', workDir: clientA });
  assertOk(incremental);
  assert.equal(incremental.trusted.root, 3);
  assert.deepEqual(incremental.target, { path: 'config/beta.json', length: cfg.length, sha256: sha256(cfg), custom: cfgCustom });
  const fresh = await ngclientFetch({ repoDir: dir, trustedRoot, target: 'fw/app-1.0.0.bin', workDir: join(d, 'client-b') });
  assertOk(fresh);
  assert.equal(fresh.trusted.root, 3);

  // Whoever still holds the revoked key signs a new targets version: refused, by an old and a new client.
  repo.addTarget('fw/evil.bin', Buffer.from('evil'), { kind: 'firmware', securityVersion: 99 });
  repo.publish({ signWith: { targets: [revoked] } });
  assertRefused(await ngclientFetch({ repoDir: dir, target: 'fw/evil.bin', workDir: clientA }), 'refresh', 'UnsignedMetadataError');
  assertRefused(await ngclientFetch({ repoDir: dir, trustedRoot, target: 'fw/evil.bin', workDir: join(d, 'client-c') }), 'refresh', 'UnsignedMetadataError');

  // The same content signed by the trusted targets key is accepted: the refusal was the signature.
  repo.publish({ bump: ['targets'] });
  assertOk(await ngclientFetch({ repoDir: dir, target: 'fw/evil.bin', workDir: clientA }));
});

test('python-tuf refuses a tampered target of our repository at download', { skip }, async (t) => {
  const d = tmp(t);
  const dir = join(d, 'repo');
  const repo = TufRepo.init(dir, { keysDir: join(d, 'keys') });
  const fw = Buffer.from('firmware image\n'.repeat(64));
  repo.addTarget('fw/app.bin', fw, { kind: 'firmware', securityVersion: 1 });
  repo.publish();
  const tampered = Buffer.from(fw);
  tampered[10] ^= 0x01;
  writeFileSync(join(dir, 'targets', 'fw', `${sha256(fw)}.app.bin`), tampered);
  const r = await ngclientFetch({ repoDir: dir, trustedRoot: join(dir, 'metadata', '1.root.json'), target: 'fw/app.bin', workDir: join(d, 'c') });
  assertRefused(r, 'download', 'LengthOrHashMismatchError');
});

test('python-tuf refuses a new root without a threshold of the old root keys, which our writer always provides', { skip }, async (t) => {
  const d = tmp(t);
  const dir = join(d, 'repo');
  const repo = TufRepo.init(dir, { keysDir: join(d, 'keys') });
  repo.addTarget('a.txt', Buffer.from('a'));
  repo.publish();
  const oldKey = repo.root().signed.roles.root!.keyIDs[0]!;
  repo.rotateRoot({ addKeys: [{ role: 'root', type: 'ed25519' }], removeKeys: [{ keyid: oldKey, role: 'root' }] });
  const v2 = JSON.parse(readFileSync(join(dir, 'metadata', '2.root.json'), 'utf8')) as { signatures: Array<{ keyid: string }> };
  assert.deepEqual(new Set(v2.signatures.map((s) => s.keyid)).has(oldKey), true);

  const trustedRoot = join(dir, 'metadata', '1.root.json');
  assertOk(await ngclientFetch({ repoDir: dir, trustedRoot, target: 'a.txt', workDir: join(d, 'c1') }));
  // Drop the old key's signature: only the new root's own key signs it now.
  v2.signatures = v2.signatures.filter((s) => s.keyid !== oldKey);
  writeFileSync(join(dir, 'metadata', '2.root.json'), JSON.stringify(v2));
  assertRefused(await ngclientFetch({ repoDir: dir, trustedRoot, target: 'a.txt', workDir: join(d, 'c2') }), 'refresh', 'UnsignedMetadataError');
});

test('python-tuf verifies our repository without consistent snapshots', { skip }, async (t) => {
  const d = tmp(t);
  const dir = join(d, 'repo');
  const repo = TufRepo.init(dir, { keysDir: join(d, 'keys'), consistentSnapshot: false, roles: { timestamp: { keyType: 'rsa-pkcs1v15-sha256' } } });
  const body = Buffer.from('plain layout');
  repo.addTarget('dir/file.txt', body, { kind: 'config' });
  repo.publish();
  const r = await ngclientFetch({ repoDir: dir, trustedRoot: join(dir, 'metadata', '1.root.json'), target: 'dir/file.txt', workDir: join(d, 'c') });
  assertOk(r);
  assert.equal(r.target.sha256, sha256(body));
});

test('makePythonTufRepo: python-tuf writes a reference repository its client and @tufjs/models both verify', { skip }, async (t) => {
  const d = tmp(t);
  const ref = await makePythonTufRepo(join(d, 'ref'));
  assert.equal(ref.versions.root, 2);
  assert.deepEqual(new Set(Object.values(ref.keyTypes)), new Set(['ed25519', 'ecdsa-sha2-nistp256', 'rsassa-pss-sha256', 'rsa-pkcs1v15-sha256']));
  for (const target of ref.targets) {
    const r = await ngclientFetch({ repoDir: ref.dir, trustedRoot: ref.trustedRoot, target: target.name, workDir: join(d, `c-${target.role}`) });
    assertOk(r);
    assert.deepEqual(r.target, { path: target.name, length: target.length, sha256: target.sha256, custom: target.custom });
  }
  // A second implementation agrees on the rotation's signatures.
  const read = (n: string) => Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(ref.metadataDir, n), 'utf8')));
  const v1 = read('1.root.json');
  const v2 = read('2.root.json');
  v1.verifyDelegate('root', v2);
  v2.verifyDelegate('root', v2);
});
