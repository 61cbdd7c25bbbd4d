// Host side of the update benchmark: the repository a refresh runs against,
// the verification vectors, and the refresh's floor, all made on Node.
//
// The refresh fixture is a repository written by tools/tuf-repo with a
// realistic key layout (REFRESH_LAYOUT, every key ecdsa-sha2-nistp256, the
// python-tuf simulator's default and a type the boards verify natively):
// the device holds version 2 of timestamp, snapshot and targets (3 targets);
// the repository then publishes version 3 of all three (a 4th target), root
// unchanged. The floor is derived here from the metadata itself, with the
// writer's canonical JSON (not the client's): which signatures a refresh
// must check and which bytes it must hash (see refreshFloor).
import { createHash, generateKeyPairSync, sign as nodeSign, constants as cryptoConstants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { canonicalJson } from '../tuf-repo/canonical-json.js';
import { TufRepo, type RoleSetup, type TopRole } from '../tuf-repo/repo.js';

/** Keys and thresholds of the refresh fixture: root 2-of-3, targets 2-of-3, one snapshot key, one timestamp key. */
export const REFRESH_LAYOUT: Readonly<Record<TopRole, { keys: number; threshold: number }>> = {
  root: { keys: 3, threshold: 2 },
  targets: { keys: 3, threshold: 2 },
  snapshot: { keys: 1, threshold: 1 },
  timestamp: { keys: 1, threshold: 1 },
};
export const REFRESH_KEY_TYPE = 'ecdsa-sha2-nistp256';
/** The repository's clock when it signs; the device's clock reads a minute later. */
export const FIXTURE_TIME_MS = Date.UTC(2026, 11, 1, 12, 0, 0);
export const DEVICE_TIME_MS = FIXTURE_TIME_MS + 60_000;
/** Bytes of the message signed by each verification vector (about a timestamp's signed part). */
export const VERIFY_MESSAGE_BYTES = 512;
export const RSA_VECTOR_BITS = 2048;

/** One signature check, as the verify port receives it. */
export interface Verification {
  /** What it is for (e.g. `timestamp v3`); not compared. */
  what: string;
  keytype: string;
  scheme: string;
  public: string;
  message: Uint8Array;
  sig: string;
}

export interface RefreshFixture {
  /** The device's trusted metadata before the refresh, by role (the MetadataStore's content). */
  trusted: Record<string, Uint8Array>;
  /** The repository's metadata directory after the new publish, by file name. */
  served: Record<string, Uint8Array>;
  deviceTimeMs: number;
  floor: { verifications: Verification[]; hashed: Array<{ what: string; bytes: Uint8Array }> };
  /** Sizes of the files the refresh fetches, for the report. */
  fetchedBytes: number;
}

interface FileJson {
  signed: Record<string, unknown> & { roles?: Record<string, { keyids: string[]; threshold: number }>; keys?: Record<string, { keytype: string; scheme: string; keyval: { public: string } }> };
  signatures: Array<{ keyid: string; sig: string }>;
}

function parse(bytes: Uint8Array): FileJson {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as FileJson;
}

/**
 * The signatures a file needs: the first `threshold` keys of the role, in
 * the role's key order, that signed it (each key once). Throws when the
 * file does not carry enough, so a broken fixture cannot shrink the floor.
 */
function thresholdOf(file: FileJson, root: FileJson, role: TopRole, what: string): Verification[] {
  const r = root.signed.roles![role]!;
  const message = Buffer.from(canonicalJson(file.signed), 'utf8');
  const out: Verification[] = [];
  for (const keyid of r.keyids) {
    if (out.length === r.threshold) break;
    const s = file.signatures.find((x) => x.keyid === keyid);
    const key = root.signed.keys![keyid];
    if (s === undefined || key === undefined) continue;
    out.push({ what: `${what} (${keyid.slice(0, 8)})`, keytype: key.keytype, scheme: key.scheme, public: key.keyval.public, message, sig: s.sig });
  }
  if (out.length !== r.threshold) throw new Error(`bench fixture: ${what} carries ${out.length} of ${r.threshold} signatures`);
  return out;
}

/**
 * What a refresh with no root change must do, by the specification and the
 * client's storage model (stored files are re-verified when loaded, since
 * flash is outside the trust boundary):
 * - the trusted root: a threshold of its own root keys (5.2);
 * - the stored timestamp and snapshot, which the rollback checks compare the
 *   new ones against (5.4.3, 5.5.5): their thresholds;
 * - the new timestamp, snapshot and targets: their thresholds;
 * - SHA-256 of the new snapshot and targets bytes (timestamp and snapshot
 *   list their hashes).
 * Not included: the stored targets file, which cannot be used once the new
 * snapshot names another version (checking its signatures is waste).
 */
export function refreshFloor(trusted: Record<string, Uint8Array>, served: Record<string, Uint8Array>, newFiles: { timestamp: string; snapshot: string; targets: string }): RefreshFixture['floor'] {
  const root = parse(trusted['root']!);
  const verifications = [
    ...thresholdOf(root, root, 'root', 'trusted root'),
    ...thresholdOf(parse(trusted['timestamp']!), root, 'timestamp', 'stored timestamp'),
    ...thresholdOf(parse(served[newFiles.timestamp]!), root, 'timestamp', 'new timestamp'),
    ...thresholdOf(parse(trusted['snapshot']!), root, 'snapshot', 'stored snapshot'),
    ...thresholdOf(parse(served[newFiles.snapshot]!), root, 'snapshot', 'new snapshot'),
    ...thresholdOf(parse(served[newFiles.targets]!), root, 'targets', 'new targets'),
  ];
  return {
    verifications,
    hashed: [
      { what: 'new snapshot', bytes: served[newFiles.snapshot]! },
      { what: 'new targets', bytes: served[newFiles.targets]! },
    ],
  };
}

function read(dir: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, 'metadata', name)));
}

function targetBytes(name: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const seed = createHash('sha256').update(name).digest();
  for (let i = 0; i < size; i++) out[i] = seed[i % seed.length]! ^ (i & 0xff);
  return out;
}

const CUSTOM = (kind: string, securityVersion: number): Record<string, unknown> => ({
  kind,
  channel: 'prod',
  hardwareModel: 'vdevice',
  securityVersion,
  provenance: { sourceRevision: '3843b6b0c5e1f7a2d9e4b6c8a1f3e5d7b9c2a4e6', builder: 'ci', pipelineRun: 1842 },
});

/** Writes the repository in a temporary directory (removed again) and returns the fixture. */
export function makeRefreshFixture(): RefreshFixture {
  const dir = mkdtempSync(join(tmpdir(), 'bench-update-'));
  try {
    let now = FIXTURE_TIME_MS;
    const roles: Partial<Record<TopRole, RoleSetup>> = {};
    for (const [role, l] of Object.entries(REFRESH_LAYOUT) as Array<[TopRole, { keys: number; threshold: number }]>) roles[role] = { keys: l.keys, threshold: l.threshold, keyType: REFRESH_KEY_TYPE };
    const repoDir = join(dir, 'repo');
    const repo = TufRepo.init(repoDir, { keysDir: join(dir, 'keys'), roles, consistentSnapshot: true, now: () => new Date(now) });
    repo.addTarget('firmware/prod/vdevice/agent-1.2.0.js', targetBytes('fw-1.2.0', 4096), CUSTOM('firmware', 3));
    repo.addTarget('config/prod/vdevice/agent.json', targetBytes('config-7', 512), CUSTOM('config', 7));
    repo.addTarget('config/beta/vdevice/agent.json', targetBytes('config-beta-8', 512), CUSTOM('config', 8));
    repo.publish();
    const before = repo.status().versions;
    const trusted: Record<string, Uint8Array> = {
      root: read(repoDir, 'root.json'),
      timestamp: read(repoDir, 'timestamp.json'),
      snapshot: read(repoDir, `${before.snapshot}.snapshot.json`),
      targets: read(repoDir, `${before.targets}.targets.json`),
    };
    now += 3_600_000;
    repo.addTarget('firmware/prod/vdevice/agent-1.3.0.js', targetBytes('fw-1.3.0', 4096), CUSTOM('firmware', 4));
    repo.publish();
    const after = repo.status().versions;
    if (after.root !== before.root || after.timestamp <= before.timestamp || after.snapshot <= before.snapshot || after.targets <= before.targets) {
      throw new Error('bench fixture: the second publish did not give new timestamp, snapshot and targets with the same root');
    }
    const newFiles = { timestamp: 'timestamp.json', snapshot: `${after.snapshot}.snapshot.json`, targets: `${after.targets}.targets.json` };
    const served: Record<string, Uint8Array> = {};
    for (const name of Object.values(newFiles)) served[name] = read(repoDir, name);
    return {
      trusted,
      served,
      deviceTimeMs: now + 60_000,
      floor: refreshFloor(trusted, served, newFiles),
      fetchedBytes: Object.values(served).reduce((n, b) => n + b.length, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * One signature per key type over the same message. P-256 and Ed25519 keys
 * come from fixed secrets (deterministic signatures: the counts repeat run
 * after run); the RSA key is fresh each run (its cost does not depend on the
 * key's bits: the meter counts BigInt operations, not limbs).
 */
export function verifyVectors(): Record<'p256' | 'ed25519' | 'rsa', Verification> {
  const message = new Uint8Array(VERIFY_MESSAGE_BYTES);
  for (let i = 0; i < message.length; i++) message[i] = 0x20 + (i % 95);
  const p256Secret = createHash('sha256').update('bench update p256 key').digest();
  const p256Public = Buffer.from(p256.getPublicKey(p256Secret, false));
  // SPKI for an uncompressed P-256 point: the fixed DER prefix, then the point.
  const spki = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), p256Public]);
  const p256Sig = p256.sign(message, p256Secret, { format: 'der', prehash: true });
  const edSecret = createHash('sha256').update('bench update ed25519 key').digest();
  const rsa = generateKeyPairSync('rsa', { modulusLength: RSA_VECTOR_BITS });
  const rsaSig = nodeSign('sha256', message, { key: rsa.privateKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return {
    p256: { what: 'ecdsa-sha2-nistp256', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', public: pem(spki), message, sig: hex(p256Sig) },
    ed25519: { what: 'ed25519', keytype: 'ed25519', scheme: 'ed25519', public: hex(ed25519.getPublicKey(edSecret)), message, sig: hex(ed25519.sign(message, edSecret)) },
    rsa: { what: 'rsassa-pss-sha256, RSA-2048', keytype: 'rsa', scheme: 'rsassa-pss-sha256', public: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), message, sig: hex(rsaSig) },
  };
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PUBLIC KEY-----\n${b64.endsWith('\n') ? b64 : `${b64}\n`}-----END PUBLIC KEY-----\n`;
}
