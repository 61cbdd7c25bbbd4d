// A small TUF repository in memory for portable suites (Node and XS), signed
// with a test scheme ('test-mac': sig = hex SHA-256(public key || canonical
// bytes)) so the workflow's checks run without a curve library; real key
// types are covered by the conformance suite (test/tuf-conformance.test.ts).
import { sha256 } from '@noble/hashes/sha2.js';
import { CanonicalJsonWriter } from '../../src/update/canonical-json.js';
import { NobleHash } from '../../src/update/hash-noble.js';
import type { FetchPort, MetadataStore, SignatureVerifier } from '../../src/update/ports.js';
import { Updater } from '../../src/update/updater.js';
import { decodeUtf8, utf8Bytes } from '../../src/shared/utf8.js';

export function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export const macVerifier: SignatureVerifier = {
  verify(keytype, scheme, publicKey, message, sig) {
    if (keytype !== 'test-mac' || scheme !== 'test-mac') return false;
    return hexOf(sha256(concat(utf8Bytes(publicKey), message))) === sig;
  },
};

const CANONICAL_CAPACITY = 1 << 20;
export interface TestKey {
  id: string;
  pub: string;
}
export const key = (n: string): TestKey => ({ id: `id-${n}`, pub: `pub-${n}` });
export const keyJson = (k: TestKey) => ({ keytype: 'test-mac', scheme: 'test-mac', keyval: { public: k.pub } });
export function sign(signed: unknown, signers: TestKey[]): Uint8Array {
  const msg = new CanonicalJsonWriter(CANONICAL_CAPACITY).encode(signed).slice();
  const signatures = signers.map((k) => ({ keyid: k.id, sig: hexOf(sha256(concat(utf8Bytes(k.pub), msg))) }));
  return utf8Bytes(JSON.stringify({ signatures, signed }));
}

export const FUTURE = '2100-01-01T00:00:00Z';
export const NOW = Date.UTC(2030, 0, 1);

/** One key per top-level role (root and targets may have more, with a threshold), files by URL under http://repo/. */
export class MacRepo {
  files = new Map<string, Uint8Array>();
  requests: string[] = [];
  rootKeys = [key('root')];
  ts = key('ts');
  snap = key('snap');
  targKeys = [key('targ')];
  targThreshold = 1;
  /** The keys that sign targets.json (default: all of targKeys). */
  targSigners: TestKey[] | null = null;
  rootVersion = 1;
  rootThreshold = 1;
  consistentSnapshot = false;

  rootSigned(version: number, rootKeys: TestKey[], threshold: number) {
    const keys: Record<string, unknown> = {};
    for (const k of [...rootKeys, this.ts, this.snap, ...this.targKeys]) keys[k.id] = keyJson(k);
    return {
      _type: 'root', spec_version: '1.0.31', version, expires: FUTURE, consistent_snapshot: this.consistentSnapshot, keys,
      roles: {
        root: { keyids: rootKeys.map((k) => k.id), threshold },
        timestamp: { keyids: [this.ts.id], threshold: 1 },
        snapshot: { keyids: [this.snap.id], threshold: 1 },
        targets: { keyids: this.targKeys.map((k) => k.id), threshold: this.targThreshold },
      },
    };
  }
  publishRoot(signers: TestKey[] = this.rootKeys): Uint8Array {
    const bytes = sign(this.rootSigned(this.rootVersion, this.rootKeys, this.rootThreshold), signers);
    this.files.set(`${this.rootVersion}.root.json`, bytes);
    return bytes;
  }
  publishTop(targets: Record<string, unknown>, opts: { version?: number; tsExpires?: string; delegations?: unknown; extra?: Record<string, unknown> } = {}): void {
    const v = opts.version ?? 1;
    const tSigned: Record<string, unknown> = { _type: 'targets', spec_version: '1.0.31', version: v, expires: FUTURE, targets };
    if (opts.delegations !== undefined) tSigned['delegations'] = opts.delegations;
    const prefix = this.consistentSnapshot ? `${v}.` : '';
    this.files.set(`${prefix}targets.json`, sign(tSigned, this.targSigners ?? this.targKeys));
    const meta: Record<string, unknown> = { 'targets.json': { version: v }, ...(opts.extra ?? {}) };
    const snapshot = sign({ _type: 'snapshot', spec_version: '1.0.31', version: v, expires: FUTURE, meta }, [this.snap]);
    this.files.set(`${prefix}snapshot.json`, snapshot);
    this.files.set('timestamp.json', sign({ _type: 'timestamp', spec_version: '1.0.31', version: v, expires: opts.tsExpires ?? FUTURE, meta: { 'snapshot.json': { version: v } } }, [this.ts]));
  }
  fetch: FetchPort = {
    fetch: (url, max) => {
      const name = url.slice('http://repo/'.length);
      this.requests.push(name);
      const f = this.files.get(name);
      if (f === undefined) return Promise.resolve(null);
      return f.length > max ? Promise.reject(new Error('over bound')) : Promise.resolve(f);
    },
  };
}

export class MemoryStore implements MetadataStore {
  files = new Map<string, Uint8Array>();
  load(role: string) {
    return this.files.get(role) ?? null;
  }
  save(role: string, bytes: Uint8Array) {
    this.files.set(role, bytes.slice());
  }
  remove(role: string) {
    this.files.delete(role);
  }
  snapshot(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const [k, v] of this.files) o[k] = decodeUtf8(v, 0, v.length);
    return o;
  }
}

/** A repository, a store holding its root v1, a settable clock, and a factory of Updaters on them (targets under http://repo/t/). */
export function macSetup(now = NOW, state = 'SYNCED', configure?: (repo: MacRepo) => void) {
  const repo = new MacRepo();
  configure?.(repo);
  const store = new MemoryStore();
  store.save('root', repo.publishRoot());
  const clock = { latest: now, state };
  const updater = () =>
    new Updater({
      metadataUrl: 'http://repo', targetUrl: 'http://repo/t', verifier: macVerifier, hash: new NobleHash(), fetch: repo.fetch, store,
      clock: { now: () => ({ state: clock.state, earliest: clock.latest, latest: clock.latest }) },
    });
  return { repo, store, clock, updater };
}
