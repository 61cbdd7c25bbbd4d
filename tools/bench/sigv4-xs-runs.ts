// Runs the XS side of the benchmark: our signer (build/xs/sigv4-ours.js,
// rollup) and @smithy/signature-v4 (build/bench/sigv4-smithy.js, esbuild),
// each in a fresh engine, each with its SHA-256 floor measured in the same
// bundle. Checks every signature the engine reports against aws-crt's.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XsBench, type Report } from './sigv4-xs-host.js';
import { PeerMismatchError } from './sigv4-peers.js';
import { xsShapeOf, type ShapeReference } from './sigv4-reference.js';
import type { Measured } from './sigv4-xs-meter.js';
import { bundleSmithyForXs } from './smithy/bundle.js';

/** Signatures before measuring (lazy init, signing-key derivation, JIT-free XS caches). */
export const XS_WARMUP_SIGNATURES = 3;
/** Signatures metered per shape and signer; each is metered alone, the mean is reported. */
export const XS_MEASURED_SIGNATURES = 20;
/** The heap-growth run length, after warm-up. */
export const XS_HEAP_RUN_SIGNATURES = 10_000;
/**
 * Signatures in the per-signature garbage estimate: small enough that no GC
 * runs meanwhile (~1,500 slots per IoT signature; a GC showed up within 200
 * signatures), which the n / 2n linearity check confirms.
 */
export const XS_GARBAGE_RUN_SIGNATURES = 10;
/** Signatures per shape in the (wrapped, slower) profile run. */
export const XS_PROFILE_SIGNATURES = 2;
/** txSlot is 32 bytes in the 64-bit xsnap build (next pointer, id/flag/kind, 16-byte value). */
export const XS_SLOT_BYTES = 32;

const repo = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..');
export const OURS_XS_BUNDLE = join(repo, 'build', 'xs', 'sigv4-ours.js');

/**
 * A bundle's code, read once: the checkout is shared, and a teammate's build
 * may rewrite build/xs/ mid-run; both engine runs must execute the same code.
 */
export interface XsBundle {
  code: string;
  /** First 16 hex digits of sha256(code), reported with the figures. */
  sha256: string;
}

export function readBundle(path: string): XsBundle {
  if (!existsSync(path)) throw new Error(`${path} missing: run npm run build`);
  const code = readFileSync(path, 'utf8');
  return { code, sha256: createHash('sha256').update(code).digest('hex').slice(0, 16) };
}

export interface XsMeasurement {
  shape: string;
  sign: Measured;
  /** Ours only: sign() plus producing the strings a caller sends (headers() / pathAndQuery()). */
  withStrings: Measured | null;
  floor: Measured;
}

export interface XsMemory {
  shape: string;
  bytes: number;
  parts: Array<[string, number]>;
}

export interface OursXsRun {
  measurements: XsMeasurement[];
  memory: XsMemory[];
  heap: {
    signatures: number;
    slotsBefore: number;
    slotsAfter: number;
    allocateBefore: number;
    allocateAfter: number;
    /** Slots allocated per signature (live-slot increase in a short run without gc: garbage, not growth). */
    garbageSlotsPerSign: number;
    /** The same for the hash floor alone (@noble/hashes' own garbage). */
    floorGarbageSlotsPerSign: number;
    /** Live-slot increase after n and 2n signatures without gc (linear when no GC ran meanwhile). */
    garbageSlots: [number, number];
    garbageLinear: boolean;
  } | null;
}

function checkMeasured(reports: Report[], refs: ShapeReference[], who: string): XsMeasurement[] {
  const out: XsMeasurement[] = [];
  for (const ref of refs) {
    const r = reports.find((x) => x.kind === 'measured' && x.shape === ref.shape.name);
    if (!r) throw new PeerMismatchError(`${who} on XS: no measurement for ${ref.shape.name}`);
    if (r.signature !== ref.crt.signature) throw new PeerMismatchError(`${who} on XS, ${ref.shape.name}: signature ${String(r.signature)} is not aws-crt's ${ref.crt.signature}`);
    if (r.floorSignature !== ref.crt.signature) throw new PeerMismatchError(`${who} floor on XS, ${ref.shape.name}: HMAC ${String(r.floorSignature)} is not aws-crt's signature`);
    out.push({ shape: ref.shape.name, sign: r.sign as Measured, withStrings: (r.withStrings as Measured | undefined) ?? null, floor: r.floor as Measured });
  }
  return out;
}

export async function runOursOnXs(bundle: XsBundle, refs: ShapeReference[], options: { heap: boolean; iterations?: number }): Promise<OursXsRun> {
  const bench = await XsBench.load(bundle.code);
  try {
    const setup = await bench.run({ kind: 'setup', shapes: refs.map((r) => xsShapeOf(r, r.oursFloor)) });
    const memory = setup.reports.filter((r) => r.kind === 'memory').map((r) => ({ shape: String(r.shape), bytes: Number(r.bytes), parts: r.parts as Array<[string, number]> }));
    const measured = await bench.run({ kind: 'measure', warmup: XS_WARMUP_SIGNATURES, iterations: options.iterations ?? XS_MEASURED_SIGNATURES });
    const measurements = checkMeasured(measured.reports, refs, 'our signer');
    if (!options.heap) return { measurements, memory, heap: null };

    // Heap: same command shape with n = 0 and n = 10,000 (both end with gc()), so
    // the command's own allocations cancel out; the 0-run also follows warm-up.
    const base = await bench.run({ kind: 'heap', shape: 'iot', n: 0 });
    const after = await bench.run({ kind: 'heap', shape: 'iot', n: XS_HEAP_RUN_SIGNATURES });
    // Garbage per signature: gc() first, then n signatures, no gc: live slots grow by what they allocate.
    const g0 = await bench.run({ kind: 'garbage', shape: 'iot', n: 0 });
    const g1 = await bench.run({ kind: 'garbage', shape: 'iot', n: XS_GARBAGE_RUN_SIGNATURES });
    const g2 = await bench.run({ kind: 'garbage', shape: 'iot', n: 2 * XS_GARBAGE_RUN_SIGNATURES });
    const f0 = await bench.run({ kind: 'garbage', shape: 'iot', n: 0, floor: true });
    const f1 = await bench.run({ kind: 'garbage', shape: 'iot', n: XS_GARBAGE_RUN_SIGNATURES, floor: true });
    const d1 = (g1.meter.currentHeapCount ?? 0) - (g0.meter.currentHeapCount ?? 0);
    const d2 = (g2.meter.currentHeapCount ?? 0) - (g0.meter.currentHeapCount ?? 0);
    return {
      measurements,
      memory,
      heap: {
        signatures: XS_HEAP_RUN_SIGNATURES,
        slotsBefore: base.meter.currentHeapCount ?? NaN,
        slotsAfter: after.meter.currentHeapCount ?? NaN,
        allocateBefore: base.meter.allocate ?? NaN,
        allocateAfter: after.meter.allocate ?? NaN,
        garbageSlotsPerSign: d1 / XS_GARBAGE_RUN_SIGNATURES,
        floorGarbageSlotsPerSign: ((f1.meter.currentHeapCount ?? 0) - (f0.meter.currentHeapCount ?? 0)) / XS_GARBAGE_RUN_SIGNATURES,
        garbageSlots: [d1, d2],
        garbageLinear: d2 === 2 * d1,
      },
    };
  } finally {
    await bench.close();
  }
}

export interface SmithyXsBundle extends XsBundle {
  esbuildVersion: string;
}

/** Bundles smithy for XS with esbuild (into build/bench/) and reads the result once. */
export async function buildSmithyBundle(): Promise<SmithyXsBundle> {
  const built = await bundleSmithyForXs();
  return { ...readBundle(built.path), esbuildVersion: built.esbuildVersion };
}

export async function runSmithyOnXs(bundle: SmithyXsBundle, refs: ShapeReference[], options: { iterations?: number } = {}): Promise<XsMeasurement[]> {
  const bench = await XsBench.load(bundle.code);
  try {
    await bench.run({ kind: 'setup', shapes: refs.map((r) => xsShapeOf(r, r.smithyFloor)) });
    const measured = await bench.run({ kind: 'measure', warmup: XS_WARMUP_SIGNATURES, iterations: options.iterations ?? XS_MEASURED_SIGNATURES });
    return checkMeasured(measured.reports, refs, '@smithy/signature-v4');
  } finally {
    await bench.close();
  }
}

export const PROFILE_XS_BUNDLE = join(repo, 'build', 'xs', 'sigv4-profile.js');

/** Per shape: [method, self computrons per signature, calls per signature], biggest first. */
export type ProfileRows = Array<[string, number, number]>;

/** Where our signer's computrons go (wrapped methods; see sigv4-profile.xs.ts). */
export async function runProfileOnXs(bundle: XsBundle, refs: ShapeReference[]): Promise<Map<string, ProfileRows>> {
  const bench = await XsBench.load(bundle.code);
  const out = new Map<string, ProfileRows>();
  try {
    for (const ref of refs) {
      const r = await bench.run({ kind: 'profile', shape: xsShapeOf(ref, ref.oursFloor), n: XS_PROFILE_SIGNATURES });
      out.set(ref.shape.name, (r.reports.find((x) => x.kind === 'profile')?.rows ?? []) as ProfileRows);
    }
  } finally {
    await bench.close();
  }
  return out;
}
