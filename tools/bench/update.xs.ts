// XS entry (bundled by rollup to build/xs/update.js): the TUF client's costs
// on XS, measured with the code the device runs: NobleSignatureVerifier,
// NobleHash, Updater, and NobleSha256 for target bytes.
//
// Commands from the host (globalThis.handleCommand, JSON; bytes as base64):
//   setup   {fixture}                 keep the refresh fixture (update-fixture.ts)
//   table   {window}                  Ed25519's base-point window: 1 (what verify-noble sets) or 6 (noble's default)
//   verify  {vector, runs}            computrons of each of `runs` verifications (after one that warms up)
//   refresh {runs}                    computrons of each of `runs` refresh cycles, each from the stored state
//   floor   {runs}                    computrons of the floor: its verifications and hashes, nothing else
//   hash    {kib, runs}               computrons of SHA-256 over `kib` KiB streamed in 4 KiB chunks
//   gc                                gc(); the host reads the live slots from the meter
//   reserve {objects}                 allocate and drop that many objects of 256 B, then gc (grows the free slot and chunk heaps)
//   refreshOnce {count}               `count` refreshes without gc (the host reads the slots they allocated)
// Every command ends with a `done` report; the host treats a command without it as failed.
import { ed25519 } from '@noble/curves/ed25519.js';
import { NobleSha256 } from '../../src/sigv4/sha256-noble.js';
import { NobleHash } from '../../src/update/hash-noble.js';
import type { FetchPort, MetadataStore, TufClock } from '../../src/update/ports.js';
import { Updater } from '../../src/update/updater.js';
import { base64Bytes, NobleSignatureVerifier } from '../../src/update/verify-noble.js';
import { collectGarbage, meterLap, receive, send } from './sigv4-xs-meter.js';

/** Chunk of target bytes hashed at a time (the staging code's STAGING_CHUNK_BYTES). */
const HASH_CHUNK_BYTES = 4096;

interface WireVerification {
  what: string;
  keytype: string;
  scheme: string;
  public: string;
  message: string;
  sig: string;
}
interface WireFixture {
  trusted: Record<string, string>;
  served: Record<string, string>;
  deviceTimeMs: number;
  floor: { verifications: WireVerification[]; hashed: Array<{ what: string; bytes: string }> };
}

interface Fixture {
  trusted: Map<string, Uint8Array>;
  served: Map<string, Uint8Array>;
  deviceTimeMs: number;
  verifications: Array<Omit<WireVerification, 'message'> & { message: Uint8Array }>;
  hashed: Uint8Array[];
}

function bytes(b64: string): Uint8Array {
  const b = base64Bytes(b64);
  if (b === null) throw new Error('bad base64 from the host');
  return b;
}

const METADATA_URL = 'https://repo.invalid/tuf/metadata/';
let fixture: Fixture | null = null;
const verifier = new NobleSignatureVerifier();
const hash = new NobleHash();

class MemoryStore implements MetadataStore {
  readonly files: Map<string, Uint8Array>;
  constructor(from: Map<string, Uint8Array>) {
    this.files = new Map(from);
  }
  load(role: string): Uint8Array | null {
    return this.files.get(role) ?? null;
  }
  save(role: string, b: Uint8Array): void {
    this.files.set(role, b);
  }
  remove(role: string): void {
    this.files.delete(role);
  }
}

class MemoryFetch implements FetchPort {
  constructor(private readonly served: Map<string, Uint8Array>) {}
  fetch(url: string, maxBytes: number): Promise<Uint8Array | null> {
    const name = url.startsWith(METADATA_URL) ? url.slice(METADATA_URL.length) : url;
    const b = this.served.get(name);
    if (b !== undefined && b.length > maxBytes) return Promise.reject(new Error('over the bound'));
    return Promise.resolve(b ?? null);
  }
}

function updaterFor(f: Fixture): { updater: Updater; store: MemoryStore } {
  const store = new MemoryStore(f.trusted);
  const clock: TufClock = { now: () => ({ state: 'SYNCED', earliest: f.deviceTimeMs - 1000, latest: f.deviceTimeMs + 1000 }) };
  return { updater: new Updater({ metadataUrl: METADATA_URL, verifier, hash, fetch: new MemoryFetch(f.served), store, clock }), store };
}

/** Refreshes; throws unless the store then holds the served timestamp. */
async function refreshChecked(f: Fixture): Promise<void> {
  const pair = updaterFor(f);
  await pair.updater.refresh();
  const ts = pair.store.files.get('timestamp');
  if (ts !== f.served.get('timestamp.json')) throw new Error('refresh did not store the new timestamp');
}

function floorOnce(f: Fixture): void {
  for (const v of f.verifications) {
    if (!verifier.verify(v.keytype, v.scheme, v.public, v.message, v.sig)) throw new Error(`floor: ${v.what} did not verify`);
  }
  for (const b of f.hashed) hash.digest('sha256', b);
}

function need(): Fixture {
  if (fixture === null) throw new Error('setup first');
  return fixture;
}

async function handle(cmd: Record<string, unknown>): Promise<void> {
  switch (cmd.kind) {
    case 'setup': {
      const w = cmd.fixture as WireFixture;
      const toMap = (o: Record<string, string>): Map<string, Uint8Array> => new Map(Object.keys(o).map((k) => [k, bytes(o[k]!)]));
      fixture = {
        trusted: toMap(w.trusted),
        served: toMap(w.served),
        deviceTimeMs: w.deviceTimeMs,
        verifications: w.floor.verifications.map((v) => ({ ...v, message: bytes(v.message) })),
        hashed: w.floor.hashed.map((h) => bytes(h.bytes)),
      };
      break;
    }
    case 'table':
      ed25519.Point.BASE.precompute(Number(cmd.window), true);
      break;
    case 'verify': {
      const v = cmd.vector as WireVerification;
      const message = bytes(v.message);
      const run = (): boolean => verifier.verify(v.keytype, v.scheme, v.public, message, v.sig);
      meterLap();
      const ok0 = run();
      const first = meterLap();
      const counts: number[] = [];
      for (let i = 0; i < Number(cmd.runs); i++) {
        meterLap();
        const ok = run();
        const c = meterLap();
        if (!ok || !ok0) throw new Error(`${v.what} did not verify`);
        counts.push(c);
      }
      send({ kind: 'verified', what: v.what, first, counts });
      break;
    }
    case 'refresh': {
      const f = need();
      const counts: number[] = [];
      for (let i = 0; i < Number(cmd.runs); i++) {
        const { updater, store } = updaterFor(f);
        meterLap();
        await updater.refresh();
        const c = meterLap();
        if (store.files.get('timestamp') !== f.served.get('timestamp.json')) throw new Error('refresh did not store the new timestamp');
        counts.push(c);
      }
      send({ kind: 'refreshed', counts });
      break;
    }
    case 'floor': {
      const f = need();
      const counts: number[] = [];
      for (let i = 0; i < Number(cmd.runs); i++) {
        meterLap();
        floorOnce(f);
        counts.push(meterLap());
      }
      send({ kind: 'floor', counts });
      break;
    }
    case 'hash': {
      const total = Number(cmd.kib) * 1024;
      const data = new Uint8Array(total);
      for (let i = 0; i < total; i++) data[i] = (i * 31) & 0xff;
      const sha = new NobleSha256();
      const out = new Uint8Array(32);
      const counts: number[] = [];
      for (let i = 0; i < Number(cmd.runs); i++) {
        meterLap();
        sha.reset();
        for (let o = 0; o < total; o += HASH_CHUNK_BYTES) sha.update(data, o, Math.min(total, o + HASH_CHUNK_BYTES));
        sha.finish(out, 0);
        counts.push(meterLap());
      }
      send({ kind: 'hashed', counts, digest0: out[0]! });
      break;
    }
    case 'gc':
      collectGarbage();
      break;
    case 'reserve': {
      // Grows the slot and chunk heaps (XS keeps them grown), so the runs that follow have free slots and no collection interrupts them.
      let keep: object[] | null = [];
      for (let i = 0; i < Number(cmd.objects); i++) keep.push({ i, chunk: new Uint8Array(256) });
      keep = null;
      collectGarbage();
      break;
    }
    case 'refreshOnce': {
      const f = need();
      for (let i = 0; i < Number(cmd.count); i++) await refreshChecked(f);
      break;
    }
    default:
      throw new Error(`unknown command ${String(cmd.kind)}`);
  }
}

(globalThis as { handleCommand?: (m: ArrayBuffer) => ArrayBuffer }).handleCommand = (message: ArrayBuffer): ArrayBuffer => {
  const cmd = receive(message);
  // The worker runs promise jobs to completion before ending the crank: the reports arrive within this command.
  handle(cmd).then(
    () => send({ kind: 'done' }),
    (e: unknown) => send({ kind: 'error', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
  return new ArrayBuffer(0);
};
