// The TUF repository the gateway serves (tools/tuf-repo layout):
//   GET|HEAD /tuf/metadata/<file>   GET|HEAD /tuf/targets/<path>
// with single HTTP byte ranges (206 / 416), 404 for anything missing, and only
// regular files below <dir>/metadata or <dir>/targets (no `..`, no symlink
// out). No auth: TUF metadata is public, its signatures are the protection.
// The TUF faults (faults.ts TufFaults) are applied here, on the wire.
//
// Unless the caller names a repository, the dev cloud keeps its own in the
// state dir (<stateDir>/tuf/repo, keys in <stateDir>/tuf/keys) so `npm start`
// has a working one.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { formatHttpDate } from './amz-date.js';
import type { TufFaults } from './faults.js';
import { TufRepo, type TopRole } from '../tuf-repo/repo.js';
import type { KeyType } from '../tuf-repo/keys.js';

/** Largest file served (the whole file is read per request). */
export const MAX_SERVED_FILE_BYTES = 64 * 1024 * 1024;
/** Bytes an endless answer sends before the dev cloud gives up and cuts it (a bound: "never ends" for any sane client). */
export const MAX_ENDLESS_BYTES = 1024 * 1024 * 1024;
/** Filler chunk of an endless answer. */
export const ENDLESS_CHUNK_BYTES = 16 * 1024;
/** Tick of the slow-data trickle. */
export const SLOW_TICK_MS = 100;
/** Requests remembered in the TUF request log (oldest dropped first). */
export const TUF_REQUEST_LOG_CAPACITY = 10_000;
/** Longest request path below /tuf/ accepted. */
export const MAX_TUF_PATH_CHARS = 2048;

/** Keys of the dev cloud's own repository: root 2 of 3 (the offline role), targets, and the online roles; every key P-256, which boards verify natively (their verifier has no Ed25519: docs/updates.md). */
export const OWN_REPO_ROLES: Readonly<Record<TopRole, { keys: number; threshold: number; keyType: KeyType }>> = {
  root: { keys: 3, threshold: 2, keyType: 'ecdsa-sha2-nistp256' },
  targets: { keys: 1, threshold: 1, keyType: 'ecdsa-sha2-nistp256' },
  snapshot: { keys: 1, threshold: 1, keyType: 'ecdsa-sha2-nistp256' },
  timestamp: { keys: 1, threshold: 1, keyType: 'ecdsa-sha2-nistp256' },
};
/** At start, the own repository re-signs a role that expires sooner than this. */
export const OWN_REPO_REFRESH_MARGIN_S: Readonly<Record<'targets' | 'snapshot' | 'timestamp', number>> = { targets: 7 * 86_400, snapshot: 86_400, timestamp: 12 * 3600 };

export interface TufRequestRecord {
  index: number;
  atMs: number;
  method: string;
  /** Path below /tuf/ as requested (still percent-encoded). */
  path: string;
  range: string | null;
  status: number;
  /** Body bytes the answer declares (or, for endless answers, null). */
  bytes: number | null;
  /** The TUF fault that shaped the answer, if any. */
  fault: 'tamper-target' | 'withhold-snapshot' | 'replay-timestamp' | 'endless' | 'slow' | null;
}

export interface ServedRepo {
  dir: string;
  /** Keys directory when the dev cloud may add and publish targets (its own repository, or one named with keys). */
  keysDir: string | null;
}

/** Opens (or creates, first time) the dev cloud's own repository; re-signs roles close to expiry. */
export function ensureOwnTufRepo(stateDir: string, now: () => Date): ServedRepo {
  const dir = join(stateDir, 'tuf', 'repo');
  const keysDir = join(stateDir, 'tuf', 'keys');
  if (!existsSync(join(dir, 'tuf-repo.json'))) {
    TufRepo.init(dir, { keysDir, now, roles: OWN_REPO_ROLES });
    return { dir, keysDir };
  }
  const repo = TufRepo.open(dir, { keysDir, now });
  const soon = (expires: string, margin: number): boolean => Date.parse(expires) - now().getTime() < margin * 1000;
  const bump: Array<'targets' | 'snapshot'> = [];
  if (soon(repo.targets().signed.expires, OWN_REPO_REFRESH_MARGIN_S.targets)) bump.push('targets');
  if (soon(repo.snapshot().signed.expires, OWN_REPO_REFRESH_MARGIN_S.snapshot)) bump.push('snapshot');
  if (bump.length > 0 || soon(repo.timestamp().signed.expires, OWN_REPO_REFRESH_MARGIN_S.timestamp)) repo.publish({ bump });
  return { dir, keysDir };
}

export type ByteRange = { start: number; end: number };

/**
 * One `bytes=` range of a `size`-byte file: the inclusive range, 'unsatisfiable'
 * (416), or null (no usable Range: answer the whole file). Several ranges or
 * another unit are ignored (a server may), a malformed bytes range is 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const h = header.trim();
  if (!/^bytes=/i.test(h)) return null;
  const spec = h.slice(6).trim();
  if (spec.includes(',')) return null;
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (m === null || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (!Number.isSafeInteger(suffix) || suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start || start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

/** The file a path below /tuf/ names, or null: only regular files under <dir>/metadata or <dir>/targets. */
export function resolveRepoFile(dir: string, encodedPath: string): { file: string; kind: 'metadata' | 'targets'; rel: string } | null {
  if (encodedPath.length > MAX_TUF_PATH_CHARS) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath);
  } catch {
    return null;
  }
  const segs = decoded.split('/');
  const kind = segs.shift();
  if (kind !== 'metadata' && kind !== 'targets') return null;
  if (segs.length === 0 || segs.some((s) => s === '' || s === '.' || s === '..' || /[\\\0]/.test(s))) return null;
  let base: string;
  let file: string;
  try {
    base = realpathSync(join(dir, kind));
    file = realpathSync(join(base, ...segs));
    if (!file.startsWith(base + sep) || !statSync(file).isFile()) return null;
  } catch {
    return null;
  }
  return { file, kind, rel: segs.join('/') };
}

const SNAPSHOT_FILE = /^(\d+\.)?snapshot\.json$/;

export class TufServer {
  private served: ServedRepo;
  private readonly log: TufRequestRecord[] = [];
  private next = 0;

  constructor(
    initial: ServedRepo,
    private readonly faults: TufFaults,
    private readonly now: () => number,
  ) {
    this.served = { dir: resolve(initial.dir), keysDir: initial.keysDir === null ? null : resolve(initial.keysDir) };
  }

  get repo(): ServedRepo {
    return { ...this.served };
  }

  /** Serve another repository directory from the next request on. */
  serve(repo: ServedRepo): void {
    const dir = resolve(repo.dir);
    if (!existsSync(join(dir, 'metadata')) || !statSync(join(dir, 'metadata')).isDirectory()) throw new RangeError(`${dir} has no metadata/ directory`);
    this.served = { dir, keysDir: repo.keysDir === null ? null : resolve(repo.keysDir) };
  }

  /** A writer for the served repository; refused when the dev cloud holds no keys for it. */
  writer(now: () => Date): TufRepo {
    if (this.served.keysDir === null) throw new RangeError('the served TUF repository was given without a keys directory: the dev cloud cannot sign for it');
    return TufRepo.open(this.served.dir, { keysDir: this.served.keysDir, now });
  }

  /** Captures the timestamp.json served now, for a later replay. */
  captureTimestamp(): number {
    const bytes = readFileSync(join(this.served.dir, 'metadata', 'timestamp.json'));
    const version = (JSON.parse(bytes.toString('utf8')) as { signed: { version: number } }).signed.version;
    this.faults.capture(bytes, version);
    return version;
  }

  /** The served repository's first root (what a device is provisioned with), else its newest. */
  rootFile(): string {
    const first = join(this.served.dir, 'metadata', '1.root.json');
    return existsSync(first) ? first : join(this.served.dir, 'metadata', 'root.json');
  }

  requests(since = 0): TufRequestRecord[] {
    return this.log.filter((r) => r.index >= since);
  }

  private record(r: Omit<TufRequestRecord, 'index' | 'atMs'>): void {
    this.log.push({ index: this.next++, atMs: this.now(), ...r });
    if (this.log.length > TUF_REQUEST_LOG_CAPACITY) this.log.shift();
  }

  private plain(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
    const body = Buffer.from(JSON.stringify({ message }));
    res.writeHead(status, { date: formatHttpDate(this.now()), 'content-type': 'application/json', 'content-length': String(body.length), ...extra });
    res.end(body);
  }

  /** Answers a request whose path starts with /tuf/ (`encodedPath`: the rest, query removed). */
  handle(req: IncomingMessage, res: ServerResponse, encodedPath: string): void {
    const method = req.method ?? 'GET';
    const rangeHeader = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    const base = { method, path: encodedPath, range: rangeHeader ?? null };
    if (method !== 'GET' && method !== 'HEAD') {
      this.record({ ...base, status: 405, bytes: null, fault: null });
      return this.plain(res, 405, `Method ${method} is not allowed on /tuf/; use GET or HEAD.`, { allow: 'GET, HEAD' });
    }
    const f = this.faults;
    const matches = (rule: { match: string } | null): boolean => rule !== null && encodedPath.startsWith(rule.match);
    let fault: TufRequestRecord['fault'] = null;

    let body: Buffer | null = null;
    if (f.withholdSnapshot && encodedPath.startsWith('metadata/') && SNAPSHOT_FILE.test(encodedPath.slice('metadata/'.length))) {
      this.record({ ...base, status: 404, bytes: null, fault: 'withhold-snapshot' });
      return this.plain(res, 404, 'Not Found');
    }
    const replay = encodedPath === 'metadata/timestamp.json' ? f.replayed() : null;
    if (replay !== null) {
      body = replay;
      fault = 'replay-timestamp';
    } else {
      const found = resolveRepoFile(this.served.dir, encodedPath);
      if (found === null) {
        this.record({ ...base, status: 404, bytes: null, fault: null });
        return this.plain(res, 404, 'Not Found');
      }
      const size = statSync(found.file).size;
      if (size > MAX_SERVED_FILE_BYTES) {
        this.record({ ...base, status: 500, bytes: null, fault: null });
        return this.plain(res, 500, `File larger than ${MAX_SERVED_FILE_BYTES} bytes.`);
      }
      body = readFileSync(found.file);
      if (found.kind === 'targets' && matches(f.tamperTarget) && body.length > 0) {
        body = Buffer.from(body);
        const at = Math.floor(body.length / 2);
        body[at] = body[at]! ^ 0xff;
        fault = 'tamper-target';
      }
    }

    const range = parseRange(rangeHeader, body.length);
    if (range === 'unsatisfiable') {
      this.record({ ...base, status: 416, bytes: null, fault });
      return this.plain(res, 416, 'Range Not Satisfiable', { 'content-range': `bytes */${body.length}` });
    }
    const status = range === null ? 200 : 206;
    const slice = range === null ? body : body.subarray(range.start, range.end + 1);
    const headers: Record<string, string> = {
      date: formatHttpDate(this.now()),
      'content-type': encodedPath.startsWith('metadata/') ? 'application/json' : 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    if (range !== null) headers['content-range'] = `bytes ${range.start}-${range.end}/${body.length}`;

    if (method === 'GET' && matches(f.endless)) {
      // No content-length: chunked, and it never ends. The client must enforce the length it expects.
      this.record({ ...base, status, bytes: null, fault: 'endless' });
      res.writeHead(status, headers);
      return streamEndless(res, slice);
    }
    headers['content-length'] = String(slice.length);
    if (method === 'GET' && matches(f.slow)) {
      this.record({ ...base, status, bytes: slice.length, fault: 'slow' });
      res.writeHead(status, headers);
      return trickle(res, slice, f.slow!.bytesPerSecond);
    }
    this.record({ ...base, status, bytes: slice.length, fault });
    res.writeHead(status, headers);
    res.end(method === 'HEAD' ? undefined : slice);
  }
}

/** Writes `first`, then zero filler, honouring back-pressure, until the client goes (or MAX_ENDLESS_BYTES). */
function streamEndless(res: ServerResponse, first: Buffer): void {
  const filler = Buffer.alloc(ENDLESS_CHUNK_BYTES);
  let sent = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const pump = (): void => {
    while (!closed) {
      if (sent >= MAX_ENDLESS_BYTES) {
        res.destroy();
        return;
      }
      const chunk = sent === 0 && first.length > 0 ? first : filler;
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** Sends `body` at about `bytesPerSecond`, in SLOW_TICK_MS steps; stops if the client goes. */
function trickle(res: ServerResponse, body: Buffer, bytesPerSecond: number): void {
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(step, SLOW_TICK_MS);
  res.on('close', () => clearInterval(timer));
  function step(): void {
    const allowed = Math.min(body.length, Math.floor(((Date.now() - started) / 1000) * bytesPerSecond));
    if (allowed > sent) {
      res.write(body.subarray(sent, allowed));
      sent = allowed;
    }
    if (sent >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }
}
