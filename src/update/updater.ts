// The TUF client workflow (specification 1.0, section 5) over ports: fetch
// files, check them with the TrustedSet, persist each verified file. Bounds
// are the named ones in limits.ts.
//
// Persistence: a file is saved only after it verified, one file per save,
// each save atomic (the store's contract). Every state on storage is
// therefore made of verified files; a refresh that fails midway leaves the
// files it verified before the failure (e.g. a root rotation) and nothing
// else, and the next refresh re-verifies what it loads.
import { utf8Bytes } from '../shared/utf8.js';
import { TufError } from './errors.js';
import { MAX_CANONICAL_BYTES, MAX_DELEGATIONS_VISITED, MAX_ROOT_BYTES, MAX_ROOT_ROTATIONS, MAX_SNAPSHOT_BYTES, MAX_TARGET_BYTES, MAX_TARGETS_BYTES, MAX_TIMESTAMP_BYTES } from './limits.js';
import type { TargetFile } from './metadata.js';
import { pathMatches, quote } from './names.js';
import type { FetchPort, HashPort, MetadataStore, SignatureVerifier, TufClock } from './ports.js';
import { checkLengthAndHashes, TrustedSet, type VerifiedTargets } from './trusted-set.js';

export interface UpdaterOptions {
  /** Base URL of the metadata (a trailing `/` is added when missing). */
  metadataUrl: string;
  /** Base URL of the targets, for downloadTarget. */
  targetUrl?: string;
  verifier: SignatureVerifier;
  hash: HashPort;
  fetch: FetchPort;
  store: MetadataStore;
  clock: TufClock;
}

/** A target the trusted metadata lists. */
export interface TargetInfo extends TargetFile {
  path: string;
  /** The targets role whose metadata listed it ('targets' or a delegated role). */
  role: string;
  /** The distinct key IDs whose signatures counted towards that role's threshold (through the delegation followed), sorted. */
  signers: readonly string[];
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}

const TRUSTED_STATES = ['SYNCED', 'FREE_RUNNING'];

export class Updater {
  readonly #o: UpdaterOptions;
  readonly #metadataUrl: string;
  #set: TrustedSet | null = null;
  /** Why the last operation failed, for logs. */
  lastError: TufError | null = null;

  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.#metadataUrl = withSlash(options.metadataUrl);
  }

  #local(role: string, max: number): Uint8Array | null {
    let bytes: Uint8Array | null;
    try {
      bytes = this.#o.store.load(role);
    } catch {
      return null;
    }
    return bytes !== null && bytes.length <= max ? bytes : null;
  }

  #save(role: string, bytes: Uint8Array): void {
    try {
      this.#o.store.save(role, bytes);
    } catch (e) {
      throw new TufError('storage', `saving ${role} failed`);
    }
  }

  async #download(url: string, max: number, what: string): Promise<Uint8Array | null> {
    let bytes: Uint8Array | null;
    try {
      bytes = await this.#o.fetch.fetch(url, max);
    } catch (e) {
      throw new TufError('fetch', `${what}: ${e instanceof Error ? e.message : 'fetch failed'}`);
    }
    if (bytes !== null && bytes.length > max) throw new TufError('over-limit', `${what} is over ${max} bytes`);
    return bytes;
  }

  async #required(url: string, max: number, what: string): Promise<Uint8Array> {
    const bytes = await this.#download(url, max, what);
    if (bytes === null) throw new TufError('fetch', `${what} not found in the repository`);
    return bytes;
  }

  #metaUrl(role: string, version: number | null): string {
    return `${this.#metadataUrl}${version === null ? '' : `${version}.`}${quote(role)}.json`;
  }

  /** Spec 5.1-5.6: update root, timestamp, snapshot and top-level targets. Throws a TufError naming the failed check. */
  async refresh(): Promise<void> {
    this.#set = null;
    try {
      const reading = this.#o.clock.now();
      const ref = { trusted: TRUSTED_STATES.includes(reading.state) && Number.isFinite(reading.latest), latest: reading.latest };
      const rootBytes = this.#local('root', MAX_ROOT_BYTES);
      if (rootBytes === null) throw new TufError('state', 'no trusted root in the store');
      const set = new TrustedSet(rootBytes, this.#o.verifier, this.#o.hash, MAX_CANONICAL_BYTES, ref);
      await this.#loadRoot(set);
      await this.#loadTimestamp(set);
      await this.#loadSnapshot(set);
      await this.#loadTargets(set, 'targets', 'root');
      this.#set = set;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  #fail(e: unknown): TufError {
    const err = e instanceof TufError ? e : new TufError('state', `internal: ${e instanceof Error ? e.message : String(e)}`);
    this.lastError = err;
    return err;
  }

  async #loadRoot(set: TrustedSet): Promise<void> {
    const first = set.root.version + 1;
    for (let v = first; v < first + MAX_ROOT_ROTATIONS; v++) {
      const bytes = await this.#download(`${this.#metadataUrl}${v}.root.json`, MAX_ROOT_BYTES, `root v${v}`);
      if (bytes === null) return;
      set.updateRoot(bytes);
      this.#save('root', bytes);
    }
    // The bound is reached: further versions wait for the next refresh.
  }

  async #loadTimestamp(set: TrustedSet): Promise<void> {
    const local = this.#local('timestamp', MAX_TIMESTAMP_BYTES);
    if (local !== null) {
      try {
        set.updateTimestamp(local);
      } catch {
        // A stale or invalid local timestamp only means there is nothing to compare against.
      }
    }
    const bytes = await this.#required(this.#metaUrl('timestamp', null), MAX_TIMESTAMP_BYTES, 'timestamp');
    if (set.updateTimestamp(bytes)) this.#save('timestamp', bytes);
  }

  async #loadSnapshot(set: TrustedSet): Promise<void> {
    const local = this.#local('snapshot', MAX_SNAPSHOT_BYTES);
    if (local !== null) {
      try {
        set.updateSnapshot(local, true);
        return;
      } catch {
        // Not valid as the final snapshot: fetch one.
      }
    }
    const meta = set.timestamp!.snapshotMeta;
    const max = meta.length !== null && meta.length > 0 ? meta.length : MAX_SNAPSHOT_BYTES;
    if (max > MAX_SNAPSHOT_BYTES) throw new TufError('over-limit', `snapshot length ${max} is over ${MAX_SNAPSHOT_BYTES}`);
    const bytes = await this.#required(this.#metaUrl('snapshot', set.root.consistentSnapshot ? meta.version : null), max, 'snapshot');
    set.updateSnapshot(bytes, false);
    this.#save('snapshot', bytes);
  }

  async #loadTargets(set: TrustedSet, role: string, delegator: string): Promise<VerifiedTargets> {
    const loaded = set.loadedTargets(role, delegator);
    if (loaded !== null) return loaded;
    const local = this.#local(role, MAX_TARGETS_BYTES);
    if (local !== null) {
      try {
        return set.updateTargets(local, role, delegator, true);
      } catch {
        // Not valid as the final version: fetch one.
      }
    }
    const meta = set.snapshotEntry(role);
    const max = meta.length !== null && meta.length > 0 ? meta.length : MAX_TARGETS_BYTES;
    if (max > MAX_TARGETS_BYTES) throw new TufError('over-limit', `${role} length ${max} is over ${MAX_TARGETS_BYTES}`);
    const bytes = await this.#required(this.#metaUrl(role, set.root.consistentSnapshot ? meta.version : null), max, role);
    const verified = set.updateTargets(bytes, role, delegator, false);
    this.#save(role, bytes);
    return verified;
  }

  /**
   * Spec 5.6.7: the target's info from the first role that lists it, in
   * preorder depth-first order over the delegations whose patterns match,
   * stopping at a terminating delegation; null when no role lists it.
   * Refreshes first when refresh() has not succeeded in this instance.
   */
  async getTargetInfo(path: string): Promise<TargetInfo | null> {
    try {
      if (this.#set === null) await this.refresh();
      const set = this.#set!;
      const toVisit: Array<[role: string, delegator: string]> = [['targets', 'root']];
      const visited = new Set<string>();
      while (toVisit.length > 0) {
        if (visited.size >= MAX_DELEGATIONS_VISITED + 1) throw new TufError('over-limit', `more than ${MAX_DELEGATIONS_VISITED} delegated roles visited for one target`);
        const [role, delegator] = toVisit.pop()!;
        if (visited.has(role)) continue;
        const { signed: targets, signers } = await this.#loadTargets(set, role, delegator);
        const found = targets.targets.get(path);
        if (found !== undefined) return { ...found, path, role, signers };
        visited.add(role);
        const d = targets.delegations;
        if (d === null) continue;
        const children: Array<[string, string]> = [];
        for (const r of d.roles) {
          if (!this.#delegates(r.paths, r.pathHashPrefixes, path)) continue;
          children.push([r.name, role]);
          if (r.terminating) {
            toVisit.length = 0;
            break;
          }
        }
        for (let i = children.length - 1; i >= 0; i--) toVisit.push(children[i]!);
      }
      return null;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  #delegates(paths: string[] | null, prefixes: string[] | null, path: string): boolean {
    if (paths !== null) return paths.some((p) => pathMatches(p, path));
    const digest = this.#o.hash.digest('sha256', utf8Bytes(path));
    if (digest === null) return false;
    let hex = '';
    for (const b of digest) hex += (b < 16 ? '0' : '') + b.toString(16);
    return prefixes!.some((p) => hex.startsWith(p));
  }

  /** Throws unless `bytes` has the target's length and every listed hash. */
  verifyTarget(info: TargetInfo, bytes: Uint8Array): void {
    checkLengthAndHashes(this.#o.hash, bytes, info.length, info.hashes, `target ${info.path}`);
  }

  /**
   * The URL downloadTarget fetches for `info`: the target URL, then the path,
   * with the file name prefixed by its first listed hash when the trusted
   * root uses consistent snapshots (spec 5.7.3). Needs a successful
   * refresh(); throws TufError 'state' otherwise or without a target URL.
   */
  targetUrl(info: TargetInfo): string {
    if (this.#o.targetUrl === undefined) throw new TufError('state', 'no target URL configured');
    if (this.#set === null) throw new TufError('state', 'target URL before a successful refresh');
    let name = info.path;
    if (this.#set.root.consistentSnapshot) {
      const slash = name.lastIndexOf('/');
      const first = info.hashes[Object.keys(info.hashes)[0]!]!;
      name = `${name.slice(0, slash + 1)}${first}.${name.slice(slash + 1)}`;
    }
    return withSlash(this.#o.targetUrl) + name;
  }

  /** Downloads and verifies a target; returns its bytes. */
  async downloadTarget(info: TargetInfo): Promise<Uint8Array> {
    try {
      const url = this.targetUrl(info);
      if (info.length > MAX_TARGET_BYTES) throw new TufError('over-limit', `target ${info.path} is over ${MAX_TARGET_BYTES} bytes`);
      const bytes = await this.#required(url, info.length, `target ${info.path}`);
      this.verifyTarget(info, bytes);
      return bytes;
    } catch (e) {
      throw this.#fail(e);
    }
  }
}
