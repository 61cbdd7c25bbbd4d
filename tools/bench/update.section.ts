// Bench section "update": the TUF client's costs on XS (build/xs/update.js,
// rollup, @noble/curves with static fields lowered), in computrons:
//   update_xs_computrons_verify_p256 / _ed25519 / _rsa   one signature check
//        with src/update/verify-noble.ts (median of VERIFY_RUNS, warm)
//   update_xs_computrons_refresh        one Updater.refresh() with no root
//        change (new timestamp, snapshot, targets), from memory ports
//   update_xs_computrons_refresh_floor  the signature checks and hashes that
//        cycle must do (update-fixture.ts refreshFloor), same code
//   update_xs_refresh_vs_floor          the ratio (goal <= 1.15)
//   update_xs_computrons_per_kib_hashed NobleSha256 over target bytes, 4 KiB chunks
//   update_heap_bytes_refresh           XS slots one refresh allocates x 16 B (no gc
//        during it: an upper bound of its high-water)
//   update_heap_bytes_refresh_moddable  live heap of one refresh on the Moddable
//        XS (lin simulator, Pico W creation, -i build), as Pico W bytes: the
//        largest Instrumentation sample after Debug.gc() (at each fetch, at the
//        end); null with the reason when $MODDABLE / xvfb-run are missing
// and Ed25519's base-point table: verification cost and retained heap with
// the window verify-noble sets (1) and noble's default (6).
// See docs/benchmarks.md for what each figure means.
import { XsBench, type Report } from './sigv4-xs-host.js';
import { readBundle } from './sigv4-xs-runs.js';
import { join } from 'node:path';
import { findSdk, type Sdk } from '../moddable/sdk.js';
import { measureRefreshHeap, PICO_SLOT_BYTES, PICO_W_STATIC_BYTES, picoLiveBytes, refreshHeapUnavailable, SIMULATOR_SLOT_BYTES } from '../../test/moddable-refresh-host.js';
import { makeRefreshFixture, REFRESH_KEY_TYPE, REFRESH_LAYOUT, verifyVectors, type RefreshFixture, type Verification } from './update-fixture.js';

/** Metered runs per figure; the median is reported (counts repeat exactly for the same inputs). */
export const VERIFY_RUNS = 5;
export const REFRESH_RUNS = 3;
/** KiB hashed per run for the per-KiB figure. */
export const HASH_KIB = 64;
/** Goal of the issue: a refresh within this factor of its floor. */
export const REFRESH_FLOOR_GOAL = 1.15;
/** XS slot size on 32-bit targets (ESP32, Pico), as agent_heap_bytes. */
export const MCU_SLOT_BYTES = 16;
/** Objects (each with a 256 B buffer) allocated and dropped before the heap figures: 64 MB of headroom, so no collection runs inside a refresh. */
export const HEAP_RESERVE_OBJECTS = 250_000;

const repo = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..');
export const UPDATE_XS_BUNDLE = join(repo, 'build', 'xs', 'update.js');

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

function wireVerification(v: Verification): Record<string, string> {
  return { what: v.what, keytype: v.keytype, scheme: v.scheme, public: v.public, message: b64(v.message), sig: v.sig };
}

function wireFixture(f: RefreshFixture): Record<string, unknown> {
  const map = (o: Record<string, Uint8Array>): Record<string, string> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, b64(v)]));
  return {
    trusted: map(f.trusted),
    served: map(f.served),
    deviceTimeMs: f.deviceTimeMs,
    floor: { verifications: f.floor.verifications.map(wireVerification), hashed: f.floor.hashed.map((h) => ({ what: h.what, bytes: b64(h.bytes) })) },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function counts(reports: Report[], kind: string): number[] {
  const r = reports.find((x) => x.kind === kind);
  if (!r || !Array.isArray(r.counts)) throw new Error(`update bench: no ${kind} report`);
  return r.counts as number[];
}

/** Ed25519 with a given base-point window, in a fresh engine: warm cost, first-call cost, slots kept after gc. */
async function ed25519Table(code: string, vector: Verification, window: 1 | 6): Promise<{ perVerify: number; first: number; retainedSlots: number }> {
  const bench = await XsBench.load(code);
  try {
    await bench.run({ kind: 'table', window });
    const before = await bench.run({ kind: 'gc' });
    const once = await bench.run({ kind: 'verify', vector: wireVerification(vector), runs: 0 });
    const after = await bench.run({ kind: 'gc' });
    const warm = await bench.run({ kind: 'verify', vector: wireVerification(vector), runs: VERIFY_RUNS });
    const first = Number(once.reports.find((r) => r.kind === 'verified')?.first);
    return { perVerify: median(counts(warm.reports, 'verified')), first, retainedSlots: (after.meter.currentHeapCount ?? NaN) - (before.meter.currentHeapCount ?? NaN) };
  } finally {
    await bench.close();
  }
}

/** The Moddable figures (test/moddable-refresh/), or nulls and the reason. */
export async function moddableRefreshHeap(): Promise<Record<string, number | string | boolean | null>> {
  const none = (why: string): Record<string, number | string | boolean | null> => ({
    update_heap_bytes_refresh_moddable: null,
    update_heap_bytes_noble_loaded_moddable: null,
    update_stack_bytes_refresh_moddable: null,
    update_heap_refresh_moddable_fits_pico_w: null,
    update_heap_refresh_moddable_note: why,
  });
  const why = refreshHeapUnavailable();
  if (why !== false) return none(`not measured: ${why}`);
  const r = await measureRefreshHeap(findSdk() as Sdk);
  if (!r.built) return none('not measured: the refresh firmware did not build');
  if (!r.passed) return none(`the refresh did not complete on the Moddable XS: ${r.abort ?? r.failure ?? 'no verdict'}`);
  const peak = r.samples.reduce((a, s) => (picoLiveBytes(s) > picoLiveBytes(a) ? s : a));
  const loaded = r.samples.find((s) => s.where === 'noble loaded')!;
  const stack = (Math.max(...r.samples.map((s) => s.stackBytes)) / SIMULATOR_SLOT_BYTES) * PICO_SLOT_BYTES;
  const rows: Array<[string, string]> = [
    ...r.samples.map((s): [string, string] => [`Moddable XS live heap after gc, ${s.where} (slots ${s.slotBytes / SIMULATOR_SLOT_BYTES}, chunks ${s.chunkBytes} B)`, `${picoLiveBytes(s)} B as Pico W`]),
    [`Moddable refresh peak (at ${peak.where}) vs the Pico W creation.static ${PICO_W_STATIC_BYTES} B`, `${picoLiveBytes(peak)} B ${picoLiveBytes(peak) <= PICO_W_STATIC_BYTES ? 'fits' : 'DOES NOT FIT'}`],
  ];
  for (const [k, v] of rows) console.error(`${k.padEnd(80)} ${v}`);
  return {
    update_heap_bytes_refresh_moddable: picoLiveBytes(peak),
    update_heap_bytes_noble_loaded_moddable: picoLiveBytes(loaded),
    update_stack_bytes_refresh_moddable: stack,
    update_heap_refresh_moddable_fits_pico_w: picoLiveBytes(peak) <= PICO_W_STATIC_BYTES,
    update_heap_refresh_moddable_note: `peak live heap after Debug.gc() at ${peak.where}: ${peak.slotBytes / SIMULATOR_SLOT_BYTES} slots x ${PICO_SLOT_BYTES} B + ${peak.chunkBytes} B chunks (simulator chunks: an upper bound of the Pico's); between fetches not sampled`,
  };
}

export async function run(): Promise<Record<string, number | string | boolean | null>> {
  const bundle = readBundle(UPDATE_XS_BUNDLE);
  const fixture = makeRefreshFixture();
  const vectors = verifyVectors();

  const bench = await XsBench.load(bundle.code);
  let verify: Record<'p256' | 'ed25519' | 'rsa', number>;
  let refresh: number;
  let floor: number;
  let perKib: number;
  let heap: { allocated: number; repeat: boolean };
  try {
    verify = { p256: 0, ed25519: 0, rsa: 0 };
    for (const k of ['p256', 'ed25519', 'rsa'] as const) {
      const r = await bench.run({ kind: 'verify', vector: wireVerification(vectors[k]), runs: VERIFY_RUNS });
      verify[k] = median(counts(r.reports, 'verified'));
    }
    await bench.run({ kind: 'setup', fixture: wireFixture(fixture) });
    // Warm both (noble's P-256 base table, lazy inits) before measuring either.
    await bench.run({ kind: 'refreshOnce', count: 1 });
    await bench.run({ kind: 'floor', runs: 1 });
    refresh = median(counts((await bench.run({ kind: 'refresh', runs: REFRESH_RUNS })).reports, 'refreshed'));
    floor = median(counts((await bench.run({ kind: 'floor', runs: REFRESH_RUNS })).reports, 'floor'));
    perKib = median(counts((await bench.run({ kind: 'hash', kib: HASH_KIB, runs: REFRESH_RUNS })).reports, 'hashed')) / HASH_KIB;
    // Slots one refresh allocates: after growing the heaps (so no collection
    // runs during it) and a gc, one refresh, no gc; twice, to see it repeat.
    await bench.run({ kind: 'reserve', objects: HEAP_RESERVE_OBJECTS });
    const allocated: number[] = [];
    for (let i = 0; i < 2; i++) {
      const g = await bench.run({ kind: 'gc' });
      const r = await bench.run({ kind: 'refreshOnce', count: 1 });
      allocated.push((r.meter.currentHeapCount ?? NaN) - (g.meter.currentHeapCount ?? NaN));
    }
    heap = { allocated: allocated[0]!, repeat: allocated[0] === allocated[1] };
  } finally {
    await bench.close();
  }
  const table1 = await ed25519Table(bundle.code, vectors.ed25519, 1);
  const table6 = await ed25519Table(bundle.code, vectors.ed25519, 6);

  const ratio = refresh / floor;
  const layout = (Object.entries(REFRESH_LAYOUT) as Array<[string, { keys: number; threshold: number }]>).map(([r, l]) => `${r} ${l.threshold}/${l.keys}`).join(', ');
  const rows: Array<[string, string]> = [
    ['verify ecdsa-sha2-nistp256 (512 B message)', verify.p256.toFixed(0)],
    ['verify ed25519 (512 B message)', verify.ed25519.toFixed(0)],
    ['verify rsassa-pss-sha256, RSA-2048 (512 B message)', verify.rsa.toFixed(0)],
    [`refresh, no root change (${REFRESH_KEY_TYPE}; ${layout})`, refresh.toFixed(0)],
    [`refresh floor (${fixture.floor.verifications.length} verifications, ${fixture.floor.hashed.length} hashes)`, floor.toFixed(0)],
    [`refresh / floor (goal <= ${REFRESH_FLOOR_GOAL})`, `${ratio.toFixed(3)} ${ratio <= REFRESH_FLOOR_GOAL ? 'MET' : 'MISSED'}`],
    ['SHA-256 of target bytes, per KiB (NobleSha256, 4 KiB chunks)', perKib.toFixed(0)],
    [`XS slots one refresh allocates, no gc during it${heap.repeat ? '' : ' (NOT repeatable)'}`, String(heap.allocated)],
    ['ed25519 window 1: verify / first verify / slots kept', `${table1.perVerify} / ${table1.first} / ${table1.retainedSlots}`],
    ['ed25519 window 6: verify / first verify / slots kept', `${table6.perVerify} / ${table6.first} / ${table6.retainedSlots}`],
  ];
  for (const [k, v] of rows) console.error(`${k.padEnd(80)} ${v}`);
  return {
    update_xs_computrons_verify_p256: Math.round(verify.p256),
    update_xs_computrons_verify_ed25519: Math.round(verify.ed25519),
    update_xs_computrons_verify_rsa: Math.round(verify.rsa),
    update_xs_computrons_refresh: Math.round(refresh),
    update_xs_computrons_refresh_floor: Math.round(floor),
    update_xs_refresh_vs_floor: Math.round(ratio * 1000) / 1000,
    update_xs_computrons_per_kib_hashed: Math.round(perKib),
    update_heap_slots_refresh: heap.repeat ? heap.allocated : null,
    update_heap_bytes_refresh: heap.repeat ? heap.allocated * MCU_SLOT_BYTES : null,
    update_xs_computrons_verify_ed25519_window6: Math.round(table6.perVerify),
    update_heap_slots_ed25519_table: table1.retainedSlots,
    update_heap_slots_ed25519_table_window6: table6.retainedSlots,
    update_bundle: `sha256:${bundle.sha256}`,
    ...(await moddableRefreshHeap()),
  };
}
