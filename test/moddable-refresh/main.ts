// Live heap of one TUF refresh on the real XS (Moddable SDK), with the Pico
// W's creation sizes (manifest.json). test/moddable-refresh.test.ts writes
// the bench's refresh fixture (tools/bench/update-fixture.ts: new timestamp,
// snapshot and targets, root unchanged, P-256 keys, root and targets 2-of-3)
// as data resources, builds this firmware instrumented (-i) for the
// simulator and reads the trace:
//   REFRESH sample <where> gc slots=<B> chunks=<B> stack=<B> gcs=<n>
//        SDK Instrumentation after Debug.gc(): at the start, at each fetch
//        of the refresh (the refresh's state is live there), at the end
//   REFRESH PASS <ms> / REFRESH FAIL <why>   the verdict
// The lin simulator does not enforce creation.static (its XS allocates slots
// and chunks with malloc: the figures go past the static size), so a refresh
// that completes here proves nothing about fitting; the figures do.
import 'refresh/globals';
import Debug from 'debug';
import Instrumentation from 'instrumentation';
import Resource from 'Resource';
import type { FetchPort, HashPort, MetadataStore, SignatureVerifier, TufClock } from 'update/ports';
import { Updater } from 'update/updater';

const METADATA_URL = 'https://repo.invalid/tuf/metadata/';

interface FixtureIndex {
  deviceTimeMs: number;
  /** Role name -> resource holding the device's trusted file. */
  trusted: Record<string, string>;
  /** Repository file name -> resource holding it. */
  served: Record<string, string>;
}

function ascii(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** A resource's bytes copied into the chunk heap, as a device reads them from storage or the network. */
function resourceBytes(name: string): Uint8Array {
  return new Uint8Array(new Resource(name).slice(0));
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const ids = {
  slots: Instrumentation.map('XS Slot Heap Used'),
  chunks: Instrumentation.map('XS Chunk Heap Used'),
  stack: Instrumentation.map('XS Stack Used'),
  gcs: Instrumentation.map('XS Garbage Collection Count'),
};

function sample(where: string): void {
  Debug.gc();
  const v = (id: number | undefined): string => String(Instrumentation.get(id));
  trace(`REFRESH sample ${where} gc slots=${v(ids.slots)} chunks=${v(ids.chunks)} stack=${v(ids.stack)} gcs=${v(ids.gcs)}\n`);
}

class MemoryStore implements MetadataStore {
  readonly files = new Map<string, Uint8Array>();
  load(role: string): Uint8Array | null {
    return this.files.get(role) ?? null;
  }
  save(role: string, bytes: Uint8Array): void {
    this.files.set(role, bytes);
  }
  remove(role: string): void {
    this.files.delete(role);
  }
}

class ResourceFetch implements FetchPort {
  count = 0;
  constructor(
    private readonly served: Record<string, string>,
    private readonly sampling: boolean,
  ) {}
  fetch(url: string, maxBytes: number): Promise<Uint8Array | null> {
    const name = url.startsWith(METADATA_URL) ? url.slice(METADATA_URL.length) : url;
    this.count++;
    if (this.sampling) sample(`fetch${this.count} ${name}`);
    const resource = this.served[name];
    if (resource === undefined) return Promise.resolve(null);
    const bytes = resourceBytes(resource);
    return bytes.length > maxBytes ? Promise.reject(new Error('over the bound')) : Promise.resolve(bytes);
  }
}

/** One refresh from the device's trusted files; throws unless it stored the served timestamp, snapshot and targets. */
async function refreshOnce(index: FixtureIndex, verifier: SignatureVerifier, hash: HashPort, sampling: boolean): Promise<void> {
  const store = new MemoryStore();
  for (const role of Object.keys(index.trusted)) store.files.set(role, resourceBytes(index.trusted[role]!));
  const clock: TufClock = { now: () => ({ state: 'SYNCED', earliest: index.deviceTimeMs - 1000, latest: index.deviceTimeMs + 1000 }) };
  const updater = new Updater({ metadataUrl: METADATA_URL, verifier, hash, fetch: new ResourceFetch(index.served, sampling), store, clock });
  await updater.refresh();
  for (const name of Object.keys(index.served)) {
    const role = name.replace(/^\d+\./, '').replace(/\.json$/, '');
    if (!sameBytes(store.files.get(role), resourceBytes(index.served[name]!))) throw new Error(`refresh did not store the served ${name}`);
  }
}

async function run(): Promise<void> {
  const index = JSON.parse(ascii(resourceBytes('fixture-index.json'))) as FixtureIndex;
  sample('start');
  // Not preloaded (see manifest.json): loading @noble/curves and @noble/hashes takes heap at run time.
  const { NobleSignatureVerifier } = await import('update/verify-noble');
  const { NobleHash } = await import('update/hash-noble');
  const verifier: SignatureVerifier = new NobleSignatureVerifier();
  const hash: HashPort = new NobleHash();
  sample('noble loaded');
  const t0 = Date.now();
  try {
    await refreshOnce(index, verifier, hash, true);
  } catch (e) {
    trace(`REFRESH FAIL ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    return;
  }
  const ms = Date.now() - t0;
  sample('end');
  trace(`REFRESH PASS ${ms}\n`);
}

export default function main(): void {
  run().catch((e: unknown) => trace(`REFRESH FAIL ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`));
}
