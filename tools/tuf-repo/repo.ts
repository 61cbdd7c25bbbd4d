// A TUF 1.0 repository writer for tests and the dev cloud, on @tufjs/models.
//
// Layout under the repository directory (what python-tuf's ngclient and the
// spec's consistent-snapshot rules expect):
//   metadata/N.root.json, metadata/root.json (a copy of the newest root)
//   metadata/N.targets.json, N.snapshot.json (consistent) or targets.json, snapshot.json
//   metadata/timestamp.json
//   targets/<dir>/<sha256>.<basename> (consistent) or targets/<path>
//   tuf-repo.json   writer state: expiry policy, staged targets (never served)
//   staging/        staged target contents by SHA-256 (never served)
// Private keys live only in the caller's keys directory (keys.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { Metadata, MetaFile, MetadataKind, Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { TufRepoError } from './errors.js';
import { fileSigner, generateKey, hasKeyFile, keyIdOf, type KeySource, type KeyType, type MetadataSigner, type PublicKeyJson } from './keys.js';

export const TOP_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TopRole = (typeof TOP_ROLES)[number];

/** The TUF specification version written into every file. */
export const SPEC_VERSION = '1.0.31';

const DAY = 86_400;
/** Default lifetimes in seconds: long for offline roles, short for online ones. */
export const DEFAULT_EXPIRES_SECONDS: Readonly<Record<TopRole, number>> = { root: 365 * DAY, targets: 90 * DAY, snapshot: 7 * DAY, timestamp: DAY };

/** Target names are relative paths that stay inside targets/: no empty, `.` or `..` segment, no backslash or NUL. */
function isTargetName(name: string): boolean {
  return name.length > 0 && !/[\\\0]/.test(name) && name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export interface RoleSetup {
  /** Keys to generate for the role (default 1). */
  keys?: number;
  /** Signatures required (default 1). */
  threshold?: number;
  keyType?: KeyType;
  /** Use these public keys (held elsewhere, e.g. in tokens) instead of generating `keys` key files. */
  publicKeys?: PublicKeyJson[];
}

export interface InitOptions {
  keysDir: string;
  keySource?: KeySource;
  roles?: Partial<Record<TopRole, RoleSetup>>;
  consistentSnapshot?: boolean;
  expiresSeconds?: Partial<Record<TopRole, number>>;
  now?: () => Date;
}

export interface OpenOptions {
  keysDir: string;
  /** Asked before the keys directory for every signature. */
  keySource?: KeySource;
  now?: () => Date;
}

export interface PublishOptions {
  /** Sign a role with exactly these keys (even untrusted ones or below threshold: for negative tests). */
  signWith?: Partial<Record<Exclude<TopRole, 'root'>, string[]>>;
  /** Lifetimes for this publish only. */
  expiresSeconds?: Partial<Record<TopRole, number>>;
  /** Roles to give a new version even if nothing changed (timestamp always gets one). */
  bump?: Array<'targets' | 'snapshot'>;
}

export interface RotateRootOptions {
  /** A key to generate (`type`) or a public key held elsewhere (`pub`, signed for through the key source). */
  addKeys?: Array<{ role: TopRole; type: KeyType } | { role: TopRole; pub: PublicKeyJson }>;
  /** Remove a key from one role, or from every role when `role` is absent. */
  removeKeys?: Array<{ keyid: string; role?: TopRole }>;
  thresholds?: Partial<Record<TopRole, number>>;
  consistentSnapshot?: boolean;
  expiresSeconds?: number;
  /** Sign the new root with exactly these keys instead of every available old and new root key. */
  signWith?: string[];
  /** Keys never used to sign (revoked ones). */
  doNotSignWith?: string[];
  /** Re-sign and publish the other roles afterwards (default true). */
  publish?: boolean;
}

export interface RevokeKeyOptions {
  role?: TopRole;
  /** Add a fresh key of this type to each role the revoked key leaves. */
  replaceWith?: KeyType;
  thresholds?: Partial<Record<TopRole, number>>;
  signWith?: string[];
  publish?: boolean;
}

interface StagedTarget {
  length: number;
  sha256: string;
  custom?: Record<string, unknown>;
}

interface WriterState {
  format: 1;
  expiresSeconds: Record<TopRole, number>;
  targets: Record<string, StagedTarget>;
  /** Roles whose next publish needs a new version (targets changed, keys changed). */
  pending: TopRole[];
}

export interface RepoStatus {
  versions: Record<TopRole, number>;
  consistentSnapshot: boolean;
  roles: Record<TopRole, { threshold: number; keyids: string[] }>;
  targets: Record<string, StagedTarget>;
}

/** `2030-01-02T03:04:05Z`: whole seconds, the form python-tuf parses. */
export function tufTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function serialize(md: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer {
  return Buffer.from(JSON.stringify(md.toJSON(), null, 1) + '\n');
}

/** Where a consistent-snapshot client fetches a target: the hash prefixes the last path segment. */
export function targetFilePath(name: string, sha256: string, consistent: boolean): string {
  if (!consistent) return name;
  const dir = posix.dirname(name);
  const base = posix.basename(name);
  return dir === '.' ? `${sha256}.${base}` : `${dir}/${sha256}.${base}`;
}

interface RootContent {
  version: number;
  expires: string;
  consistentSnapshot: boolean;
  keys: Record<string, PublicKeyJson>;
  roles: Record<TopRole, { keyids: string[]; threshold: number }>;
}

/** Through fromJSON: the package exports no Role class to build roles with. */
function makeRoot(c: RootContent): Root {
  const roles: Record<string, { keyids: string[]; threshold: number }> = {};
  for (const r of TOP_ROLES) roles[r] = { keyids: c.roles[r].keyids, threshold: c.roles[r].threshold };
  return Root.fromJSON({
    _type: 'root',
    spec_version: SPEC_VERSION,
    version: c.version,
    expires: c.expires,
    consistent_snapshot: c.consistentSnapshot,
    keys: c.keys as never,
    roles,
  });
}

export class TufRepo {
  private readonly keysDir: string;
  private readonly keySource: KeySource | undefined;
  private readonly now: () => Date;

  private constructor(
    readonly dir: string,
    opts: OpenOptions,
  ) {
    this.keysDir = opts.keysDir;
    this.keySource = opts.keySource;
    this.now = opts.now ?? (() => new Date());
  }

  get metadataDir(): string {
    return join(this.dir, 'metadata');
  }

  get targetsDir(): string {
    return join(this.dir, 'targets');
  }

  /** Creates keys and version 1 of every role (an empty targets role), published. */
  static init(dir: string, opts: InitOptions): TufRepo {
    if (existsSync(join(dir, 'tuf-repo.json')) || existsSync(join(dir, 'metadata', 'root.json'))) {
      throw new TufRepoError('exists', `${dir} already holds a repository`);
    }
    const repo = new TufRepo(dir, opts);
    const content: RootContent = {
      version: 1,
      expires: repo.expiry(opts.expiresSeconds?.root ?? DEFAULT_EXPIRES_SECONDS.root),
      consistentSnapshot: opts.consistentSnapshot ?? true,
      keys: {},
      roles: {} as RootContent['roles'],
    };
    for (const role of TOP_ROLES) {
      const setup = opts.roles?.[role] ?? {};
      const count = setup.publicKeys?.length ?? setup.keys ?? 1;
      const threshold = setup.threshold ?? 1;
      if (!Number.isSafeInteger(count) || count < 1) throw new TufRepoError('bad-input', `${role}: key count must be at least 1`);
      if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > count) {
        throw new TufRepoError('threshold', `${role}: threshold ${threshold} needs 1..${count} keys`);
      }
      const keyids: string[] = [];
      for (let i = 0; i < count; i++) {
        const given = setup.publicKeys?.[i];
        const { keyid, pub } = given ? { keyid: keyIdOf(given), pub: given } : generateKey(opts.keysDir, setup.keyType ?? 'ed25519');
        content.keys[keyid] = pub;
        if (!keyids.includes(keyid)) keyids.push(keyid);
      }
      content.roles[role] = { keyids, threshold };
    }
    const root = makeRoot(content);
    const state: WriterState = {
      format: 1,
      expiresSeconds: { ...DEFAULT_EXPIRES_SECONDS, ...opts.expiresSeconds },
      targets: {},
      pending: ['targets', 'snapshot'],
    };
    mkdirSync(repo.metadataDir, { recursive: true });
    mkdirSync(repo.targetsDir, { recursive: true });
    repo.saveState(state);
    const md = new Metadata(root);
    repo.signAll(md, root.roles.root!.keyIDs);
    repo.writeRoot(md);
    repo.publish();
    return repo;
  }

  static open(dir: string, opts: OpenOptions): TufRepo {
    if (!existsSync(join(dir, 'tuf-repo.json')) || !existsSync(join(dir, 'metadata', 'root.json'))) {
      throw new TufRepoError('no-repo', `${dir} holds no repository written by tuf-repo (run init)`);
    }
    return new TufRepo(dir, opts);
  }

  /** The newest root. */
  root(): Metadata<Root> {
    return Metadata.fromJSON(MetadataKind.Root, this.readJson('root.json'));
  }

  timestamp(): Metadata<Timestamp> {
    return Metadata.fromJSON(MetadataKind.Timestamp, this.readJson('timestamp.json'));
  }

  snapshot(): Metadata<Snapshot> {
    const root = this.root().signed;
    const v = this.timestamp().signed.snapshotMeta.version;
    return Metadata.fromJSON(MetadataKind.Snapshot, this.readJson(root.consistentSnapshot ? `${v}.snapshot.json` : 'snapshot.json'));
  }

  targets(): Metadata<Targets> {
    const root = this.root().signed;
    const v = this.snapshot().signed.meta['targets.json']!.version;
    return Metadata.fromJSON(MetadataKind.Targets, this.readJson(root.consistentSnapshot ? `${v}.targets.json` : 'targets.json'));
  }

  status(): RepoStatus {
    const root = this.root().signed;
    const roles = {} as RepoStatus['roles'];
    for (const r of TOP_ROLES) roles[r] = { threshold: root.roles[r]!.threshold, keyids: [...root.roles[r]!.keyIDs] };
    return {
      versions: {
        root: root.version,
        timestamp: this.timestamp().signed.version,
        snapshot: this.snapshot().signed.version,
        targets: this.targets().signed.version,
      },
      consistentSnapshot: root.consistentSnapshot,
      roles,
      targets: this.loadState().targets,
    };
  }

  /** Stages a target (replacing one of the same name); `publish` signs it in. */
  addTarget(name: string, content: Uint8Array, custom?: Record<string, unknown>): StagedTarget {
    if (!isTargetName(name)) throw new TufRepoError('bad-input', `bad target name ${JSON.stringify(name)}`);
    if (custom !== undefined && (custom === null || typeof custom !== 'object' || Array.isArray(custom))) {
      throw new TufRepoError('bad-input', 'custom must be a JSON object');
    }
    const sha256 = sha256Hex(content);
    writeAtomic(join(this.dir, 'staging', sha256), content);
    const state = this.loadState();
    const staged: StagedTarget = custom === undefined ? { length: content.length, sha256 } : { length: content.length, sha256, custom };
    state.targets[name] = staged;
    this.markPending(state, 'targets');
    this.saveState(state);
    return staged;
  }

  removeTarget(name: string): void {
    const state = this.loadState();
    if (!(name in state.targets)) throw new TufRepoError('bad-input', `no target ${JSON.stringify(name)}`);
    delete state.targets[name];
    this.markPending(state, 'targets');
    this.saveState(state);
  }

  /** Sets the lifetimes later publishes use. */
  setExpiry(seconds: Partial<Record<TopRole, number>>): void {
    const state = this.loadState();
    state.expiresSeconds = { ...state.expiresSeconds, ...seconds };
    this.saveState(state);
  }

  /**
   * New versions of targets (when staged targets or its keys changed), snapshot (when targets
   * did) and timestamp (always), signed by the role's keys that have files in the keys dir.
   */
  publish(opts: PublishOptions = {}): Record<'targets' | 'snapshot' | 'timestamp', number> {
    return this.publishWith(opts, undefined);
  }

  /**
   * Publishes targets metadata signed elsewhere (e.g. approvals collected one by one), then
   * snapshot and timestamp. Refused unless it is the next version and a threshold of the
   * current root's targets keys signed it, and unless `contents` (or what is staged) holds
   * bytes of the right length and SHA-256 for every target it lists.
   */
  publishTargets(md: Metadata<Targets>, contents: Record<string, Uint8Array> = {}): Record<'targets' | 'snapshot' | 'timestamp', number> {
    const rootMd = this.root();
    const current = this.targets().signed.version;
    if (md.signed.version !== current + 1) throw new TufRepoError('bad-input', `targets version ${md.signed.version} is not the next one (${current + 1})`);
    try {
      rootMd.verifyDelegate('targets', md);
    } catch (e) {
      throw new TufRepoError('threshold', `targets ${md.signed.version}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const state = this.loadState();
    const staged: Record<string, StagedTarget> = {};
    for (const [name, t] of Object.entries(md.signed.targets)) {
      if (!isTargetName(name)) throw new TufRepoError('bad-input', `bad target name ${JSON.stringify(name)}`);
      const sha256 = t.hashes['sha256'];
      if (!sha256) throw new TufRepoError('bad-input', `${name}: no sha256 hash`);
      const given = contents[name];
      const blob = given ?? (existsSync(join(this.dir, 'staging', sha256)) ? readFileSync(join(this.dir, 'staging', sha256)) : undefined);
      if (!blob || blob.length !== t.length || sha256Hex(blob) !== sha256) throw new TufRepoError('bad-input', `${name}: no content of length ${t.length} and sha256 ${sha256}`);
      if (given) writeAtomic(join(this.dir, 'staging', sha256), given);
      const custom = t.unrecognizedFields['custom'] as Record<string, unknown> | undefined;
      staged[name] = custom === undefined ? { length: t.length, sha256 } : { length: t.length, sha256, custom };
    }
    state.targets = staged;
    state.pending = state.pending.filter((r) => r !== 'targets');
    this.saveState(state);
    return this.publishWith({}, md);
  }

  private publishWith(opts: PublishOptions, signedTargets: Metadata<Targets> | undefined): Record<'targets' | 'snapshot' | 'timestamp', number> {
    const state = this.loadState();
    const root = this.root().signed;
    const expires = { ...state.expiresSeconds, ...opts.expiresSeconds };
    const consistent = root.consistentSnapshot;
    const hasPublished = existsSync(join(this.metadataDir, 'timestamp.json'));
    const bump = new Set<TopRole>([...state.pending, ...(opts.bump ?? [])]);
    if (opts.signWith?.targets) bump.add('targets');
    if (bump.has('targets') || opts.signWith?.snapshot) bump.add('snapshot');

    let targetsMeta: MetaFile;
    let snapshotMeta: MetaFile;
    if (signedTargets) {
      bump.add('snapshot');
      for (const [name, t] of Object.entries(state.targets)) {
        const blob = readFileSync(join(this.dir, 'staging', t.sha256));
        writeAtomic(join(this.targetsDir, ...targetFilePath(name, t.sha256, consistent).split('/')), blob);
      }
      targetsMeta = this.writeVersioned('targets', signedTargets.signed.version, serialize(signedTargets), consistent);
    } else if (bump.has('targets') || !hasPublished) {
      const version = hasPublished ? this.targets().signed.version + 1 : 1;
      const targets = new Targets({ version, specVersion: SPEC_VERSION, expires: this.expiry(expires.targets) });
      for (const [name, t] of Object.entries(state.targets)) {
        const blob = readFileSync(join(this.dir, 'staging', t.sha256));
        writeAtomic(join(this.targetsDir, ...targetFilePath(name, t.sha256, consistent).split('/')), blob);
        targets.addTarget(
          new TargetFile({ length: t.length, path: name, hashes: { sha256: t.sha256 }, unrecognizedFields: t.custom ? { custom: t.custom as never } : {} }),
        );
      }
      const md = new Metadata(targets);
      this.signAll(md, opts.signWith?.targets ?? this.availableKeys(root, 'targets'));
      targetsMeta = this.writeVersioned('targets', version, serialize(md), consistent);
    } else {
      const current = this.targets();
      const bytes = this.readBytes(consistent ? `${current.signed.version}.targets.json` : 'targets.json');
      targetsMeta = this.metaFile(current.signed.version, bytes);
    }

    if (bump.has('snapshot') || !hasPublished) {
      const version = hasPublished ? this.snapshot().signed.version + 1 : 1;
      const snapshot = new Snapshot({ version, specVersion: SPEC_VERSION, expires: this.expiry(expires.snapshot), meta: { 'targets.json': targetsMeta } });
      const md = new Metadata(snapshot);
      this.signAll(md, opts.signWith?.snapshot ?? this.availableKeys(root, 'snapshot'));
      snapshotMeta = this.writeVersioned('snapshot', version, serialize(md), consistent);
    } else {
      const current = this.snapshot();
      snapshotMeta = this.metaFile(current.signed.version, this.readBytes(consistent ? `${current.signed.version}.snapshot.json` : 'snapshot.json'));
    }

    const tsVersion = hasPublished ? this.timestamp().signed.version + 1 : 1;
    const timestamp = new Timestamp({ version: tsVersion, specVersion: SPEC_VERSION, expires: this.expiry(expires.timestamp), snapshotMeta });
    const tsMd = new Metadata(timestamp);
    this.signAll(tsMd, opts.signWith?.timestamp ?? this.availableKeys(root, 'timestamp'));
    // Written last: until it lands, clients see the previous complete set.
    writeAtomic(join(this.metadataDir, 'timestamp.json'), serialize(tsMd));

    state.pending = [];
    this.saveState(state);
    return { targets: targetsMeta.version, snapshot: snapshotMeta.version, timestamp: tsVersion };
  }

  /**
   * Root version N+1, signed by a threshold of root N's keys and of N+1's (spec 5.3.4), then
   * (unless `publish: false`) new versions of the roles whose keys changed.
   */
  rotateRoot(opts: RotateRootOptions = {}): { version: number; added: Array<{ role: TopRole; keyid: string }> } {
    const old = this.root().signed;
    const roles: Record<string, { keyids: string[]; threshold: number }> = {};
    for (const r of TOP_ROLES) roles[r] = { keyids: [...old.roles[r]!.keyIDs], threshold: old.roles[r]!.threshold };
    const keys: Record<string, PublicKeyJson> = {};
    for (const [k, key] of Object.entries(old.keys)) keys[k] = key.toJSON() as unknown as PublicKeyJson;

    for (const { keyid, role } of opts.removeKeys ?? []) {
      const from = role ? [role] : TOP_ROLES.filter((r) => roles[r]!.keyids.includes(keyid));
      if (from.length === 0 || from.some((r) => !roles[r]!.keyids.includes(keyid))) {
        throw new TufRepoError('unknown-key', `key ${keyid} is not in ${role ?? 'any role'}`);
      }
      for (const r of from) roles[r]!.keyids = roles[r]!.keyids.filter((k) => k !== keyid);
    }
    const added: Array<{ role: TopRole; keyid: string }> = [];
    for (const add of opts.addKeys ?? []) {
      const { role } = add;
      const { keyid, pub } = 'pub' in add ? { keyid: keyIdOf(add.pub), pub: add.pub } : generateKey(this.keysDir, add.type);
      if (roles[role]!.keyids.includes(keyid)) throw new TufRepoError('bad-input', `key ${keyid} is already in ${role}`);
      keys[keyid] = pub;
      roles[role]!.keyids.push(keyid);
      added.push({ role, keyid });
    }
    for (const [r, t] of Object.entries(opts.thresholds ?? {})) roles[r]!.threshold = t;
    for (const r of TOP_ROLES) {
      const { keyids, threshold } = roles[r]!;
      if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > keyids.length) {
        throw new TufRepoError('threshold', `${r}: threshold ${threshold} with ${keyids.length} keys left`);
      }
    }
    const used = new Set(TOP_ROLES.flatMap((r) => roles[r]!.keyids));
    for (const k of Object.keys(keys)) if (!used.has(k)) delete keys[k];

    const root = makeRoot({
      version: old.version + 1,
      expires: this.expiry(opts.expiresSeconds ?? this.loadState().expiresSeconds.root),
      consistentSnapshot: opts.consistentSnapshot ?? old.consistentSnapshot,
      keys,
      roles: roles as RootContent['roles'],
    });

    let signers = opts.signWith;
    if (!signers) {
      const excluded = new Set(opts.doNotSignWith ?? []);
      const candidates = [...new Set([...old.roles.root!.keyIDs, ...roles.root!.keyids])];
      signers = candidates.filter((k) => !excluded.has(k) && this.hasKey(k));
      const oldCount = signers.filter((k) => old.roles.root!.keyIDs.includes(k)).length;
      const newCount = signers.filter((k) => roles.root!.keyids.includes(k)).length;
      if (oldCount < old.roles.root!.threshold || newCount < roles.root!.threshold) {
        throw new TufRepoError(
          'threshold',
          `root ${root.version} needs ${old.roles.root!.threshold} signature(s) of root ${old.version}'s keys and ${roles.root!.threshold} of its own; key files give ${oldCount} and ${newCount}`,
        );
      }
    }
    const md = new Metadata(root);
    for (const k of signers) md.sign(this.signerFor(k));
    this.writeRoot(md);

    const state = this.loadState();
    for (const r of ['targets', 'snapshot'] as const) {
      const before = old.roles[r]!;
      const after = root.roles[r]!;
      if (before.threshold !== after.threshold || before.keyIDs.join() !== after.keyIDs.join()) this.markPending(state, r);
    }
    this.saveState(state);
    if (opts.publish ?? true) this.publish();
    return { version: root.version, added };
  }

  /** Removes a key from its role(s) in a new root, never signing with it; optionally replaces it. */
  revokeKey(keyid: string, opts: RevokeKeyOptions = {}): { version: number; added: Array<{ role: TopRole; keyid: string }> } {
    const old = this.root().signed;
    const from = opts.role ? [opts.role] : TOP_ROLES.filter((r) => old.roles[r]!.keyIDs.includes(keyid));
    if (from.length === 0) throw new TufRepoError('unknown-key', `key ${keyid} is in no role`);
    const rotate: RotateRootOptions = {
      removeKeys: from.map((role) => ({ keyid, role })),
      addKeys: opts.replaceWith ? from.map((role) => ({ role, type: opts.replaceWith! })) : [],
      doNotSignWith: [keyid],
    };
    if (opts.thresholds) rotate.thresholds = opts.thresholds;
    if (opts.signWith) rotate.signWith = opts.signWith;
    if (opts.publish !== undefined) rotate.publish = opts.publish;
    return this.rotateRoot(rotate);
  }

  // --- internals ---

  private expiry(seconds: number): string {
    if (!Number.isSafeInteger(seconds)) throw new TufRepoError('bad-input', `lifetime must be whole seconds, not ${seconds}`);
    return tufTime(new Date(Math.floor(this.now().getTime() / 1000) * 1000 + seconds * 1000));
  }

  private availableKeys(root: Root, role: TopRole): string[] {
    const r = root.roles[role]!;
    const have = r.keyIDs.filter((k) => this.hasKey(k));
    if (have.length < r.threshold) {
      throw new TufRepoError('threshold', `${role} needs ${r.threshold} signature(s); the keys dir has ${have.length} of its keys`);
    }
    return have;
  }

  private signAll(md: Metadata<Root | Targets | Snapshot | Timestamp>, keyids: string[]): void {
    if (keyids.length === 0) throw new TufRepoError('no-key', 'no key to sign with');
    for (const k of keyids) md.sign(this.signerFor(k));
  }

  private hasKey(keyid: string): boolean {
    return this.keySource?.signer(keyid) !== undefined || hasKeyFile(this.keysDir, keyid);
  }

  private signerFor(keyid: string): MetadataSigner {
    return this.keySource?.signer(keyid) ?? fileSigner(this.keysDir, keyid);
  }

  private writeRoot(md: Metadata<Root>): void {
    const bytes = serialize(md);
    writeAtomic(join(this.metadataDir, `${md.signed.version}.root.json`), bytes);
    writeAtomic(join(this.metadataDir, 'root.json'), bytes);
  }

  private writeVersioned(role: 'targets' | 'snapshot', version: number, bytes: Buffer, consistent: boolean): MetaFile {
    if (consistent) writeAtomic(join(this.metadataDir, `${version}.${role}.json`), bytes);
    writeAtomic(join(this.metadataDir, `${role}.json`), bytes);
    return this.metaFile(version, bytes);
  }

  private metaFile(version: number, bytes: Buffer): MetaFile {
    return new MetaFile({ version, length: bytes.length, hashes: { sha256: sha256Hex(bytes) } });
  }

  private readBytes(name: string): Buffer {
    return readFileSync(join(this.metadataDir, name));
  }

  private readJson(name: string): Parameters<typeof Metadata.fromJSON>[1] {
    return JSON.parse(this.readBytes(name).toString('utf8'));
  }

  private markPending(state: WriterState, role: TopRole): void {
    if (!state.pending.includes(role)) state.pending.push(role);
  }

  private loadState(): WriterState {
    return JSON.parse(readFileSync(join(this.dir, 'tuf-repo.json'), 'utf8')) as WriterState;
  }

  private saveState(state: WriterState): void {
    writeAtomic(join(this.dir, 'tuf-repo.json'), JSON.stringify(state, null, 2) + '\n');
  }
}

