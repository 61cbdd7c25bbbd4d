// Differential test against a second, unrelated implementation: botocore
// (Python), on BOTOCORE_REQUESTS generated valid requests per run. botocore
// exposes its canonical request and string-to-sign, so those are compared
// too, line for line, besides the signature and the signed output.
//
// Excluded by rule (botocoreExclusion in tools/sigv4/generate.ts), each a
// documented botocore behaviour that differs from AWS's specification and
// from aws-c-auth (test/sigv4-oracles.test.ts shows the vector cases):
// Date headers (botocore rewrites Date and drops X-Amz-Date), Unicode
// whitespace in header values (Python's str.split), and for presigning: a
// body (moved into the query), no X-Amz-Expires (always added), repeated
// query keys (one value kept), escapes that decode to invalid UTF-8 (text,
// not bytes). The run reports how many requests each rule excluded.
//
// Seed: SIGV4_SEED as in sigv4-differential.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { BotocoreOracle } from '../tools/sigv4/oracle-botocore.js';
import { OurOracle } from '../tools/sigv4/oracle-ours.js';
import { botocoreExclusion, generateRequest } from '../tools/sigv4/generate.js';
import { Prng, seedFromEnv } from '../tools/sigv4/prng.js';
import { describeRequest, redact, type OracleRequest, type OracleResult } from '../tools/sigv4/oracle-request.js';

/** Requests compared with botocore per run (one long-lived python process). */
export const BOTOCORE_REQUESTS = 300;
const MAX_ATTEMPTS = 10 * BOTOCORE_REQUESTS;
const MAX_REPORTS = 3;

const seed = seedFromEnv(process.env, () => randomInt(0x100000000));

/** Header name/value pairs the signer added, names lower-cased, sorted: botocore orders them its own way. */
function addedHeaders(r: OracleRequest, result: OracleResult): string[] {
  return result.headers
    .slice(r.headers.length)
    .map(([n, v]) => `${n.toLowerCase()}:${v}`)
    .sort();
}

/** The presigned query as sorted, decoded `key=value` pairs: botocore re-serialises the caller's query. */
function queryPairs(path: string): string[] {
  const q = path.indexOf('?');
  if (q < 0) return [];
  return path
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? p : p.slice(0, eq));
      const value = decodeURIComponent(eq < 0 ? '' : p.slice(eq + 1));
      return `${key}=${value}`;
    })
    .sort();
}

function compare(r: OracleRequest, ours: OracleResult, boto: OracleResult): string | null {
  if (ours.canonicalRequest !== boto.canonicalRequest) return 'canonical request differs';
  if (ours.stringToSign !== boto.stringToSign) return 'string to sign differs';
  if (ours.signature !== boto.signature) return `signature ${ours.signature} != ${boto.signature}`;
  if (r.mode === 'header') {
    if (JSON.stringify(addedHeaders(r, ours)) !== JSON.stringify(addedHeaders(r, boto))) return `added headers\n  ours: ${JSON.stringify(addedHeaders(r, ours))}\n  boto: ${JSON.stringify(addedHeaders(r, boto))}`;
  } else if (JSON.stringify(queryPairs(ours.path)) !== JSON.stringify(queryPairs(boto.path))) {
    return `presigned query\n  ours: ${ours.path}\n  boto: ${boto.path}`;
  }
  return null;
}

test(`our signer matches botocore on ${BOTOCORE_REQUESTS} generated requests (seed ${seed})`, async (t) => {
  const boto = new BotocoreOracle();
  t.after(() => boto.close());
  const rng = new Prng(seed ^ 0x0b07c0e);
  const ours = new OurOracle();
  const excluded: Record<string, number> = {};
  const reports: string[] = [];
  let compared = 0;
  let mismatches = 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && compared < BOTOCORE_REQUESTS; attempt++) {
    const r = generateRequest(rng);
    const reason = botocoreExclusion(r);
    if (reason !== null) {
      excluded[reason] = (excluded[reason] ?? 0) + 1;
      continue;
    }
    compared++;
    let mine: OracleResult | null = null;
    let failure: string | null;
    try {
      mine = ours.sign(r);
      failure = compare(r, mine, await boto.sign(r));
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    if (failure === null) continue;
    mismatches++;
    if (reports.length < MAX_REPORTS) {
      const b = await boto.sign(r).catch(() => null);
      reports.push(
        `SIGV4_SEED=${seed} attempt #${attempt}: ${redact(failure, r)}\n  request: ${describeRequest(r)}\n--- ours ---\n${redact(mine?.canonicalRequest, r)}\n--- botocore ---\n${redact(b?.canonicalRequest, r)}\n`,
      );
    }
  }
  process.stderr.write(`sigv4-botocore: seed ${seed}, compared ${compared}, excluded ${JSON.stringify(excluded)}\n`);
  assert.equal(mismatches, 0, `${mismatches} of ${compared} requests differ from botocore (replay with SIGV4_SEED=${seed})\n${reports.join('\n')}`);
  assert.equal(compared, BOTOCORE_REQUESTS, `only ${compared} comparable requests in ${MAX_ATTEMPTS} attempts`);
});

test('Unicode whitespace in a header value: aws-crt and we keep it, botocore collapses it (excluded above, and why)', async (t) => {
  // HTTP whitespace is SP and HTAB only (RFC 7230 OWS); AWS's Trimall
  // collapses runs of spaces. U+00A0 is a character of the value: aws-c-auth
  // signs it as is, botocore's `' '.join(value.split())` turns it into a space.
  const boto = new BotocoreOracle();
  t.after(() => boto.close());
  const { CrtOracle } = await import('../tools/sigv4/oracle-crt.js');
  const r: OracleRequest = {
    method: 'GET',
    path: '/',
    headers: [
      ['Host', 'example.amazonaws.com'],
      ['My-Header', 'a\u00a0\u00a0b  c'],
    ],
    body: new Uint8Array(0),
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: null,
    region: 'us-east-1',
    service: 'service',
    timeMs: Date.UTC(2015, 7, 30, 12, 36),
    mode: 'header',
    normalize: true,
    doubleUriEncode: true,
    signBody: false,
    payloadHash: null,
    omitSessionToken: false,
    expirationInSeconds: 0,
  };
  assert.notEqual(botocoreExclusion(r), null);
  const crt = await new CrtOracle().sign(r);
  const mine = new OurOracle().sign(r);
  const b = await boto.sign(r);
  assert.equal(mine.signature, crt.signature);
  assert.match(mine.canonicalRequest ?? '', /^my-header:a\u00a0\u00a0b c$/m);
  assert.notEqual(b.signature, crt.signature);
  assert.match(b.canonicalRequest ?? '', /^my-header:a b c$/m);
});
