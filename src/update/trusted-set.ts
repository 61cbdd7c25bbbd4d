// The trusted metadata set: the TUF client workflow's checks (specification
// 1.0, section 5), one method per file kind, in the order the workflow
// loads them. Each method takes the bytes of a candidate file and either
// makes it trusted or throws a TufError naming the failed check; a failure
// leaves the set as it was. Persisting is the updater's job.
import { CanonicalJsonWriter } from './canonical-json.js';
import { TufError } from './errors.js';
import type { Delegations, Envelope, Key, MetaFile, Role, RootSigned, SnapshotSigned, TargetsSigned, TimestampSigned } from './metadata.js';
import { parseEnvelope } from './metadata.js';
import type { HashPort, SignatureVerifier } from './ports.js';

/** Clock reading fixed for one refresh. */
export interface ExpiryReference {
  trusted: boolean;
  /** The pessimistic end of the clock's interval (Unix ms): true time is not after this. */
  latest: number;
}

/** A targets role loaded in this refresh, which delegator verified it, and the keys that counted. */
interface LoadedTargets {
  envelope: Envelope<TargetsSigned>;
  delegator: string;
  signers: readonly string[];
}

/** A verified targets role and the key IDs that counted towards its threshold (sorted). */
export interface VerifiedTargets {
  signed: TargetsSigned;
  signers: readonly string[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hexToBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = parseInt(hex.substr(i * 2, 2), 16);
    if (!/^[0-9a-fA-F]{2}$/.test(hex.substr(i * 2, 2))) return null;
    out[i] = v;
  }
  return out;
}

/** Checks `bytes` against a length and every listed hash (an unknown algorithm fails). */
export function checkLengthAndHashes(hash: HashPort, bytes: Uint8Array, length: number | null, hashes: Record<string, string> | null, what: string): void {
  if (length !== null && bytes.length !== length) throw new TufError('bad-hash', `${what}: length ${bytes.length} is not ${length}`);
  if (hashes === null) return;
  for (const alg of Object.keys(hashes)) {
    const want = hexToBytes(hashes[alg]!);
    let got: Uint8Array | null = null;
    try {
      got = hash.digest(alg, bytes);
    } catch {
      got = null;
    }
    if (got === null) throw new TufError('bad-hash', `${what}: hash algorithm ${alg} is not supported`);
    if (want === null || !sameBytes(got, want)) throw new TufError('bad-hash', `${what}: ${alg} hash does not match`);
  }
}

export class TrustedSet {
  readonly #verifier: SignatureVerifier;
  readonly #hash: HashPort;
  readonly #canonical: CanonicalJsonWriter;
  readonly #ref: ExpiryReference;
  #root: Envelope<RootSigned>;
  #timestamp: Envelope<TimestampSigned> | null = null;
  #snapshot: Envelope<SnapshotSigned> | null = null;
  readonly #targets = new Map<string, LoadedTargets>();

  /** Trusts `rootBytes` (the locally trusted root) once it is signed by a threshold of its own root keys. */
  constructor(rootBytes: Uint8Array, verifier: SignatureVerifier, hash: HashPort, canonicalCapacity: number, ref: ExpiryReference) {
    this.#verifier = verifier;
    this.#hash = hash;
    this.#canonical = new CanonicalJsonWriter(canonicalCapacity);
    this.#ref = ref;
    const root = this.#parse(rootBytes, 'root');
    this.#verify(root, root.signed.roles.root, root.signed.keys, 'trusted root');
    this.#root = root;
  }

  get root(): RootSigned {
    return this.#root.signed;
  }
  get timestamp(): TimestampSigned | null {
    return this.#timestamp?.signed ?? null;
  }
  get snapshot(): SnapshotSigned | null {
    return this.#snapshot?.signed ?? null;
  }
  targets(role: string): TargetsSigned | null {
    return this.#targets.get(role)?.envelope.signed ?? null;
  }

  #parse<T extends 'root' | 'timestamp' | 'snapshot' | 'targets'>(bytes: Uint8Array, type: T): Envelope<Extract<RootSigned | TimestampSigned | SnapshotSigned | TargetsSigned, { type: T }>> {
    const e = parseEnvelope(bytes);
    if (e.signed.type !== type) throw new TufError('wrong-type', `expected ${type} metadata, got ${e.signed.type}`);
    return e as Envelope<Extract<RootSigned | TimestampSigned | SnapshotSigned | TargetsSigned, { type: T }>>;
  }

  #expired(expiresMs: number): boolean {
    // Expired unless the clock's pessimistic end is before `expires`.
    return !this.#ref.trusted || !(this.#ref.latest < expiresMs);
  }
  #checkNotExpired(expiresMs: number, what: string): void {
    if (!this.#ref.trusted) throw new TufError('expired', `${what}: the clock is not trusted, so expiry cannot be checked`);
    if (this.#expired(expiresMs)) throw new TufError('expired', `${what} has expired`);
  }

  /**
   * Counts distinct keys of `role` with a valid signature; throws 'unsigned'
   * below the threshold. Returns the key IDs that counted, sorted: it stops
   * at the threshold (verifying more costs time and proves nothing more), so
   * these are the first `threshold` valid keys in the role's keyids order.
   */
  #verify(e: Envelope, role: Role, keys: Record<string, Key>, what: string): string[] {
    const message = this.#canonical.encode(e.signedJson);
    const counted: string[] = [];
    let valid = 0;
    for (const keyid of role.keyids) {
      const key = keys[keyid];
      if (key === undefined) continue;
      for (const s of e.signatures) {
        if (s.keyid !== keyid) continue;
        let ok = false;
        try {
          ok = this.#verifier.verify(key.keytype, key.scheme, key.public, message, s.sig) === true;
        } catch {
          ok = false;
        }
        if (ok) {
          valid++;
          counted.push(keyid);
          break;
        }
      }
      if (valid >= role.threshold) return counted.sort();
    }
    throw new TufError('unsigned', `${what}: ${valid} of the required ${role.threshold} signatures`);
  }

  /** Spec 5.3: root N+1, signed by a threshold of root N and of itself. */
  updateRoot(bytes: Uint8Array): void {
    if (this.#timestamp !== null) throw new TufError('state', 'root update after timestamp');
    const next = this.#parse(bytes, 'root');
    const trusted = this.#root.signed;
    this.#verify(next, trusted.roles.root, trusted.keys, `root v${next.signed.version} by the trusted root`);
    if (next.signed.version !== trusted.version + 1) throw new TufError('rollback', `root version ${next.signed.version} is not ${trusted.version + 1}`);
    this.#verify(next, next.signed.roles.root, next.signed.keys, `root v${next.signed.version} by itself`);
    this.#root = next;
  }

  /** Spec 5.4. Returns false when the candidate has the trusted version (nothing to do). */
  updateTimestamp(bytes: Uint8Array): boolean {
    if (this.#snapshot !== null) throw new TufError('state', 'timestamp update after snapshot');
    // The final root must be valid before anything it signs is used (5.3.10).
    this.#checkNotExpired(this.#root.signed.expiresMs, 'root');
    const next = this.#parse(bytes, 'timestamp');
    const root = this.#root.signed;
    this.#verify(next, root.roles.timestamp, root.keys, 'timestamp');
    const old = this.#timestamp?.signed;
    if (old !== undefined) {
      if (next.signed.version < old.version) throw new TufError('rollback', `timestamp version ${next.signed.version} is below trusted ${old.version}`);
      if (next.signed.version === old.version) return false;
      if (next.signed.snapshotMeta.version < old.snapshotMeta.version) throw new TufError('rollback', `snapshot version ${next.signed.snapshotMeta.version} in timestamp is below trusted ${old.snapshotMeta.version}`);
    }
    this.#checkNotExpired(next.signed.expiresMs, 'timestamp');
    this.#timestamp = next;
    return true;
  }

  /** Spec 5.5. `local` files skip the hash check (they were checked when fetched). */
  updateSnapshot(bytes: Uint8Array, local: boolean): void {
    const ts = this.#timestamp?.signed;
    if (ts === undefined) throw new TufError('state', 'snapshot before timestamp');
    if (this.#targets.size > 0) throw new TufError('state', 'snapshot update after targets');
    this.#checkNotExpired(ts.expiresMs, 'timestamp');
    const meta = ts.snapshotMeta;
    if (!local) checkLengthAndHashes(this.#hash, bytes, meta.length, meta.hashes, 'snapshot');
    const next = this.#parse(bytes, 'snapshot');
    const root = this.#root.signed;
    this.#verify(next, root.roles.snapshot, root.keys, 'snapshot');
    const old = this.#snapshot?.signed;
    if (old !== undefined) {
      // No targets file listed before may vanish or go back (5.5.5).
      for (const [name, info] of old.meta) {
        const now = next.signed.meta.get(name);
        if (now === undefined) throw new TufError('rollback', `snapshot no longer lists ${name}`);
        if (now.version < info.version) throw new TufError('rollback', `snapshot lists ${name} at version ${now.version}, below trusted ${info.version}`);
      }
    }
    // Kept even when the checks below fail: a local snapshot that is stale
    // still bounds the versions a fetched one may list.
    this.#snapshot = next;
    this.#checkFinalSnapshot();
  }

  #checkFinalSnapshot(): void {
    const s = this.#snapshot!.signed;
    this.#checkNotExpired(s.expiresMs, 'snapshot');
    const want = this.#timestamp!.signed.snapshotMeta.version;
    if (s.version !== want) throw new TufError('version-mismatch', `snapshot version ${s.version} is not ${want} from timestamp`);
  }

  /** The snapshot entry for a targets role, or a 'not-found' error. */
  snapshotEntry(role: string): MetaFile {
    const s = this.#snapshot?.signed;
    if (s === undefined) throw new TufError('state', 'targets before snapshot');
    const meta = s.meta.get(`${role}.json`);
    if (meta === undefined) throw new TufError('not-found', `snapshot does not list role ${role}`);
    return meta;
  }

  /** The role entry of `role` in `delegator`'s metadata, with the keys that may sign it. */
  #delegation(role: string, delegator: string): { role: Role; keys: Record<string, Key> } {
    if (delegator === 'root') {
      if (role !== 'targets') throw new TufError('state', 'root delegates only targets');
      return { role: this.#root.signed.roles.targets, keys: this.#root.signed.keys };
    }
    const parent = this.#targets.get(delegator);
    if (parent === undefined) throw new TufError('state', `delegator ${delegator} is not loaded`);
    const d: Delegations | null = parent.envelope.signed.delegations;
    const entry = d?.roles.find((r) => r.name === role);
    if (d === null || entry === undefined) throw new TufError('not-found', `${delegator} does not delegate to ${role}`);
    return { role: entry, keys: d.keys };
  }

  /**
   * A targets role already loaded through `delegator`, or null when it must
   * be loaded. A role loaded through another delegator is verified again
   * against this one: a delegation path confers no authority on another.
   */
  loadedTargets(role: string, delegator: string): VerifiedTargets | null {
    const loaded = this.#targets.get(role);
    if (loaded === undefined) return null;
    if (loaded.delegator !== delegator) {
      const { role: r, keys } = this.#delegation(role, delegator);
      return { signed: loaded.envelope.signed, signers: this.#verify(loaded.envelope, r, keys, `${role} through ${delegator}`) };
    }
    return { signed: loaded.envelope.signed, signers: loaded.signers };
  }

  /** Spec 5.6 / 5.6.7: a targets file (top-level when delegator is 'root'). */
  updateTargets(bytes: Uint8Array, role: string, delegator: string, local: boolean): VerifiedTargets {
    if (this.#snapshot === null) throw new TufError('state', 'targets before snapshot');
    this.#checkFinalSnapshot();
    const meta = this.snapshotEntry(role);
    if (!local) checkLengthAndHashes(this.#hash, bytes, meta.length, meta.hashes, role);
    const next = this.#parse(bytes, 'targets');
    // A stored file of another version than snapshot names is refused below
    // whatever its signatures: refuse it before paying for them (the usual
    // case after a new snapshot). A fetched file keeps the spec's order.
    if (local && next.signed.version !== meta.version) throw new TufError('version-mismatch', `stored ${role} version ${next.signed.version} is not ${meta.version} from snapshot`);
    const { role: r, keys } = this.#delegation(role, delegator);
    const signers = this.#verify(next, r, keys, role);
    if (next.signed.version !== meta.version) throw new TufError('version-mismatch', `${role} version ${next.signed.version} is not ${meta.version} from snapshot`);
    this.#checkNotExpired(next.signed.expiresMs, role);
    this.#targets.set(role, { envelope: next, delegator, signers });
    return { signed: next.signed, signers };
  }
}
