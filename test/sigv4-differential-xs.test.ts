// The differential test inside the XS engine: the portable signer, bundled
// for XS (build/xs/sign.js), signs XS_DIFFERENTIAL_REQUESTS generated
// requests; each result must equal aws-crt's (signature and signed output)
// and, byte for byte, what the same signer computes on Node (canonical
// request and string to sign included). XS has its own string and regexp
// engine, so unicode, surrogate pairs and escapes get a second platform.
//
// Seed: SIGV4_SEED as in sigv4-differential.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { CrtOracle } from '../tools/sigv4/oracle-crt.js';
import { OurOracle } from '../tools/sigv4/oracle-ours.js';
import { signBatchOnXs } from '../tools/sigv4/oracle-xs.js';
import { crtExclusion, generateRequest } from '../tools/sigv4/generate.js';
import { Prng, seedFromEnv } from '../tools/sigv4/prng.js';
import { describeRequest, redact, type OracleRequest } from '../tools/sigv4/oracle-request.js';

/** Requests signed inside XS per run (JS SHA-256 on XS is ~100x slower than on Node). */
export const XS_DIFFERENTIAL_REQUESTS = 200;
const MAX_REPORTS = 3;

const seed = seedFromEnv(process.env, () => randomInt(0x100000000));

test(`our signer on XS matches aws-crt and itself on Node (${XS_DIFFERENTIAL_REQUESTS} generated requests, seed ${seed})`, async () => {
  const rng = new Prng(seed ^ 0x0000c5c5);
  const requests: OracleRequest[] = [];
  while (requests.length < XS_DIFFERENTIAL_REQUESTS) {
    const r = generateRequest(rng);
    if (crtExclusion(r) === null) requests.push(r);
  }
  const xs = await signBatchOnXs(requests);
  const node = new OurOracle();
  const crt = new CrtOracle();
  const reports: string[] = [];
  let mismatches = 0;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    const onXs = xs.results[i]!;
    let problem: string | null = null;
    if (!('signature' in onXs)) problem = `XS refused a valid request: ${onXs.code}: ${onXs.message}`;
    else {
      const onNode = node.sign(r);
      const peer = await crt.sign(r);
      if (onXs.canonicalRequest !== onNode.canonicalRequest) problem = `canonical request differs between XS and Node\n--- XS ---\n${onXs.canonicalRequest}\n--- Node ---\n${onNode.canonicalRequest}`;
      else if (onXs.stringToSign !== onNode.stringToSign) problem = 'string to sign differs between XS and Node';
      else if (onXs.signature !== peer.signature) problem = `signature ${onXs.signature} != aws-crt ${peer.signature}\n--- canonical request ---\n${onXs.canonicalRequest}`;
      else if (JSON.stringify(onXs.headers.slice(r.headers.length)) !== JSON.stringify(peer.headers.slice(r.headers.length))) problem = 'added headers differ from aws-crt';
      else if (JSON.stringify(onXs) !== JSON.stringify(onNode)) problem = 'XS output differs from Node output';
    }
    if (problem !== null) {
      mismatches++;
      if (reports.length < MAX_REPORTS) reports.push(`SIGV4_SEED=${seed} request #${i}: ${redact(problem, r)}\n  request: ${describeRequest(r)}`);
    }
  }
  process.stderr.write(`sigv4-differential-xs: seed ${seed}, ${requests.length} requests, ${xs.computrons} computrons in XS (~${Math.round(xs.computrons / requests.length)} per request incl. protocol)\n`);
  assert.equal(mismatches, 0, `${mismatches} of ${requests.length} XS signatures are wrong (replay with SIGV4_SEED=${seed})\n${reports.join('\n')}`);
});
