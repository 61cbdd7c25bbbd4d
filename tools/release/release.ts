// Release signing as a governed act, on the TUF writer (tools/tuf-repo): root
// and targets (= release approver) keys live in PKCS#11 tokens, one per person;
// an approval IS the approver's signature over the exact next targets metadata
// of one request, so the targets threshold devices enforce is the approval rule.
// The tool adds what a device cannot check: no self-approval, approvals valid
// only for a short window, a log of everything.
//
// State directory:
//   release.json      key registry (role, holder, token, object ID, public key), policy
//   repo/             the TUF repository (serve repo/metadata and repo/targets)
//   online-keys/      snapshot and timestamp key files (online roles; the dev cloud's signer)
//   requests/ID.json  a request: artifact hash, fields, provenance, the targets metadata to sign
//   requests/ID.bin   the artifact bytes
//   approvals/ID/KEYID.json   one approval: TUF signature plus a signed approval statement
//   audit.jsonl       the audit log (audit.ts)
//   published-targets.json  the targets metadata this tool last published (the base of the next request)
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Metadata, MetadataKind, Targets, TargetFile } from '@tufjs/models';
import { canonicalJson } from '../tuf-repo/canonical-json.js';
import { type KeySource, type MetadataSigner, type PublicKeyJson } from '../tuf-repo/keys.js';
import { tufTime, TufRepo } from '../tuf-repo/repo.js';
import { AuditLog, type AuditFields } from './audit.js';
import { ReleaseError } from './errors.js';
import { Pkcs11Tool, verifyEcdsa, type TokenKeyRef } from './token.js';

export const KINDS = ['firmware', 'config'] as const;
export type Kind = (typeof KINDS)[number];

/** How long an approval counts (just-in-time), unless the ceremony set another window. */
export const DEFAULT_APPROVAL_WINDOW_SECONDS = 3600;
/** Lifetime of each new targets version. */
export const DEFAULT_TARGETS_EXPIRES_SECONDS = 90 * 86_400;
/** Largest artifact and provenance file accepted. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
export const MAX_PROVENANCE_BYTES = 16 * 1024;

export type KeyRole = 'root' | 'targets' | 'audit';

export interface RegisteredKey {
  role: KeyRole;
  /** The person (or, for audit, the tool) who holds the token. */
  holder: string;
  ref: TokenKeyRef;
  pub: PublicKeyJson;
  revoked?: string;
}

interface ReleaseConfig {
  format: 1;
  approvalWindowSeconds: number;
  targetsExpiresSeconds: number;
  auditKey: string;
  keys: Record<string, RegisteredKey>;
}

export interface ReleaseRequest {
  id: string;
  requester: string;
  requestedAt: string;
  name: string;
  kind: Kind;
  channel: string;
  hardware: string;
  securityVersion: number;
  artifact: { sha256: string; length: number; file: string };
  provenance?: { sha256: string; fields: Record<string, unknown> };
  baseTargetsVersion: number;
  /**
   * The repository's current targets when it is not what this tool last published (written around
   * the tool, e.g. with a stolen key): its content is left out of this request, only its version is passed.
   */
  foreignTargets?: { version: number; signedSha256: string };
  /** The `signed` part of the targets metadata every approver signs, byte for byte. */
  targets: Record<string, unknown>;
}

interface Approval {
  statement: { request: string; requestSha256: string; keyid: string; approver: string; approvedAt: string; validUntil: string };
  /** DER hex by the approver's key over the canonical statement. */
  statementSig: string;
  /** The TUF signature over the request's targets metadata. */
  tufSig: string;
}

export interface Env {
  [name: string]: string | undefined;
}

export interface ReleaseDeps {
  now?: () => Date;
  env?: Env;
  module?: string;
  /** Lines shown to a person (what is being approved). */
  show?: (line: string) => void;
}

/** PIN source for a token: env RELEASE_PIN_<LABEL> (upper case, other characters as _) or file $RELEASE_PIN_DIR/<label>. */
export function pinEnvName(token: string): string {
  return `RELEASE_PIN_${token.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function sha256Hex(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

function writeJson(path: string, value: unknown, flag: 'w' | 'wx' = 'w'): void {
  mkdirSync(join(path, '..'), { recursive: true });
  if (flag === 'wx') {
    writeFileSync(path, JSON.stringify(value, null, 2) + '\n', { flag: 'wx' });
    return;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function checkWord(s: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s)) throw new ReleaseError('bad-input', `bad ${what} ${JSON.stringify(s)}`);
  return s;
}

export interface CeremonyOptions {
  actor: string;
  rootTokens: string[];
  rootThreshold: number;
  approvers: Array<{ name: string; token: string }>;
  targetsThreshold: number;
  auditToken: string;
  approvalWindowSeconds?: number;
  targetsExpiresSeconds?: number;
}

export interface RequestOptions {
  artifact: string;
  kind: string;
  channel: string;
  hardware: string;
  securityVersion: number;
  provenance?: string;
  requester: string;
  name?: string;
}

export class Release {
  readonly token: Pkcs11Tool;
  private readonly now: () => Date;
  private readonly env: Env;
  private readonly show: (line: string) => void;

  private constructor(
    readonly dir: string,
    private config: ReleaseConfig,
    deps: ReleaseDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.env = deps.env ?? process.env;
    this.token = new Pkcs11Tool(deps.module ?? this.env['RELEASE_PKCS11_MODULE'] ?? undefined, this.env as NodeJS.ProcessEnv);
    this.show = deps.show ?? (() => {});
  }

  get repoDir(): string {
    return join(this.dir, 'repo');
  }

  get auditPath(): string {
    return join(this.dir, 'audit.jsonl');
  }

  get auditPub(): PublicKeyJson {
    return this.config.keys[this.config.auditKey]!.pub;
  }

  keys(): Record<string, RegisteredKey> {
    return this.config.keys;
  }

  /** The first key ceremony: audit key, root keys, approver keys in their tokens; root 1 signed by every root key. */
  static init(dir: string, o: CeremonyOptions, deps: ReleaseDeps = {}): Release {
    if (existsSync(join(dir, 'release.json'))) throw new ReleaseError('exists', `${dir} already holds a release state`);
    if (o.rootTokens.length < o.rootThreshold || o.rootThreshold < 1) throw new ReleaseError('bad-input', `root threshold ${o.rootThreshold} needs as many root tokens`);
    if (o.approvers.length < o.targetsThreshold || o.targetsThreshold < 1) throw new ReleaseError('bad-input', `targets threshold ${o.targetsThreshold} needs as many approvers`);
    const tokens = [o.auditToken, ...o.rootTokens, ...o.approvers.map((a) => a.token)];
    if (new Set(tokens).size !== tokens.length) throw new ReleaseError('bad-input', 'every key needs its own token: a token is named twice');
    if (new Set(o.approvers.map((a) => a.name)).size !== o.approvers.length) throw new ReleaseError('bad-input', 'an approver is named twice');
    mkdirSync(dir, { recursive: true });
    const config: ReleaseConfig = {
      format: 1,
      approvalWindowSeconds: o.approvalWindowSeconds ?? DEFAULT_APPROVAL_WINDOW_SECONDS,
      targetsExpiresSeconds: o.targetsExpiresSeconds ?? DEFAULT_TARGETS_EXPIRES_SECONDS,
      auditKey: '',
      keys: {},
    };
    const rel = new Release(dir, config, deps);
    const audit = rel.generate('audit', 'release-tool', o.auditToken, 'release-audit');
    config.auditKey = audit;
    rel.save();
    rel.log({ event: 'key-generated', actor: o.actor, outcome: 'ok', keyid: audit, detail: { role: 'audit', token: o.auditToken } });
    const rootKeys = o.rootTokens.map((t) => rel.generateLogged('root', t, t, 'release-root', o.actor));
    const targetKeys = o.approvers.map((a) => rel.generateLogged('targets', checkWord(a.name, 'approver name'), a.token, 'release-targets', o.actor));
    const repo = TufRepo.init(rel.repoDir, {
      keysDir: join(dir, 'online-keys'),
      keySource: rel.keySource(),
      now: rel.now,
      roles: {
        root: { publicKeys: rootKeys.map((k) => config.keys[k]!.pub), threshold: o.rootThreshold },
        targets: { publicKeys: targetKeys.map((k) => config.keys[k]!.pub), threshold: o.targetsThreshold },
        snapshot: { keyType: 'ecdsa-sha2-nistp256' },
        timestamp: { keyType: 'ecdsa-sha2-nistp256' },
      },
    });
    rel.savePublished(repo.targets());
    const st = repo.status();
    rel.log({
      event: 'ceremony-init',
      actor: o.actor,
      outcome: 'ok',
      detail: { root: st.roles.root, targets: st.roles.targets, snapshot: st.roles.snapshot.keyids, timestamp: st.roles.timestamp.keyids },
    });
    return rel;
  }

  static open(dir: string, deps: ReleaseDeps = {}): Release {
    const path = join(dir, 'release.json');
    if (!existsSync(path)) throw new ReleaseError('no-state', `${dir} holds no release state (run release init)`);
    return new Release(dir, readJson<ReleaseConfig>(path), deps);
  }

  repo(): TufRepo {
    return TufRepo.open(this.repoDir, { keysDir: join(this.dir, 'online-keys'), keySource: this.keySource(), now: this.now });
  }

  /** Signers for every registered, unrevoked key whose token PIN is present (asked for only when signing). */
  keySource(): KeySource {
    return {
      signer: (keyid: string): MetadataSigner | undefined => {
        const k = this.config.keys[keyid];
        if (!k || k.revoked || k.role === 'audit' || this.pinFor(k.ref.token) === undefined) return undefined;
        return this.token.metadataSigner(k.ref, k.pub, () => this.pinFor(k.ref.token)!);
      },
    };
  }

  /** Records a request; the targets metadata it will publish is fixed now, so approvals sign exactly it. */
  request(o: RequestOptions): ReleaseRequest {
    if (!(KINDS as readonly string[]).includes(o.kind)) throw new ReleaseError('bad-input', `--kind is ${KINDS.join(' or ')}`);
    checkWord(o.channel, 'channel');
    checkWord(o.hardware, 'hardware');
    checkWord(o.requester, 'requester');
    if (!Number.isSafeInteger(o.securityVersion) || o.securityVersion < 0) throw new ReleaseError('bad-input', '--security-version is a whole number');
    const bytes = readFileSync(o.artifact);
    if (bytes.length > MAX_ARTIFACT_BYTES) throw new ReleaseError('bad-input', `artifact larger than ${MAX_ARTIFACT_BYTES} bytes`);
    let provenance: ReleaseRequest['provenance'];
    if (o.provenance !== undefined) {
      const p = readFileSync(o.provenance);
      if (p.length > MAX_PROVENANCE_BYTES) throw new ReleaseError('bad-input', `provenance larger than ${MAX_PROVENANCE_BYTES} bytes`);
      let fields: unknown;
      try {
        fields = JSON.parse(p.toString('utf8'));
        canonicalJson(fields);
      } catch {
        throw new ReleaseError('bad-input', 'provenance is not a JSON object of strings and integers');
      }
      if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw new ReleaseError('bad-input', 'provenance is not a JSON object');
      provenance = { sha256: sha256Hex(p), fields: fields as Record<string, unknown> };
    }
    const name = o.name ?? `${o.kind}/${o.channel}/${o.hardware}/${basename(o.artifact)}`;
    const sha256 = sha256Hex(bytes);
    const id = `${this.now().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
    const custom: Record<string, unknown> = {
      kind: o.kind,
      channel: o.channel,
      hardwareModel: o.hardware,
      securityVersion: o.securityVersion,
      release: { request: id, requester: o.requester },
    };
    if (provenance) custom['provenance'] = provenance.fields;

    // The next version follows the repository's (devices may have seen its number in a snapshot), but its
    // content builds on what this tool published: targets written around the tool are never carried into
    // metadata that approvers sign (they would launder a forged target).
    const current = this.repo().targets().signed;
    const published = this.publishedTargets() ?? current;
    const publishedSha256 = sha256Hex(canonicalJson(published.toJSON()));
    const currentSha256 = sha256Hex(canonicalJson(current.toJSON()));
    const foreignTargets = publishedSha256 === currentSha256 ? undefined : { version: current.version, signedSha256: currentSha256 };
    const next = Targets.fromJSON(JSON.parse(JSON.stringify(published.toJSON())) as never);
    const targets = new Targets({
      version: current.version + 1,
      specVersion: published.specVersion,
      expires: tufTime(new Date(Math.floor(this.now().getTime() / 1000) * 1000 + this.config.targetsExpiresSeconds * 1000)),
      targets: { ...next.targets, [name]: new TargetFile({ length: bytes.length, path: name, hashes: { sha256 }, unrecognizedFields: { custom: custom as never } }) },
    });
    const req: ReleaseRequest = {
      id,
      requester: o.requester,
      requestedAt: this.now().toISOString(),
      name,
      kind: o.kind as Kind,
      channel: o.channel,
      hardware: o.hardware,
      securityVersion: o.securityVersion,
      artifact: { sha256, length: bytes.length, file: `${id}.bin` },
      ...(provenance ? { provenance } : {}),
      baseTargetsVersion: current.version,
      ...(foreignTargets ? { foreignTargets } : {}),
      targets: targets.toJSON() as Record<string, unknown>,
    };
    mkdirSync(join(this.dir, 'requests'), { recursive: true });
    writeFileSync(join(this.dir, 'requests', req.artifact.file), bytes, { flag: 'wx' });
    writeJson(join(this.dir, 'requests', `${id}.json`), req, 'wx');
    this.log({
      event: 'request',
      actor: o.requester,
      outcome: 'ok',
      request: id,
      artifactSha256: sha256,
      channel: o.channel,
      detail: {
        name,
        kind: o.kind,
        hardware: o.hardware,
        securityVersion: o.securityVersion,
        length: bytes.length,
        ...(provenance ? { provenanceSha256: provenance.sha256 } : {}),
        ...(foreignTargets ? { foreignTargets } : {}),
      },
    });
    return req;
  }

  loadRequest(id: string): ReleaseRequest {
    checkWord(id, 'request ID');
    const path = join(this.dir, 'requests', `${id}.json`);
    if (!existsSync(path)) throw new ReleaseError('bad-input', `no request ${id}`);
    return readJson<ReleaseRequest>(path);
  }

  /** What an approver is shown before signing. */
  describe(req: ReleaseRequest): string[] {
    const lines = [
      `request      ${req.id} by ${req.requester} at ${req.requestedAt}`,
      `target       ${req.name}`,
      `artifact     sha256 ${req.artifact.sha256}, ${req.artifact.length} bytes`,
      `kind         ${req.kind}   channel ${req.channel}   hardware ${req.hardware}   security version ${req.securityVersion}`,
    ];
    if (req.provenance) lines.push(`provenance   ${JSON.stringify(req.provenance.fields)}`);
    lines.push(`targets      version ${(req.targets as { version: number }).version}, ${Object.keys((req.targets as { targets: object }).targets).length} target(s) in total`);
    if (req.foreignTargets) lines.push(`WARNING      the repository's targets version ${req.foreignTargets.version} was not published by this tool: its content is left out`);
    return lines;
  }

  /** One approver's signature over the request's targets metadata, from the key in `token`. */
  approve(id: string, token: string, opts: { expectSha256?: string } = {}): Approval {
    const req = this.loadRequest(id);
    const [keyid, key] = Object.entries(this.config.keys).find(([, k]) => k.role === 'targets' && !k.revoked && k.ref.token === token) ?? [];
    const base = { request: id, artifactSha256: req.artifact.sha256, channel: req.channel };
    if (!keyid || !key) {
      this.log({ event: 'refusal', actor: `token:${token}`, outcome: 'refused', ...base, detail: { action: 'approve', reason: 'not-approver' } });
      throw new ReleaseError('not-approver', `token ${token} holds no current approver key`);
    }
    const refuse = (code: 'self-approval' | 'wrong-bytes' | 'duplicate', message: string): never => {
      this.log({ event: 'refusal', actor: key.holder, outcome: 'refused', keyid, ...base, detail: { action: 'approve', reason: code } });
      throw new ReleaseError(code, message);
    };
    if (key.holder === req.requester) refuse('self-approval', `${key.holder} requested ${id} and cannot approve it`);
    if (opts.expectSha256 !== undefined && opts.expectSha256 !== req.artifact.sha256) refuse('wrong-bytes', `request ${id} is for sha256 ${req.artifact.sha256}, not ${opts.expectSha256}`);
    const path = join(this.dir, 'approvals', id, `${keyid}.json`);
    if (existsSync(path)) refuse('duplicate', `${key.holder} already approved ${id}`);
    for (const line of this.describe(req)) this.show(line);

    const md = new Metadata(Targets.fromJSON(req.targets as never));
    md.sign(this.token.metadataSigner(key.ref, key.pub, () => this.requirePin(token)));
    const now = this.now();
    const statement = {
      request: id,
      requestSha256: sha256Hex(canonicalJson(req)),
      keyid,
      approver: key.holder,
      approvedAt: now.toISOString(),
      validUntil: new Date(now.getTime() + this.config.approvalWindowSeconds * 1000).toISOString(),
    };
    const statementSig = this.token.sign(key.ref, this.requirePin(token), Buffer.from(canonicalJson(statement))).toString('hex');
    const approval: Approval = { statement, statementSig, tufSig: md.signatures[keyid]!.sig };
    writeJson(path, approval, 'wx');
    this.log({ event: 'approval', actor: key.holder, outcome: 'ok', keyid, ...base, detail: { validUntil: statement.validUntil } });
    return approval;
  }

  /**
   * Publishes the request's targets with the approvals that hold (every signature checked
   * here and again by the writer against the current root), then snapshot and timestamp.
   */
  publish(id: string, actor: string, emergency?: { reason: string; rootTokens: string[] }): Record<string, number> {
    const req = this.loadRequest(id);
    const base = { request: id, artifactSha256: req.artifact.sha256, channel: req.channel };
    const action = emergency ? 'emergency' : 'publish';
    const refuse = (code: 'below-threshold' | 'wrong-bytes' | 'stale', message: string, detail: Record<string, unknown> = {}): never => {
      this.log({ event: 'refusal', actor, outcome: 'refused', ...base, detail: { action, reason: code, ...detail } });
      throw new ReleaseError(code, message);
    };
    const repo = this.repo();
    const root = repo.root().signed;
    if (repo.targets().signed.version !== req.baseTargetsVersion) refuse('stale', `request ${id} was made on targets ${req.baseTargetsVersion}; the repository moved on: request again`);
    const bytes = readFileSync(join(this.dir, 'requests', req.artifact.file));
    const listed = (req.targets as { targets: Record<string, { length: number; hashes: { sha256: string } }> }).targets[req.name];
    if (sha256Hex(bytes) !== req.artifact.sha256 || bytes.length !== req.artifact.length || listed?.hashes.sha256 !== req.artifact.sha256 || listed.length !== bytes.length) {
      refuse('wrong-bytes', `the artifact of ${id} is not the bytes that were requested`);
    }

    let emergencyBy: string[] = [];
    if (emergency) emergencyBy = this.authorizeEmergency(req, emergency.reason, emergency.rootTokens, actor);

    const md = new Metadata(Targets.fromJSON(req.targets as never));
    const now = this.now().getTime();
    const requestSha256 = sha256Hex(canonicalJson(req));
    const rejected: Array<{ keyid: string; reason: string }> = [];
    const dir = join(this.dir, 'approvals', id);
    for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : []) {
      const keyid = f.slice(0, -'.json'.length);
      const reject = (reason: string): void => void rejected.push({ keyid, reason });
      let a: Approval;
      try {
        a = readJson<Approval>(join(dir, f));
      } catch {
        reject('unreadable');
        continue;
      }
      const key = this.config.keys[keyid];
      if (!key || key.role !== 'targets' || a.statement?.keyid !== keyid) { reject('not an approver key'); continue; }
      if (key.revoked || !root.roles['targets']!.keyIDs.includes(keyid)) { reject('revoked'); continue; }
      if (!verifyEcdsa(key.pub, Buffer.from(canonicalJson(a.statement)), Buffer.from(String(a.statementSig), 'hex'))) { reject('statement not signed by its key'); continue; }
      if (a.statement.request !== id || a.statement.requestSha256 !== requestSha256) { reject('approval for another request'); continue; }
      if (key.holder === req.requester) { reject('self-approval'); continue; }
      const approvedAt = Date.parse(a.statement.approvedAt);
      const validUntil = Date.parse(a.statement.validUntil);
      if (!emergency && !(now >= approvedAt && now <= validUntil && validUntil - approvedAt <= this.config.approvalWindowSeconds * 1000)) { reject('expired'); continue; }
      try {
        const probe = Metadata.fromJSON(MetadataKind.Targets, { signed: req.targets, signatures: [{ keyid, sig: a.tufSig }] } as never);
        root.keys[keyid]!.verifySignature(probe);
        md.signatures[keyid] = probe.signatures[keyid]!;
      } catch {
        reject('signature is not over these bytes');
      }
    }
    const threshold = root.roles['targets']!.threshold;
    const valid = Object.keys(md.signatures);
    if (valid.length < threshold) {
      const code = rejected.some((r) => r.reason === 'signature is not over these bytes' || r.reason === 'approval for another request') ? 'wrong-bytes' : 'below-threshold';
      refuse(code, `request ${id} has ${valid.length} valid approval(s) of ${threshold} needed${rejected.length ? `; not counted: ${rejected.map((r) => `${r.keyid.slice(0, 12)} (${r.reason})`).join(', ')}` : ''}`, { valid: valid.length, threshold, rejected });
    }
    const versions = repo.publishTargets(md, { [req.name]: bytes });
    this.savePublished(md);
    const approvers = valid.map((k) => this.config.keys[k]!.holder);
    if (emergency) {
      this.log({ event: 'emergency', actor, outcome: 'ok', ...base, detail: { reason: emergency.reason, authorizedBy: emergencyBy, approvers, versions, reviewRequired: true } });
    } else {
      this.log({ event: 'publish', actor, outcome: 'ok', ...base, detail: { name: req.name, approvers, versions } });
    }
    return versions;
  }

  /** Records the review an emergency release requires. */
  review(id: string, reviewer: string, note: string): void {
    const req = this.loadRequest(id);
    checkWord(reviewer, 'reviewer');
    this.log({ event: 'review', actor: reviewer, outcome: 'ok', request: id, artifactSha256: req.artifact.sha256, channel: req.channel, detail: { note } });
  }

  /** New root: root keys added (generated in their tokens) or removed, signed by root thresholds old and new. */
  rotateRoot(actor: string, o: { addRootTokens?: string[]; removeRoot?: string[]; rootThreshold?: number }): number {
    const added = (o.addRootTokens ?? []).map((t) => this.generateLogged('root', t, t, 'release-root', actor));
    const result = this.repo().rotateRoot({
      addKeys: added.map((k) => ({ role: 'root' as const, pub: this.config.keys[k]!.pub })),
      removeKeys: (o.removeRoot ?? []).map((keyid) => ({ keyid, role: 'root' as const })),
      ...(o.rootThreshold ? { thresholds: { root: o.rootThreshold } } : {}),
      doNotSignWith: o.removeRoot ?? [],
      publish: false,
    });
    for (const k of o.removeRoot ?? []) if (this.config.keys[k]) this.config.keys[k]!.revoked = `root ${result.version}`;
    this.save();
    this.log({ event: 'root-rotation', actor, outcome: 'ok', detail: { root: result.version, added, removed: o.removeRoot ?? [], ...(o.rootThreshold ? { threshold: o.rootThreshold } : {}) } });
    return result.version;
  }

  /** Adds an approver (a personnel change is a rotation: a new root signed by the root threshold). */
  addApprover(actor: string, name: string, token: string, threshold?: number): { root: number; keyid: string } {
    const keyid = this.generateLogged('targets', checkWord(name, 'approver name'), token, 'release-targets', actor);
    const result = this.repo().rotateRoot({ addKeys: [{ role: 'targets', pub: this.config.keys[keyid]!.pub }], ...(threshold ? { thresholds: { targets: threshold } } : {}), publish: false });
    this.log({ event: 'approver-added', actor, outcome: 'ok', keyid, detail: { approver: name, token, root: result.version } });
    return { root: result.version, keyid };
  }

  /** Removes a key from its role in a new root (never signed by it); devices then refuse what only it signed. */
  revoke(actor: string, keyid: string, replace?: { name: string; token: string }): { root: number; replacement?: string } {
    const key = this.config.keys[keyid];
    if (!key || key.role === 'audit') throw new ReleaseError('bad-input', `key ${keyid} is not a root or approver key here`);
    const replacement = replace ? this.generateLogged(key.role, checkWord(replace.name, 'approver name'), replace.token, `release-${key.role}`, actor) : undefined;
    const result = this.repo().rotateRoot({
      removeKeys: [{ keyid, role: key.role }],
      addKeys: replacement ? [{ role: key.role, pub: this.config.keys[replacement]!.pub }] : [],
      doNotSignWith: [keyid],
      publish: false,
    });
    key.revoked = `root ${result.version}`;
    this.save();
    this.log({ event: 'key-revocation', actor, outcome: 'ok', keyid, detail: { role: key.role, holder: key.holder, root: result.version, ...(replacement ? { replacement } : {}) } });
    return { root: result.version, ...(replacement ? { replacement } : {}) };
  }

  // --- internals ---

  private get publishedPath(): string {
    return join(this.dir, 'published-targets.json');
  }

  /** What this tool last published; null for a state made before the tool recorded it (then the repository's current targets is the base). */
  private publishedTargets(): Targets | null {
    if (!existsSync(this.publishedPath)) return null;
    return Metadata.fromJSON(MetadataKind.Targets, readJson(this.publishedPath)).signed;
  }

  private savePublished(md: Metadata<Targets>): void {
    writeJson(this.publishedPath, md.toJSON());
  }

  private authorizeEmergency(req: ReleaseRequest, reason: string, rootTokens: string[], actor: string): string[] {
    if (reason.trim() === '') throw new ReleaseError('bad-input', 'an emergency needs --reason');
    const root = this.repo().root().signed;
    const statement = canonicalJson({ emergency: req.id, requestSha256: sha256Hex(canonicalJson(req)), reason, actor, at: this.now().toISOString() });
    const by: string[] = [];
    for (const t of rootTokens) {
      const entry = Object.entries(this.config.keys).find(([k, v]) => v.role === 'root' && !v.revoked && v.ref.token === t && root.roles['root']!.keyIDs.includes(k));
      if (!entry) continue;
      const [keyid, key] = entry;
      const sig = this.token.sign(key.ref, this.requirePin(t), Buffer.from(statement));
      if (verifyEcdsa(key.pub, Buffer.from(statement), sig)) by.push(keyid);
    }
    if (by.length < root.roles['root']!.threshold) {
      this.log({ event: 'refusal', actor, outcome: 'refused', request: req.id, artifactSha256: req.artifact.sha256, channel: req.channel, detail: { action: 'emergency', reason: 'below-root-threshold', authorizedBy: by } });
      throw new ReleaseError('below-threshold', `an emergency needs ${root.roles['root']!.threshold} root key holders; ${by.length} signed`);
    }
    return by;
  }

  private pinFor(token: string): string | undefined {
    const fromEnv = this.env[pinEnvName(token)];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const dir = this.env['RELEASE_PIN_DIR'];
    if (dir && /^[A-Za-z0-9._-]+$/.test(token) && existsSync(join(dir, token))) return readFileSync(join(dir, token), 'utf8').replace(/\r?\n$/, '');
    return undefined;
  }

  private requirePin(token: string): string {
    const pin = this.pinFor(token);
    if (pin === undefined) throw new ReleaseError('no-pin', `no PIN for token ${token}: set ${pinEnvName(token)} or put it in $RELEASE_PIN_DIR/${token}`);
    return pin;
  }

  private generate(role: KeyRole, holder: string, token: string, label: string): string {
    const { ref, pub, keyid } = this.token.generateKey(token, this.requirePin(token), label);
    if (this.config.keys[keyid]) throw new ReleaseError('exists', `key ${keyid} is registered already`);
    this.config.keys[keyid] = { role, holder, ref, pub };
    return keyid;
  }

  private generateLogged(role: KeyRole, holder: string, token: string, label: string, actor: string): string {
    if (Object.values(this.config.keys).some((k) => k.ref.token === token && !k.revoked)) throw new ReleaseError('bad-input', `token ${token} already holds a key of this release`);
    const keyid = this.generate(role, holder, token, label);
    this.save();
    this.log({ event: 'key-generated', actor, outcome: 'ok', keyid, detail: { role, holder, token } });
    return keyid;
  }

  private save(): void {
    writeJson(join(this.dir, 'release.json'), this.config);
  }

  log(fields: AuditFields): void {
    const key = this.config.keys[this.config.auditKey]!;
    new AuditLog(this.auditPath, key.pub, (data) => this.token.sign(key.ref, this.requirePin(key.ref.token), data), this.now).append(fields);
  }
}
