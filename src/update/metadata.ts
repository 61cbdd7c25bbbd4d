// Parsing of TUF metadata files with strict type checks. Every field the
// workflow reads is checked for type and range here, so the workflow
// (trusted-set.ts) reads plain, well-typed objects. Unknown fields are kept
// (they are part of the signed bytes) and ignored.
import { decodeUtf8 } from '../shared/utf8.js';
import { TufError } from './errors.js';
import {
  MAX_DELEGATIONS_PER_FILE,
  MAX_HASHES_PER_FILE,
  MAX_KEYIDS_PER_ROLE,
  MAX_KEYS_PER_FILE,
  MAX_PATHS_PER_ROLE,
  MAX_SIGNATURES_PER_FILE,
  MAX_SNAPSHOT_ENTRIES,
  MAX_TARGETS_PER_FILE,
} from './limits.js';

export const SPEC_MAJOR = '1';

export interface Key {
  keytype: string;
  scheme: string;
  public: string;
}
export interface Role {
  keyids: string[];
  threshold: number;
}
export interface Signature {
  keyid: string;
  sig: string;
}
export interface MetaFile {
  version: number;
  length: number | null;
  hashes: Record<string, string> | null;
}
export interface TargetFile {
  length: number;
  hashes: Record<string, string>;
  custom: unknown;
}
export interface DelegatedRole extends Role {
  name: string;
  terminating: boolean;
  paths: string[] | null;
  pathHashPrefixes: string[] | null;
}
export interface Delegations {
  keys: Record<string, Key>;
  roles: DelegatedRole[];
}
interface SignedCommon {
  version: number;
  expiresMs: number;
}
export interface RootSigned extends SignedCommon {
  type: 'root';
  consistentSnapshot: boolean;
  keys: Record<string, Key>;
  roles: Record<'root' | 'timestamp' | 'snapshot' | 'targets', Role>;
}
export interface TimestampSigned extends SignedCommon {
  type: 'timestamp';
  snapshotMeta: MetaFile;
}
export interface SnapshotSigned extends SignedCommon {
  type: 'snapshot';
  meta: Map<string, MetaFile>;
}
export interface TargetsSigned extends SignedCommon {
  type: 'targets';
  targets: Map<string, TargetFile>;
  delegations: Delegations | null;
}
export type Signed = RootSigned | TimestampSigned | SnapshotSigned | TargetsSigned;
export type RoleType = Signed['type'];

/** A parsed file: its signed part as JSON (to canonicalise), typed, and its signatures. */
export interface Envelope<S extends Signed = Signed> {
  signedJson: Record<string, unknown>;
  signed: S;
  signatures: Signature[];
}

function bad(what: string): never {
  throw new TufError('malformed', what);
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') bad(`${what} is not a string`);
  return v;
}
function int(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(`${what} is not an integer`);
  if (v < min) bad(`${what} is below ${min}`);
  return v;
}
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(`${what} is not a boolean`);
  return v;
}
function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) bad(`${what} is not an array`);
  if (v.length > max) throw new TufError('over-limit', `${what} has more than ${max} entries`);
  return v;
}
function entries(v: unknown, what: string, max: number): [string, unknown][] {
  const o = obj(v, what);
  const keys = Object.keys(o);
  if (keys.length > max) throw new TufError('over-limit', `${what} has more than ${max} entries`);
  return keys.map((k) => [k, o[k]]);
}
function strings(v: unknown, what: string, max: number): string[] {
  const a = arr(v, what, max);
  const out: string[] = [];
  for (const s of a) out.push(str(s, `an entry of ${what}`));
  return out;
}

const EXPIRES = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
/** `expires` as Unix ms; the spec's form is exactly YYYY-MM-DDTHH:MM:SSZ. */
export function parseExpires(text: string): number {
  const m = EXPIRES.exec(text);
  if (m === null) bad('expires is not YYYY-MM-DDTHH:MM:SSZ');
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (mo < 1 || mo > 12 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) bad('expires is not a valid date');
  return ms;
}

function parseKey(v: unknown, what: string): Key {
  const k = obj(v, what);
  const keyval = obj(k['keyval'], `${what}.keyval`);
  return { keytype: str(k['keytype'], `${what}.keytype`), scheme: str(k['scheme'], `${what}.scheme`), public: str(keyval['public'], `${what}.keyval.public`) };
}
function parseKeys(v: unknown, what: string): Record<string, Key> {
  const out: Record<string, Key> = Object.create(null);
  for (const [id, k] of entries(v, what, MAX_KEYS_PER_FILE)) out[id] = parseKey(k, `${what}[key]`);
  return out;
}
function parseRole(v: unknown, what: string): Role {
  const r = obj(v, what);
  const keyids = strings(r['keyids'], `${what}.keyids`, MAX_KEYIDS_PER_ROLE);
  if (new Set(keyids).size !== keyids.length) bad(`${what}.keyids lists a key twice`);
  return { keyids, threshold: int(r['threshold'], `${what}.threshold`, 1) };
}
function parseHashes(v: unknown, what: string): Record<string, string> {
  const list = entries(v, what, MAX_HASHES_PER_FILE);
  if (list.length === 0) bad(`${what} is empty`);
  const out: Record<string, string> = Object.create(null);
  for (const [alg, h] of list) out[alg] = str(h, `${what}[${alg}]`);
  return out;
}
function parseMetaFile(v: unknown, what: string): MetaFile {
  const m = obj(v, what);
  return {
    version: int(m['version'], `${what}.version`, 1),
    length: m['length'] === undefined ? null : int(m['length'], `${what}.length`, 0),
    hashes: m['hashes'] === undefined ? null : parseHashes(m['hashes'], `${what}.hashes`),
  };
}
function parseTargetFile(v: unknown, what: string): TargetFile {
  const t = obj(v, what);
  return { length: int(t['length'], `${what}.length`, 0), hashes: parseHashes(t['hashes'], `${what}.hashes`), custom: t['custom'] };
}
function parseDelegations(v: unknown): Delegations {
  const d = obj(v, 'delegations');
  const keys = parseKeys(d['keys'], 'delegations.keys');
  if (d['succinct_roles'] !== undefined) bad('delegations.succinct_roles is not supported');
  const roles: DelegatedRole[] = [];
  const names = new Set<string>();
  for (const rv of arr(d['roles'], 'delegations.roles', MAX_DELEGATIONS_PER_FILE)) {
    const r = obj(rv, 'a delegated role');
    const name = str(r['name'], 'a delegated role name');
    if (names.has(name)) bad('delegations.roles names a role twice');
    names.add(name);
    const role = parseRole(r, 'a delegated role');
    const paths = r['paths'] === undefined ? null : strings(r['paths'], 'paths', MAX_PATHS_PER_ROLE);
    const prefixes = r['path_hash_prefixes'] === undefined ? null : strings(r['path_hash_prefixes'], 'path_hash_prefixes', MAX_PATHS_PER_ROLE);
    if ((paths === null) === (prefixes === null)) bad('a delegated role needs exactly one of paths and path_hash_prefixes');
    roles.push({ ...role, name, terminating: bool(r['terminating'], 'terminating'), paths, pathHashPrefixes: prefixes });
  }
  return { keys, roles };
}

const TOP_ROLES = ['root', 'timestamp', 'snapshot', 'targets'] as const;

function parseSigned(s: Record<string, unknown>): Signed {
  const type = str(s['_type'], '_type');
  const spec = str(s['spec_version'], 'spec_version');
  const parts = spec.split('.');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) bad('spec_version is not X.Y[.Z]');
  if (parts[0] !== SPEC_MAJOR) throw new TufError('wrong-type', `spec_version ${spec} is not ${SPEC_MAJOR}.x`);
  const common = { version: int(s['version'], 'version', 1), expiresMs: parseExpires(str(s['expires'], 'expires')) };
  switch (type) {
    case 'root': {
      const roles: Record<string, Role> = Object.create(null);
      const listed = entries(s['roles'], 'roles', 16);
      for (const [name, r] of listed) roles[name] = parseRole(r, `roles.${name}`);
      if (listed.length !== 4 || TOP_ROLES.some((n) => roles[n] === undefined)) bad('roles must be exactly root, timestamp, snapshot, targets');
      const cs = s['consistent_snapshot'];
      return { type, ...common, consistentSnapshot: cs === undefined ? false : bool(cs, 'consistent_snapshot'), keys: parseKeys(s['keys'], 'keys'), roles: roles as RootSigned['roles'] };
    }
    case 'timestamp': {
      const meta = entries(s['meta'], 'meta', 1);
      if (meta.length !== 1 || meta[0]![0] !== 'snapshot.json') bad('timestamp meta must list exactly snapshot.json');
      return { type, ...common, snapshotMeta: parseMetaFile(meta[0]![1], 'meta[snapshot.json]') };
    }
    case 'snapshot': {
      const meta = new Map<string, MetaFile>();
      for (const [name, m] of entries(s['meta'], 'meta', MAX_SNAPSHOT_ENTRIES)) meta.set(name, parseMetaFile(m, 'a meta entry'));
      return { type, ...common, meta };
    }
    case 'targets': {
      const targets = new Map<string, TargetFile>();
      for (const [path, t] of entries(s['targets'], 'targets', MAX_TARGETS_PER_FILE)) targets.set(path, parseTargetFile(t, 'a target'));
      return { type, ...common, targets, delegations: s['delegations'] === undefined ? null : parseDelegations(s['delegations']) };
    }
    default:
      throw new TufError('wrong-type', 'unknown _type');
  }
}

/** Parses a metadata file's bytes (already bounded by the caller). */
export function parseEnvelope(bytes: Uint8Array): Envelope {
  const text = decodeUtf8(bytes, 0, bytes.length, 'refuse');
  if (text === null) bad('not UTF-8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  const top = obj(json, 'metadata');
  const signedJson = obj(top['signed'], 'signed');
  const signatures: Signature[] = [];
  for (const sv of arr(top['signatures'], 'signatures', MAX_SIGNATURES_PER_FILE)) {
    const sg = obj(sv, 'a signature');
    const keyid = str(sg['keyid'], 'a signature keyid');
    // The spec: a keyid appears at most once in `signatures`.
    if (signatures.some((x) => x.keyid === keyid)) bad('signatures lists a keyid twice');
    signatures.push({ keyid, sig: str(sg['sig'], 'a signature sig') });
  }
  return { signedJson, signed: parseSigned(signedJson), signatures };
}
