// Fuzz test: seeded malformed inputs (bad header names, CR/LF and control
// characters, lone surrogates, malformed percent-escapes, bad times,
// over-limit sizes, reserved names, bad credentials, ill-typed fields,
// random text and bytes) against the signer. Properties: see
// tools/sigv4/fuzz-run.ts. The loop runs in a worker thread; if it does not
// finish within FUZZ_HANG_GUARD_MS the worker is stopped and the test fails
// with the last case reached (a synchronous hang cannot be caught in-thread).
// The same loop then runs inside the XS engine (tools/sigv4/fuzz.xs.ts) on
// XS_FUZZ_CASES inputs: the device engine's strings and errors get fuzzed too.
//
// Seed: SIGV4_SEED=<n> replays a run; otherwise a fresh seed is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsWorker } from '../tools/xs/worker.js';
import { DEFAULT_LIMITS, type SignerLimits } from '../src/sigv4/index.js';
import { CrtOracle } from '../tools/sigv4/oracle-crt.js';
import { DIFFERENTIAL_LIMITS } from '../tools/sigv4/oracle-ours.js';
import { FUZZ_CLASSES } from '../tools/sigv4/fuzz-inputs.js';
import type { FuzzReport } from '../tools/sigv4/fuzz-run.js';
import type { OracleRequest } from '../tools/sigv4/oracle-request.js';
import { seedFromEnv } from '../tools/sigv4/prng.js';

/** Malformed inputs per run. */
export const FUZZ_CASES = 5_000;
/** Malformed inputs per run inside XS (JS SHA-256 there is ~100x slower than on Node). */
export const XS_FUZZ_CASES = 600;
/** Hang guard only (a run takes seconds); never a performance assertion. */
const FUZZ_HANG_GUARD_MS = 180_000;

const seed = seedFromEnv(process.env, () => randomInt(0x100000000));

/** A signed-token request the signer must keep signing right between malformed inputs. */
const REFERENCE: OracleRequest = {
  method: 'POST',
  path: '/topics/a%2Fb?qos=1',
  headers: [
    ['Host', 'example-ats.iot.eu-west-3.amazonaws.com'],
    ['Content-Type', 'application/json'],
  ],
  body: new TextEncoder().encode('{"t":21.5}'),
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN/+=',
  region: 'eu-west-3',
  service: 'iotdata',
  timeMs: Date.UTC(2026, 10, 22, 13, 0, 0),
  mode: 'header',
  normalize: true,
  doubleUriEncode: true,
  signBody: true,
  payloadHash: null,
  omitSessionToken: false,
  expirationInSeconds: 0,
};

test(`malformed inputs: only typed errors, no partial output, no hang (${FUZZ_CASES} cases, seed ${seed})`, async () => {
  const peer = await new CrtOracle().sign(REFERENCE);
  const limits: SignerLimits = { ...DEFAULT_LIMITS, ...DIFFERENTIAL_LIMITS };
  const worker = new Worker(new URL('./sigv4-fuzz.worker.js', import.meta.url), {
    workerData: { seed, cases: FUZZ_CASES, limits, reference: { request: REFERENCE, signature: peer.signature } },
  });
  let reached = 0;
  const report = await new Promise<FuzzReport>((resolve, reject) => {
    const guard = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`fuzz run did not finish within ${FUZZ_HANG_GUARD_MS} ms: stuck after case ${reached} (replay with SIGV4_SEED=${seed})`));
    }, FUZZ_HANG_GUARD_MS);
    worker.on('message', (m: { kind: string; done?: number; report?: FuzzReport }) => {
      if (m.kind === 'progress') reached = m.done ?? reached;
      if (m.kind === 'report') {
        clearTimeout(guard);
        resolve(m.report!);
      }
    });
    worker.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    worker.on('exit', (code) => {
      clearTimeout(guard);
      reject(new Error(`fuzz worker exited (code ${code}) after case ${reached} without a report`));
    });
  });
  await worker.terminate();
  process.stderr.write(`sigv4-fuzz: seed ${seed}, ${report.cases} cases, refused ${report.refused}, accepted ${report.accepted}, classes ${JSON.stringify(report.classes)}\n`);
  assert.equal(report.cases, FUZZ_CASES);
  assert.deepEqual(report.failures, [], `${report.failures.length + report.moreFailures} failures (replay with SIGV4_SEED=${seed})`);
  assert.deepEqual(Object.keys(report.classes).sort(), [...FUZZ_CLASSES].sort(), 'every damage class was exercised');
  assert.ok(report.refused > FUZZ_CASES / 2, 'most malformed inputs are refused');
});

test(`malformed inputs inside XS: only typed errors, no partial output (${XS_FUZZ_CASES} cases, seed ${seed})`, async () => {
  const bundle = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'xs', 'fuzz.js');
  assert.ok(existsSync(bundle), `XS bundle ${bundle} missing: run npm run build`);
  const peer = await new CrtOracle().sign(REFERENCE);
  const limits: SignerLimits = { ...DEFAULT_LIMITS, ...DIFFERENTIAL_LIMITS };
  const job = { seed: seed ^ 0x00f0f0f0, cases: XS_FUZZ_CASES, limits, reference: { request: { ...REFERENCE, body: Array.from(REFERENCE.body) }, signature: peer.signature } };
  let report: FuzzReport | null = null;
  let fatal: string | null = null;
  let reached = 0;
  const worker = new XsWorker({
    onCommand(message) {
      const m = JSON.parse(new TextDecoder().decode(message)) as { kind: string; done?: number; report?: FuzzReport; error?: string };
      if (m.kind === 'job') return new TextEncoder().encode(JSON.stringify(job));
      if (m.kind === 'progress') reached = m.done ?? reached;
      if (m.kind === 'report') report = m.report ?? null;
      if (m.kind === 'fatal') fatal = m.error ?? 'unknown';
      return new Uint8Array(0);
    },
  });
  let guard: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      worker.evaluate(readFileSync(bundle, 'utf8')),
      new Promise((_, reject) => {
        guard = setTimeout(() => reject(new Error(`XS fuzz run did not finish within ${FUZZ_HANG_GUARD_MS} ms: stuck after case ${reached} (replay with SIGV4_SEED=${seed})`)), FUZZ_HANG_GUARD_MS);
      }),
    ]);
  } finally {
    clearTimeout(guard);
    await worker.close();
  }
  assert.equal(fatal, null, `exception inside XS: ${fatal}`);
  const r = report as FuzzReport | null;
  assert.ok(r !== null, 'XS run ended without its final report');
  process.stderr.write(`sigv4-fuzz (XS): seed ${job.seed}, ${r.cases} cases, refused ${r.refused}, accepted ${r.accepted}\n`);
  assert.equal(r.cases, XS_FUZZ_CASES);
  assert.deepEqual(r.failures, [], `${r.failures.length + r.moreFailures} failures inside XS (replay with SIGV4_SEED=${seed})`);
});
