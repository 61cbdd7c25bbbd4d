// XS side of the fuzz test on the device engine (bundled to build/xs/fuzz.js):
// asks the host for the run's parameters, runs the same fuzz loop as Node
// (fuzz-run.ts) inside XS, reports progress and then the report. The host
// accepts the run only with the final report.
import type { SignerLimits } from '../../src/sigv4/index.js';
import { runFuzz } from './fuzz-run.js';
import type { OracleRequest } from './oracle-request.js';

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

interface FuzzJob {
  seed: number;
  cases: number;
  limits: SignerLimits;
  /** The reference request with its body as byte values, and aws-crt's signature for it. */
  reference: { request: Omit<OracleRequest, 'body'> & { body: number[] }; signature: string };
}

function call(message: object): unknown {
  const bytes = new TextEncoder().encode(JSON.stringify(message));
  const reply = issueCommand(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const text = new TextDecoder().decode(new Uint8Array(reply));
  return text === '' ? null : JSON.parse(text);
}

try {
  const job = call({ kind: 'job' }) as FuzzJob;
  const request: OracleRequest = { ...job.reference.request, body: new Uint8Array(job.reference.request.body) };
  const report = runFuzz(job.seed, job.cases, job.limits, { request, signature: job.reference.signature }, (done) => call({ kind: 'progress', done }));
  call({ kind: 'report', report });
} catch (e) {
  call({ kind: 'fatal', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
}
