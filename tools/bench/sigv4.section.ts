// `npm run bench` section `sigv4`: the signer on XS (computrons per
// signature for three request shapes, next to the SHA-256 floor and to
// @smithy/signature-v4 bundled for XS), XS heap growth over 10,000
// signatures, the working memory of a Signer sized for the IoT shape, and
// signatures per second on Node for ours, aws4, smithy and aws-crt.
// Every signature is checked against aws-crt's first; a mismatch fails the
// section. See docs/benchmarks.md for what each figure means.
import { createRequire } from 'node:module';
import { benchShapes } from './sigv4-shapes.js';
import { referenceFor, type ShapeReference } from './sigv4-reference.js';
import { OURS_XS_BUNDLE, PROFILE_XS_BUNDLE, buildSmithyBundle, readBundle, runOursOnXs, runProfileOnXs, runSmithyOnXs, type XsMeasurement } from './sigv4-xs-runs.js';
import { nodeRates } from './sigv4-node-rate.js';
import { buildReport, type Figures } from './sigv4-report.js';

/** Signatures per shape in the second, determinism-checking engine run. */
export const DETERMINISM_CHECK_SIGNATURES = 2;

function sameCounts(a: XsMeasurement[], b: XsMeasurement[]): boolean {
  return a.length === b.length && a.every((m, i) => m.sign.perCall === b[i]!.sign.perCall && m.floor.perCall === b[i]!.floor.perCall && m.sign.min === m.sign.max);
}

export async function run(): Promise<Figures> {
  const refs: ShapeReference[] = [];
  for (const shape of benchShapes()) refs.push(await referenceFor(shape));
  process.stderr.write('sigv4: aws-crt, smithy, aws4 (IoT) and our debug capture agree on every shape\n');

  const oursBundle = readBundle(OURS_XS_BUNDLE);
  const smithyBundle = await buildSmithyBundle();
  const ours = await runOursOnXs(oursBundle, refs, { heap: true });
  const smithy = await runSmithyOnXs(smithyBundle, refs);
  // Same code, fresh engines: the counts must come out identical.
  const ours2 = await runOursOnXs(oursBundle, refs, { heap: false, iterations: DETERMINISM_CHECK_SIGNATURES });
  const smithy2 = await runSmithyOnXs(smithyBundle, refs, { iterations: DETERMINISM_CHECK_SIGNATURES });
  const deterministic = sameCounts(ours.measurements, ours2.measurements) && sameCounts(smithy, smithy2);
  const profileBundle = readBundle(PROFILE_XS_BUNDLE);
  const profile = await runProfileOnXs(profileBundle, refs);

  const node = await nodeRates(refs.find((r) => r.shape.name === 'iot')!);
  const rollupVersion = (createRequire(import.meta.url)('@rollup/wasm-node/package.json') as { version: string }).version;
  const { figures, table } = buildReport({
    refs,
    ours,
    smithy,
    node,
    deterministic,
    profile,
    bundles: { ours: `rollup ${rollupVersion} sha256:${oursBundle.sha256}`, smithy: `esbuild ${smithyBundle.esbuildVersion} sha256:${smithyBundle.sha256}`, profile: `rollup ${rollupVersion} sha256:${profileBundle.sha256}` },
  });
  process.stderr.write(`${table}\n`);
  return figures;
}
