// The fuzz loop of test/sigv4-fuzz.test.ts, as a plain function so that it
// can run in a worker thread the test can stop: a signer stuck in a loop
// would block its own thread forever, so the hang guard must live outside.
//
// Properties checked for every malformed input:
// - the signer either returns a complete signature or throws a SigV4Error
//   with a known code (the required code and limit for targeted damage);
// - after a throw the output is empty (no partial Authorization, path or
//   signature), and the message holds neither the secret key nor the token;
// - a failed setCredentials leaves the previous credentials in place;
// - afterwards the signer still signs a reference request to the signature
//   aws-crt computed for it (passed in: this thread does not load aws-crt).
import { SigV4Error, type SignerLimits } from '../../src/sigv4/index.js';
import { fuzzInput, FUZZ_CLASSES } from './fuzz-inputs.js';
import { OurOracle } from './oracle-ours.js';
import type { OracleRequest } from './oracle-request.js';
import { Prng } from './prng.js';

export const KNOWN_CODES: readonly string[] = [
  'LIMIT_EXCEEDED',
  'INVALID_HEADER_NAME',
  'INVALID_HEADER_VALUE',
  'INVALID_UTF16',
  'INVALID_PERCENT_ENCODING',
  'INVALID_TIME',
  'INVALID_CREDENTIALS',
  'INVALID_REQUEST',
  'RESERVED_NAME',
  'KEY_DATE_MISMATCH',
  'INVALID_STATE',
];

export interface FuzzReference {
  request: OracleRequest;
  /** aws-crt's signature for `request`. */
  signature: string;
}

export interface FuzzReport {
  cases: number;
  failures: string[];
  /** Failures beyond the ones kept in `failures`. */
  moreFailures: number;
  /** Inputs per damage class and per precise kind, and outcomes. */
  classes: Record<string, number>;
  kinds: Record<string, number>;
  refused: number;
  accepted: number;
}

/** Failure descriptions kept in a report. */
const MAX_KEPT_FAILURES = 10;

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : typeof e === 'bigint' ? `${e}n` : String(e);
}

export function runFuzz(seed: number, cases: number, limits: SignerLimits, reference: FuzzReference, onProgress: (done: number) => void): FuzzReport {
  const rng = new Prng(seed);
  const ours = new OurOracle(limits);
  const signer = ours.signer;
  const report: FuzzReport = { cases: 0, failures: [], moreFailures: 0, classes: {}, kinds: {}, refused: 0, accepted: 0 };
  const fail = (index: number, kind: string, base: OracleRequest, what: string) => {
    if (report.failures.length < MAX_KEPT_FAILURES) report.failures.push(`SIGV4_SEED=${seed} case #${index} (${kind}): ${what}\n  base request: ${JSON.stringify({ method: base.method, path: base.path, mode: base.mode, headers: base.headers })}`);
    else report.moreFailures++;
  };
  for (let i = 0; i < cases; i++) {
    const input = fuzzInput(rng, limits);
    const { base } = input;
    report.kinds[input.kind] = (report.kinds[input.kind] ?? 0) + 1;
    report.classes[input.cls] = (report.classes[input.cls] ?? 0) + 1;
    signer.setCredentials({ accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey, sessionToken: base.sessionToken ?? undefined }, base.region, base.service);
    let thrown: unknown = null;
    let threw = false;
    let credentialsFailed = false;
    let before = '';
    try {
      if (input.credentials) {
        // What the base request signs to now, to prove a refused setCredentials changes nothing.
        before = ours.sign(base).signature;
        credentialsFailed = true;
        signer.setCredentials(input.credentials.value as never, input.credentials.region as never, input.credentials.service as never);
        credentialsFailed = false;
      }
      if (input.mode === 'header') signer.sign(input.request as never);
      else signer.presign(input.request as never);
    } catch (e) {
      threw = true;
      thrown = e;
    }
    const out = signer.output;
    if (threw) {
      report.refused++;
      if (!(thrown instanceof SigV4Error)) {
        fail(i, input.kind, base, `threw something other than SigV4Error: ${describe(thrown)}`);
      } else {
        if (!KNOWN_CODES.includes(thrown.code)) fail(i, input.kind, base, `unknown code ${thrown.code}`);
        if (input.expectCode !== null && thrown.code !== input.expectCode) fail(i, input.kind, base, `expected ${input.expectCode}, got ${thrown.code}: ${thrown.message}`);
        if (input.expectLimit !== undefined && thrown.limit !== input.expectLimit) fail(i, input.kind, base, `expected limit ${input.expectLimit}, got ${thrown.limit}`);
        if (thrown.message.includes(base.secretAccessKey)) fail(i, input.kind, base, 'error message contains the secret key');
        if (base.sessionToken !== null && base.sessionToken.length >= 8 && thrown.message.includes(base.sessionToken)) fail(i, input.kind, base, 'error message contains the session token');
      }
      if (!credentialsFailed && (out.mode !== 'none' || out.signature() !== '' || out.headers().length !== 0 || out.pathAndQuery() !== '')) {
        fail(i, input.kind, base, `partial output after a refusal (mode ${out.mode})`);
      }
      if (credentialsFailed) {
        let after = '';
        try {
          after = ours.sign(base).signature;
        } catch (e) {
          after = describe(e);
        }
        if (after !== before) fail(i, input.kind, base, `a refused setCredentials changed the signer (signature ${before} -> ${after})`);
      }
    } else {
      report.accepted++;
      if (input.expectCode !== null) fail(i, input.kind, base, `accepted an input that must be refused with ${input.expectCode}`);
      const sig = out.signature();
      if (out.mode !== input.mode || !/^[0-9a-f]{64}$/.test(sig)) fail(i, input.kind, base, `incomplete output (mode ${out.mode}, signature ${JSON.stringify(sig)})`);
      else if (input.mode === 'header' && !out.authorization().endsWith(`Signature=${sig}`)) fail(i, input.kind, base, 'Authorization does not carry the signature');
      else if (input.mode === 'query' && !out.pathAndQuery().includes(`X-Amz-Signature=${sig}`)) fail(i, input.kind, base, 'presigned path does not carry the signature');
    }
    // The signer is still right afterwards (judged by aws-crt's signature).
    let refSig = '';
    try {
      refSig = ours.sign(reference.request).signature;
    } catch (e) {
      refSig = describe(e);
    }
    if (refSig !== reference.signature) fail(i, input.kind, base, `reference request now signs to ${refSig}, aws-crt says ${reference.signature}`);
    report.cases++;
    if ((i + 1) % 250 === 0) onProgress(i + 1);
  }
  for (const cls of FUZZ_CLASSES) if (!report.classes[cls]) report.failures.push(`damage class never generated: ${cls}`);
  return report;
}
