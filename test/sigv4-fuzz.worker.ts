// Worker thread of test/sigv4-fuzz.test.ts: runs the fuzz loop and posts
// progress, so that the test thread can stop it if the signer ever hangs.
import { parentPort, workerData } from 'node:worker_threads';
import { runFuzz, type FuzzReference } from '../tools/sigv4/fuzz-run.js';
import type { SignerLimits } from '../src/sigv4/index.js';

const { seed, cases, limits, reference } = workerData as { seed: number; cases: number; limits: SignerLimits; reference: FuzzReference };
const report = runFuzz(seed, cases, limits, reference, (done) => parentPort!.postMessage({ kind: 'progress', done }));
parentPort!.postMessage({ kind: 'report', report });
