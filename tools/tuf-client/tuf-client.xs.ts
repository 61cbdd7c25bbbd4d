// XS side of `tuf-client --engine xs` (bundled to build/xs/tuf-client.js).
//
// Runs the same TUF core as the Node engine (Updater, NobleSignatureVerifier,
// NobleHash) inside XS; every port is a round trip to the host
// (tools/tuf-client/xs-host.ts) through issueCommand, which blocks XS while
// the host does the I/O. A request is UTF-8 JSON, optionally followed by a
// 0x00 byte and raw bytes (a file to write). A reply is one status byte
// (REPLY_*) then the payload: raw bytes, or UTF-8 JSON / text.
// The script ends with a `done` report carrying the exit code: the host
// accepts the run only with that report, since XS can stop early silently.
import { TufError } from '../../src/update/errors.js';
import { NobleHash } from '../../src/update/hash-noble.js';
import { downloadTargets, type TargetCache } from '../../src/update/download.js';
import type { FetchPort, MetadataStore, TufClock } from '../../src/update/ports.js';
import { Updater } from '../../src/update/updater.js';
import { NobleSignatureVerifier } from '../../src/update/verify-noble.js';
import { decodeUtf8, utf8Bytes } from '../../src/shared/utf8.js';

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

const REPLY_OK = 0;
const REPLY_MISSING = 1;
const REPLY_ERROR = 2;

interface Args {
  command: string;
  metadataUrl: string;
  targetBaseUrl: string | null;
  targetNames: string[];
}

function call(request: object, payload?: Uint8Array): { status: number; body: Uint8Array } {
  const head = utf8Bytes(JSON.stringify(request));
  const message = new Uint8Array(head.length + (payload === undefined ? 0 : 1 + payload.length));
  message.set(head, 0);
  if (payload !== undefined) message.set(payload, head.length + 1);
  const reply = new Uint8Array(issueCommand(message.buffer));
  if (reply.length === 0) return { status: REPLY_ERROR, body: reply };
  return { status: reply[0]!, body: reply.subarray(1) };
}

const text = (b: Uint8Array): string => decodeUtf8(b, 0, b.length);

function log(message: string): void {
  call({ kind: 'log', message });
}

const fetchPort: FetchPort = {
  fetch(url, maxBytes) {
    const r = call({ kind: 'fetch', url, maxBytes });
    if (r.status === REPLY_OK) return Promise.resolve(r.body.slice());
    if (r.status === REPLY_MISSING) return Promise.resolve(null);
    return Promise.reject(new Error(text(r.body) || 'fetch failed'));
  },
};

const store: MetadataStore = {
  load(role) {
    const r = call({ kind: 'load', role });
    return r.status === REPLY_OK ? r.body.slice() : null;
  },
  save(role, bytes) {
    if (call({ kind: 'save', role }, bytes).status !== REPLY_OK) throw new Error(`saving ${role} failed`);
  },
  remove(role) {
    call({ kind: 'remove', role });
  },
};

const clock: TufClock = {
  now() {
    const r = call({ kind: 'now' });
    if (r.status !== REPLY_OK) return { state: 'UNSYNCED', earliest: NaN, latest: NaN };
    return JSON.parse(text(r.body)) as { state: string; earliest: number; latest: number };
  },
};

/** Targets live on the host, in its target directory. */
const hostTargets: TargetCache = {
  read(file) {
    const r = call({ kind: 'readTarget', file });
    return r.status === REPLY_OK ? r.body : null;
  },
  write(file, bytes) {
    if (call({ kind: 'writeTarget', file }, bytes).status !== REPLY_OK) throw new TufError('storage', `writing target ${file} failed`);
  },
};

async function download(u: Updater, a: Args): Promise<number> {
  const missing = await downloadTargets(u, a.targetNames, hostTargets, log);
  if (missing === null) return 0;
  log(`${missing}: no trusted metadata lists this target`);
  return 1;
}

async function run(): Promise<number> {
  const r = call({ kind: 'args' });
  if (r.status !== REPLY_OK) return 2;
  const a = JSON.parse(text(r.body)) as Args;
  const u = new Updater({
    metadataUrl: a.metadataUrl,
    ...(a.targetBaseUrl === null ? {} : { targetUrl: a.targetBaseUrl }),
    verifier: new NobleSignatureVerifier(),
    hash: new NobleHash(),
    fetch: fetchPort,
    store,
    clock,
  });
  if (a.command === 'refresh') {
    await u.refresh();
    return 0;
  }
  if (a.command === 'download') return download(u, a);
  return 2;
}

run().then(
  (code) => call({ kind: 'done', code }),
  (e: unknown) => {
    log(e instanceof TufError ? e.message : `error: ${e instanceof Error ? e.message : String(e)}`);
    call({ kind: 'done', code: 1 });
  },
);
