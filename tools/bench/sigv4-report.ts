// Turns the measurements into the section's figures (flat JSON keys), the
// goal verdicts, and a side-by-side table for stderr. Goals are evaluated,
// never asserted: a missed goal is reported with its margin.
import type { NodeRates } from './sigv4-node-rate.js';
import type { OursXsRun, ProfileRows, XsMeasurement } from './sigv4-xs-runs.js';
import { XS_SLOT_BYTES } from './sigv4-xs-runs.js';
import type { ShapeReference } from './sigv4-reference.js';

/** Goals from the issue. */
export const GOAL_ABOVE_FLOOR_VS_SMITHY = 0.5;
export const GOAL_TOTAL_VS_FLOOR = 1.25;
export const GOAL_WORKING_MEMORY_BYTES = 2048;
export const GOAL_HEAP_GROWTH_BYTES = 0;

export type Figures = Record<string, number | string | boolean | null>;

export interface ReportInput {
  refs: ShapeReference[];
  ours: OursXsRun;
  smithy: XsMeasurement[];
  node: NodeRates;
  deterministic: boolean;
  profile: Map<string, ProfileRows>;
  /** Bundler and code hash of each XS bundle: counts are comparable only for identical code. */
  bundles: { ours: string; smithy: string; profile: string };
}

function by(list: XsMeasurement[], shape: string): XsMeasurement {
  const m = list.find((x) => x.shape === shape);
  if (!m) throw new Error(`no measurement for ${shape}`);
  return m;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (r: number) => `${(r * 100).toFixed(0)}%`;

export function buildReport(input: ReportInput): { figures: Figures; table: string } {
  const f: Figures = {};
  const lines: string[] = [];
  const goals: string[] = [];
  lines.push('SigV4 signer on XS (computrons per signature, @noble/hashes SHA-256 everywhere; lower is better)');
  lines.push(
    ['shape', 'ours', 'ours+strings', 'floor', 'ours-floor', 'smithy', 'smithy floor', 'smithy-floor', 'ours/floor', '(ours-floor)/(smithy-floor)'].map((h, i) => (i === 0 ? h.padEnd(10) : h.padStart(i === 9 ? 28 : 13))).join(''),
  );
  for (const ref of input.refs) {
    const name = ref.shape.name;
    const o = by(input.ours.measurements, name);
    const s = by(input.smithy, name);
    const ours = o.sign.perCall;
    const floor = o.floor.perCall;
    const smithy = s.sign.perCall;
    const smithyFloor = s.floor.perCall;
    const oursAbove = ours - floor;
    const smithyAbove = smithy - smithyFloor;
    f[`xs_computrons_per_sign_${name}`] = Math.round(ours);
    f[`xs_computrons_per_sign_${name}_with_strings`] = o.withStrings ? Math.round(o.withStrings.perCall) : null;
    f[`xs_hash_computrons_per_sign_${name}`] = Math.round(floor);
    f[`xs_computrons_per_sign_${name}_smithy`] = Math.round(smithy);
    f[`xs_hash_computrons_per_sign_${name}_smithy`] = Math.round(smithyFloor);
    f[`xs_ratio_total_to_floor_${name}`] = Number((ours / floor).toFixed(3));
    f[`xs_ratio_above_floor_to_smithy_${name}`] = Number((oursAbove / smithyAbove).toFixed(3));
    f[`canonical_request_bytes_${name}`] = ref.canonicalRequestBytes;
    const halfMet = oursAbove <= GOAL_ABOVE_FLOOR_VS_SMITHY * smithyAbove;
    const floorMet = ours <= GOAL_TOTAL_VS_FLOOR * floor;
    f[`goal_xs_above_floor_half_smithy_${name}`] = halfMet;
    f[`goal_xs_within_1_25_floor_${name}`] = floorMet;
    lines.push(
      [name.padEnd(10), fmt(ours), o.withStrings ? fmt(o.withStrings.perCall) : '-', fmt(floor), fmt(oursAbove), fmt(smithy), fmt(smithyFloor), fmt(smithyAbove), (ours / floor).toFixed(3), (oursAbove / smithyAbove).toFixed(3)]
        .map((c, i) => (i === 0 ? c : c.padStart(i === 9 ? 28 : 13)))
        .join(''),
    );
    goals.push(
      `${name}: above-floor work ${fmt(oursAbove)} vs smithy's ${fmt(smithyAbove)} (${pct(oursAbove / smithyAbove)}; goal <= 50%): ${halfMet ? 'MET' : `MISSED by ${fmt(oursAbove - GOAL_ABOVE_FLOOR_VS_SMITHY * smithyAbove)} computrons`}`,
    );
    goals.push(
      `${name}: total ${(ours / floor).toFixed(3)}x the floor (goal <= ${GOAL_TOTAL_VS_FLOOR}x): ${floorMet ? 'MET' : `MISSED by ${fmt(ours - GOAL_TOTAL_VS_FLOOR * floor)} computrons`}`,
    );
  }
  // Plain aliases the issue names for shape 1 (already set above under _iot).
  f.xs_deterministic = input.deterministic;
  f.xs_bundle_ours = input.bundles.ours;
  f.xs_bundle_smithy = input.bundles.smithy;

  const heap = input.ours.heap;
  if (heap) {
    const slots = heap.slotsAfter - heap.slotsBefore;
    const arena = heap.allocateAfter - heap.allocateBefore;
    const growth = slots * XS_SLOT_BYTES + arena;
    f.xs_heap_growth_bytes_10k = growth;
    f.xs_heap_growth_slots_10k = slots;
    f.xs_heap_arena_growth_bytes_10k = arena;
    f.xs_garbage_slots_per_sign_iot = heap.garbageLinear ? heap.garbageSlotsPerSign : null;
    f.xs_garbage_slots_per_sign_iot_floor = heap.floorGarbageSlotsPerSign;
    const met = growth <= GOAL_HEAP_GROWTH_BYTES;
    f.goal_zero_heap_growth = met;
    goals.push(`heap growth over ${heap.signatures.toLocaleString('en-US')} IoT signatures after warm-up: ${slots} live slots (x${XS_SLOT_BYTES} B) + ${arena} B arena = ${growth} B (goal 0): ${met ? 'MET' : 'MISSED'}`);
    lines.push('');
    lines.push(`XS heap, IoT shape: live slots after gc() ${heap.slotsBefore} -> ${heap.slotsAfter} over ${heap.signatures} signatures; arena (allocate) ${heap.allocateBefore} -> ${heap.allocateAfter} B`);
    lines.push(
      `  garbage per signature (slots allocated, collected later): ${heap.garbageLinear ? heap.garbageSlotsPerSign : `n/a (not linear: +${heap.garbageSlots[0]} slots after n, +${heap.garbageSlots[1]} after 2n)`}` +
        ` (the hash floor alone: ${heap.floorGarbageSlotsPerSign})`,
    );
  }

  lines.push('');
  lines.push('Working memory preallocated by a Signer sized for the shape (typed-array bytes reachable from the instance; no chunk signer,');
  lines.push('  as no shape streams an upload; inputs are not counted: body, headers, and the session token, which the signer references, never copies)');
  for (const m of input.ours.memory) {
    f[`working_memory_bytes_${m.shape}`] = m.bytes;
    lines.push(`  ${m.shape.padEnd(10)} ${String(m.bytes).padStart(6)} B   largest: ${m.parts.slice(0, 6).map(([p, b]) => `${p.slice(1)} ${b}`).join(', ')}`);
  }
  const iotMemory = Number(f.working_memory_bytes_iot);
  const memMet = iotMemory < GOAL_WORKING_MEMORY_BYTES;
  f.goal_working_memory_under_2k_iot = memMet;
  goals.push(`working memory, IoT shape: ${iotMemory} B (goal < ${GOAL_WORKING_MEMORY_BYTES} B): ${memMet ? 'MET' : `MISSED by ${iotMemory - GOAL_WORKING_MEMORY_BYTES + 1} B`}`);

  lines.push('');
  lines.push(`Where our computrons go on XS (self computrons per signature by method, wrapped; module functions count to their caller; bundle ${input.bundles.profile})`);
  for (const [shape, rows] of input.profile) {
    lines.push(`  ${shape.padEnd(10)} ${rows.slice(0, 6).map(([m, c, calls]) => `${m} ${fmt(c)} (${calls}x)`).join(', ')}`);
  }

  const n = input.node;
  f.node_signs_per_s = n.ours;
  f.node_signs_per_s_native_sha = n.oursNativeSha;
  f.node_signs_per_s_aws4 = n.aws4;
  f.node_signs_per_s_smithy = n.smithy;
  f.node_signs_per_s_crt = n.crt;
  lines.push('');
  lines.push('Node, IoT shape, signatures per second (wall time, best of rounds; higher is better)');
  lines.push(`  ours (noble SHA-256) ${fmt(n.ours)}   ours (node:crypto SHA-256) ${fmt(n.oursNativeSha)}   aws4 ${fmt(n.aws4)}   smithy (noble) ${fmt(n.smithy)}   aws-crt ${fmt(n.crt)}`);

  lines.push('');
  lines.push(`Counts are deterministic: ${input.deterministic ? 'yes (two engines, identical counts)' : 'NO (counts differ between runs)'}; bundles: ours ${input.bundles.ours}, smithy ${input.bundles.smithy}`);
  lines.push('');
  lines.push('Goals');
  for (const g of goals) lines.push(`  ${g}`);
  return { figures: f, table: lines.join('\n') };
}
