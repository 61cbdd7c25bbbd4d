// Differential test: our signer against aws-crt (AWS's native aws-c-auth) on
// DIFFERENTIAL_REQUESTS generated valid requests per run, zero mismatches.
// Compared: the signature and the full signed output (header mode: every
// header the signer adds, in order, byte for byte; query mode: the whole
// presigned path and query).
//
// Seed: SIGV4_SEED=<n> replays a run; otherwise a fresh seed is drawn and
// printed with any failure. A mismatch report holds the seed, the request
// (secret-free), our canonical request and string-to-sign (debug mode), and
// botocore's canonical request when botocore can sign that request, since
// aws-crt does not expose its own.
//
// Excluded from the comparison, by rule (tools/sigv4/generate.ts):
// crtExclusion (aws-c-common refuses `:/` in a request target). Those
// requests are still signed by us and must succeed; botocore judges them in
// test/sigv4-botocore.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { CrtOracle } from '../tools/sigv4/oracle-crt.js';
import { BotocoreOracle } from '../tools/sigv4/oracle-botocore.js';
import { OurOracle } from '../tools/sigv4/oracle-ours.js';
import { derivedKeyFor } from '../tools/sigv4/oracle-derive-node.js';
import { botocoreExclusion, crtExclusion, generateRequest } from '../tools/sigv4/generate.js';
import { Prng, seedFromEnv } from '../tools/sigv4/prng.js';
import { describeRequest, redact, type OracleRequest, type OracleResult } from '../tools/sigv4/oracle-request.js';

/** Requests compared with aws-crt per run. */
export const DIFFERENTIAL_REQUESTS = 10_000;
/** Generation attempts allowed per compared request (excluded ones are regenerated). */
const MAX_ATTEMPTS = 2 * DIFFERENTIAL_REQUESTS;
/** Every n-th request is signed by a signer holding only the derived signing key. */
const DERIVED_KEY_EVERY = 5;
/** aws-crt signings in flight at once. */
const CRT_BATCH = 64;
/** Detailed mismatch reports printed (the count is always reported). */
const MAX_REPORTS = 3;

const seed = seedFromEnv(process.env, () => randomInt(0x100000000));

/**
 * A presigned path with each of the caller's own query parameters written as
 * `key=value`. aws-crt rewrites a bare `key` as `key=` in the URL it returns;
 * we keep the caller's bytes. Both are right: SigV4 canonicalises `key` and
 * `key=` identically (`key=`), and the signatures are compared separately.
 */
function withExplicitEquals(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = path
    .slice(q + 1)
    .split('&')
    .map((p) => (p.startsWith('X-Amz-') || p.includes('=') || p === '' ? p : `${p}=`));
  return `${path.slice(0, q)}?${params.join('&')}`;
}

function sameOutput(r: OracleRequest, ours: OracleResult, peer: OracleResult): string | null {
  if (ours.signature !== peer.signature) return `signature ${ours.signature} != ${peer.signature}`;
  const oursPath = r.mode === 'query' ? withExplicitEquals(ours.path) : ours.path;
  const peerPath = r.mode === 'query' ? withExplicitEquals(peer.path) : peer.path;
  if (oursPath !== peerPath) return `signed path\n  ours: ${ours.path}\n  peer: ${peer.path}`;
  const oursAdded = ours.headers.slice(r.headers.length);
  const peerAdded = peer.headers.slice(r.headers.length);
  if (JSON.stringify(oursAdded) !== JSON.stringify(peerAdded)) return `added headers\n  ours: ${JSON.stringify(oursAdded)}\n  peer: ${JSON.stringify(peerAdded)}`;
  return null;
}

async function report(r: OracleRequest, what: string, ours: OracleResult | null, index: number): Promise<string> {
  let text = `SIGV4_SEED=${seed} request #${index}: ${redact(what, r)}\n  request: ${describeRequest(r)}\n`;
  if (ours) text += `--- our canonical request ---\n${redact(ours.canonicalRequest, r)}\n--- our string to sign ---\n${ours.stringToSign}\n`;
  if (botocoreExclusion(r) === null) {
    const boto = new BotocoreOracle();
    try {
      const b = await boto.sign(r);
      text += `--- botocore canonical request (signature ${b.signature}) ---\n${redact(b.canonicalRequest, r)}\n`;
    } catch (e) {
      text += `--- botocore: ${e instanceof Error ? e.message : String(e)}\n`;
    } finally {
      await boto.close();
    }
  }
  return text;
}

test(`our signer matches aws-crt on ${DIFFERENTIAL_REQUESTS} generated requests (seed ${seed})`, async () => {
  const rng = new Prng(seed);
  const crt = new CrtOracle();
  const ours = new OurOracle();
  const coverage: Record<string, number> = {};
  const count = (key: string) => (coverage[key] = (coverage[key] ?? 0) + 1);
  const reports: string[] = [];
  let mismatches = 0;
  let compared = 0;
  let excludedCrt = 0;
  let derivedKeyRequests = 0;
  let attempt = 0;
  while (attempt < MAX_ATTEMPTS && compared < DIFFERENTIAL_REQUESTS) {
    // aws-crt signs on its own threads: keep a batch in flight to hide the latency.
    const batch: Array<{ r: OracleRequest; index: number; mine: OracleResult | null; failure: string | null; peer: Promise<OracleResult | string> | null }> = [];
    while (batch.length < CRT_BATCH && attempt < MAX_ATTEMPTS && compared + batch.length < DIFFERENTIAL_REQUESTS) {
      const r = generateRequest(rng);
      const index = attempt++;
      let mine: OracleResult | null = null;
      let failure: string | null = null;
      // One request in DERIVED_KEY_EVERY is signed from a derived key only (no secret on the signer).
      const derived = index % DERIVED_KEY_EVERY === 0;
      if (derived) derivedKeyRequests++;
      try {
        mine = ours.sign(r, derived ? derivedKeyFor(r) : undefined);
      } catch (e) {
        failure = `our signer refused a valid request${derived ? ' (derived key)' : ''}: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (crtExclusion(r) !== null) {
        // Still ours to sign; a refusal is a failure, a success has no judge here.
        excludedCrt++;
        if (failure === null) continue;
      }
      const peer = failure === null ? crt.sign(r).catch((e: unknown) => `aws-crt refused a request the generator calls valid: ${e instanceof Error ? e.message : String(e)}`) : null;
      batch.push({ r, index, mine, failure, peer });
    }
    for (const item of batch) {
      const { r } = item;
      let failure = item.failure;
      if (item.peer !== null) {
        const peer = await item.peer;
        failure = typeof peer === 'string' ? peer : sameOutput(r, item.mine!, peer);
      }
      compared++;
      count(r.mode);
      if (r.doubleUriEncode === false && r.normalize === false) count('s3-style');
      if (r.sessionToken !== null) count(r.omitSessionToken ? 'token-omitted' : 'token-signed');
      if (r.sessionToken !== null && /[^\x00-\x7f]/.test(r.sessionToken)) count('token-unicode');
      if (r.mode === 'query' && r.expirationInSeconds === 0) count('presign-no-expires');
      if (r.signBody) count('sign-body');
      if (r.payloadHash !== null) count('payload-hash-given');
      if (r.path.includes('?')) count('query-string');
      if (new Set(r.headers.map(([n]) => n.toLowerCase())).size < r.headers.length) count('duplicate-headers');
      const wirePath = r.path.split('?')[0]!;
      if (/[^\x00-\x7f]/.test(r.path)) count('raw-unicode');
      if (/(^|\/)\.\.?(\/|$)/.test(wirePath)) count('dot-segments');
      if (wirePath.includes('//')) count('empty-segments');
      if (r.headers.some(([, v]) => v.includes('\t'))) count('tab-in-header-value');
      if (r.headers.some(([, v]) => v.trim() === '')) count('empty-header-value');
      if (r.headers.some(([, v]) => v !== v.trim())) count('leading-or-trailing-whitespace');
      const keys = (r.path.split('?')[1] ?? '').split('&').filter((p) => p !== '').map((p) => p.split('=')[0]);
      if (new Set(keys).size < keys.length) count('repeated-query-key');
      if (failure !== null) {
        mismatches++;
        if (reports.length < MAX_REPORTS) reports.push(await report(r, failure, item.mine, item.index));
      }
    }
  }
  process.stderr.write(`sigv4-differential: seed ${seed}, compared ${compared}, excluded (aws-crt cannot sign) ${excludedCrt}, signed from a derived key ${derivedKeyRequests}, coverage ${JSON.stringify(coverage)}\n`);
  assert.equal(mismatches, 0, `${mismatches} of ${compared} requests differ from aws-crt (replay with SIGV4_SEED=${seed})\n${reports.join('\n')}`);
  assert.equal(compared, DIFFERENTIAL_REQUESTS, `only ${compared} comparable requests in ${MAX_ATTEMPTS} attempts`);
  assert.ok(derivedKeyRequests > DIFFERENTIAL_REQUESTS / 10, 'derived-key signing was exercised');
  // The generator must actually reach every class it claims to cover.
  for (const key of ['header', 'query', 's3-style', 'token-omitted', 'token-signed', 'token-unicode', 'presign-no-expires', 'sign-body', 'payload-hash-given', 'query-string', 'duplicate-headers', 'raw-unicode', 'dot-segments', 'empty-segments', 'tab-in-header-value', 'empty-header-value', 'leading-or-trailing-whitespace', 'repeated-query-key']) {
    assert.ok((coverage[key] ?? 0) > 0, `no generated request covers ${key}`);
  }
});

/**
 * Our rule for a path signed without double encoding (S3) that is not in its
 * SDK encoding (src/sigv4/canonical-path.ts): valid `%XX` escapes are kept
 * with upper-case hex, every other byte but unreserved and `/` is encoded
 * once. aws-crt signs such a path as-is, so it is given the path after that
 * rule; the signatures must then agree. (Why the rule: see encodeSegmentOnce
 * in tools/sigv4/generate.ts.)
 */
function singleEncoding(wirePath: string): string {
  const q = wirePath.indexOf('?');
  const path = q < 0 ? wirePath : wirePath.slice(0, q);
  const bytes = new TextEncoder().encode(path);
  const isHex = (b: number | undefined) => b !== undefined && /[0-9a-fA-F]/.test(String.fromCharCode(b));
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    if (b === 0x25 && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out += `%${String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!).toUpperCase()}`;
      i += 2;
    } else if (/[A-Za-z0-9\-._~/]/.test(c)) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return q < 0 ? out : out + wirePath.slice(q);
}

/** S3-style requests with paths as written (raw reserved bytes, lower-case hex) per run. */
export const RAW_S3_PATH_REQUESTS = 1_000;

test(`S3 paths not in SDK encoding: our signature equals aws-crt's on the single encoding (${RAW_S3_PATH_REQUESTS} requests, seed ${seed})`, async () => {
  const rng = new Prng(seed ^ 0x5a5a5a5a);
  const crt = new CrtOracle();
  const ours = new OurOracle();
  const reports: string[] = [];
  let mismatches = 0;
  let differentFromAsIs = 0;
  for (let i = 0; i < RAW_S3_PATH_REQUESTS; i++) {
    const r = generateRequest(rng, { s3Share: 1, rawS3Paths: true });
    const encoded = { ...r, path: singleEncoding(r.path) };
    if (encoded.path !== r.path) differentFromAsIs++;
    let failure: string | null = null;
    let mine: OracleResult | null = null;
    try {
      mine = ours.sign(r);
      if (crtExclusion(encoded) !== null) continue;
      const peer = await crt.sign(encoded);
      if (mine.signature !== peer.signature) failure = `signature ${mine.signature} != ${peer.signature} (aws-crt given ${encoded.path})`;
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    if (failure !== null) {
      mismatches++;
      if (reports.length < MAX_REPORTS) reports.push(await report(r, failure, mine, i));
    }
  }
  assert.equal(mismatches, 0, `${mismatches} mismatches (replay with SIGV4_SEED=${seed})\n${reports.join('\n')}`);
  assert.ok(differentFromAsIs > RAW_S3_PATH_REQUESTS / 4, `too few paths outside SDK encoding (${differentFromAsIs})`);
});
