// The TUF attacks end to end on the virtual device: each is a job naming a
// config target, refused by the device (REJECTED with its TufError code in
// the job status, `update-refused` with the attack name on the security
// stream) while telemetry keeps flowing. The repository is the dev cloud's
// own, changed between cases with the tuf-repo writer (its keys are beside
// it): a raised targets threshold, an expired timestamp, a snapshot that names
// a targets version the repository does not serve, a key revoked by a root
// rotation, and metadata that never ends (the dev cloud's endless fault).
//
// Order matters: each case leaves a repository the next one builds on, and
// each starts by showing that a well-signed target applies (so a refusal is
// the case's, not a repository the device could never read).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, MetadataKind, MetaFile, Snapshot, Timestamp } from '@tufjs/models';
import type { Scenario } from '../tools/vdevice/scenario.js';
import { TufRepo } from '../tools/tuf-repo/repo.js';
import { fileSigner } from '../tools/tuf-repo/keys.js';
import { configCustom, runJob, securityEvents, sha256Hex, telemetryCount, startUpdateScenario } from './harness/update-world.js';

const THING = `e2e-refusals-${process.pid}`;
const CONFIG = 'config/prod/vdevice/agent.json';
const enc = (s: string) => new TextEncoder().encode(s);

let s: Scenario;
let securityVersion = 0;

before(async () => {
  s = await startUpdateScenario({ thingName: THING, sampleIntervalMs: 500, fetchDeadlineMs: 3000 });
});

after(async () => {
  await s?.stop();
});

function writer(): TufRepo {
  const { dir, keysDir } = s.cloud.tuf.repo;
  return TufRepo.open(dir, { keysDir: keysDir! });
}

/** Stages the next config bundle (a new security version) without publishing. */
function stageConfig(w: TufRepo): void {
  securityVersion++;
  w.addTarget(CONFIG, enc(`{"sampleIntervalMs":${400 + securityVersion}}`), configCustom(securityVersion));
}

async function appliesWhenWellSigned(publish: (w: TufRepo) => void = (w) => w.publish()): Promise<void> {
  const w = writer();
  stageConfig(w);
  publish(w);
  const r = await runJob(s, [CONFIG]);
  assert.equal(r.status, 'SUCCEEDED', `a well-signed target applies: ${JSON.stringify(r)}`);
}

async function refused(code: string, attack: string): Promise<void> {
  const flowing = telemetryCount(s);
  const r = await runJob(s, [CONFIG]);
  assert.equal(r.status, 'REJECTED', JSON.stringify(r));
  assert.equal(r.statusDetails.code, code, JSON.stringify(r));
  await s.waitFor(
    () => securityEvents(s).some((e) => e.event === 'update-refused' && e.code === code && e.attack === true && e.attackName === attack && e.job === r.id),
    20_000,
    `update-refused ${code} (${attack}) on the security stream`,
  );
  await s.waitFor(() => telemetryCount(s) > flowing + 3, 20_000, 'telemetry still flowing');
}

test('signatures below the threshold: targets needs 2 of 2 keys, one signed: REJECTED unsigned (bad-signatures)', async () => {
  const w = writer();
  // Root 2: targets gets a second key and needs both.
  w.rotateRoot({ addKeys: [{ role: 'targets', type: 'ed25519' }], thresholds: { targets: 2 } });
  await appliesWhenWellSigned();
  const [only] = writer().root().signed.roles.targets!.keyIDs;
  const w2 = writer();
  stageConfig(w2);
  w2.publish({ signWith: { targets: [only!] } });
  await refused('unsigned', 'bad-signatures');
});

test('freeze: a timestamp published already expired: REJECTED expired (freeze)', async () => {
  await appliesWhenWellSigned();
  const w = writer();
  stageConfig(w);
  w.publish({ expiresSeconds: { timestamp: -3600 } });
  await refused('expired', 'freeze');
});

test('mix-and-match: a snapshot naming a targets version whose file holds another version: REJECTED version-mismatch (mix-and-match)', async () => {
  await appliesWhenWellSigned();
  const w = writer();
  const { dir, keysDir } = s.cloud.tuf.repo;
  const meta = join(dir, 'metadata');
  const old = w.targets();
  const oldVersion = old.signed.version;
  const snap = w.snapshot().signed;
  const ts = w.timestamp().signed;
  // targets N+1 "exists", but its file is targets N (validly signed, another version).
  const mixed = readFileSync(join(meta, `${oldVersion}.targets.json`));
  writeFileSync(join(meta, `${oldVersion + 1}.targets.json`), mixed);
  // Snapshot N+1 lists targets by version only (length and hashes are optional in TUF), so the mismatch is the version.
  const root = w.root().signed;
  const snapshot = new Metadata(new Snapshot({ version: snap.version + 1, specVersion: snap.specVersion, expires: snap.expires, meta: { 'targets.json': new MetaFile({ version: oldVersion + 1 }) } }));
  for (const k of root.roles.snapshot!.keyIDs) snapshot.sign(fileSigner(keysDir!, k));
  const snapshotBytes = Buffer.from(JSON.stringify(snapshot.toJSON(), null, 1) + '\n');
  writeFileSync(join(meta, `${snap.version + 1}.snapshot.json`), snapshotBytes);
  const timestamp = new Metadata(
    new Timestamp({ version: ts.version + 1, specVersion: ts.specVersion, expires: ts.expires, snapshotMeta: new MetaFile({ version: snap.version + 1, length: snapshotBytes.length, hashes: { sha256: sha256Hex(snapshotBytes) } }) }),
  );
  for (const k of root.roles.timestamp!.keyIDs) timestamp.sign(fileSigner(keysDir!, k));
  writeFileSync(join(meta, 'timestamp.json'), JSON.stringify(timestamp.toJSON(), null, 1) + '\n');
  assert.equal(Metadata.fromJSON(MetadataKind.Targets, JSON.parse(mixed.toString('utf8'))).signed.version, oldVersion);
  await refused('version-mismatch', 'mix-and-match');
});

test('a key revoked by a root rotation: targets signed by the revoked key and one valid key (2 needed): REJECTED unsigned (bad-signatures)', async () => {
  // The writer publishes over the mixed set: new targets, snapshot, timestamp (targets versions only go up).
  await appliesWhenWellSigned((w) => w.publish({ bump: ['targets', 'snapshot'] }));
  const before = writer().root().signed.roles.targets!.keyIDs;
  const revoked = before[0]!;
  writer().revokeKey(revoked, { replaceWith: 'ed25519' });
  const after = writer().root().signed.roles.targets!.keyIDs;
  assert.ok(!after.includes(revoked) && after.length === 2);
  // Root 3 reaches the device; targets signed by the two current keys apply.
  await appliesWhenWellSigned();
  const w = writer();
  stageConfig(w);
  const stillValid = after.find((k) => before.includes(k))!;
  w.publish({ signWith: { targets: [revoked, stillValid] } });
  await refused('unsigned', 'bad-signatures');
});

test('metadata over its bound (the dev cloud serves a timestamp that never ends): REJECTED over-limit (endless-data)', async () => {
  await appliesWhenWellSigned();
  s.cloud.setTufFault({ kind: 'endless', match: 'metadata/timestamp.json' });
  try {
    await refused('over-limit', 'endless-data');
  } finally {
    s.cloud.clearTufFaults();
  }
  await appliesWhenWellSigned();
});
