// The peers must earn their role as judges: before aws-crt and botocore
// judge our signer (sigv4-differential, sigv4-botocore), they are checked
// against the shared vectors, independently of our code.
//
// Measured (and asserted exactly, so that a change in a peer shows up):
// - aws-crt: aws-c-auth-v4 38/38 header and 38/38 query (signature and the
//   full signed request), s3-examples 6/6 (chunked: the seed signature).
// - botocore: aws-c-auth-v4 38/38 header; query 36/38: SigV4QueryAuth moves a
//   form body into the query string (post-x-www-form-urlencoded and
//   post-x-www-form-urlencoded-parameters), while AWS signs the presigned
//   request as sent, body separate (aws-c-auth and the vectors agree).
//   s3-examples 5/6 through the oracle wrapper (which passes the payload value,
//   e.g. UNSIGNED-PAYLOAD or STREAMING-..., that plain botocore would derive
//   itself): put-object has a `Date` header, and botocore then rewrites Date
//   in its own format and drops X-Amz-Date (SigV4Auth._set_necessary_date_headers).
//   S3 and the vectors sign the request's Date as given plus X-Amz-Date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrtOracle } from '../tools/sigv4/oracle-crt.js';
import { BotocoreOracle } from '../tools/sigv4/oracle-botocore.js';
import { readVectorCase, renderSignedRequest, vectorCaseNames, type VectorCase } from '../tools/sigv4/oracle-vectors.js';
import type { OracleRequest, SigningMode } from '../tools/sigv4/oracle-request.js';
import { sharedMissing } from './harness/shared.js';

/** Every test here needs the vectors: they skip, saying why, when ../shared is not beside the repository. */
const skip = sharedMissing();
const AWS_C_AUTH = skip ? [] : vectorCaseNames('aws-c-auth-v4').map((n) => readVectorCase('aws-c-auth-v4', n));
const S3 = skip ? [] : vectorCaseNames('s3-examples').map((n) => readVectorCase('s3-examples', n));

/** botocore presigning moves a form body into the query (see header comment). */
const BOTOCORE_QUERY_FORM_BODY = ['aws-c-auth-v4/post-x-www-form-urlencoded', 'aws-c-auth-v4/post-x-www-form-urlencoded-parameters'];

function hostOf(r: OracleRequest): string {
  return r.headers.find(([n]) => n.toLowerCase() === 'host')![1];
}

function variants(cases: VectorCase[]): Array<{ c: VectorCase; mode: SigningMode; request: OracleRequest }> {
  const out: Array<{ c: VectorCase; mode: SigningMode; request: OracleRequest }> = [];
  for (const c of cases) for (const mode of ['header', 'query'] as const) if (c.requests[mode]) out.push({ c, mode, request: c.requests[mode]! });
  return out;
}

test('vector sets are all there (38 aws-c-auth cases with both modes, 6 S3 examples)', { skip }, () => {
  assert.equal(AWS_C_AUTH.length, 38);
  assert.equal(variants(AWS_C_AUTH).length, 76);
  assert.equal(S3.length, 6);
});

test('aws-crt reproduces every aws-c-auth-v4 signature and signed request (76/76)', { skip }, async () => {
  const crt = new CrtOracle();
  const failures: string[] = [];
  for (const { c, mode, request } of variants(AWS_C_AUTH)) {
    const expected = c.expected[mode]!;
    const got = await crt.sign(request);
    if (got.signature !== expected.signature) failures.push(`${c.name} ${mode}: signature ${got.signature}`);
    // aws-crt returns the request's headers (whitespace-trimmed) followed by the ones it added.
    const rendered = renderSignedRequest(c.requestText, got.path, got.headers.slice(request.headers.length));
    if (expected.signedRequest !== null && rendered !== expected.signedRequest) failures.push(`${c.name} ${mode}: signed request\n${rendered}`);
  }
  assert.deepEqual(failures, []);
});

test('aws-crt reproduces the six S3 examples (signature, Authorization, presigned URL)', { skip }, async () => {
  const crt = new CrtOracle();
  const failures: string[] = [];
  let checked = 0;
  for (const { c, mode, request } of variants(S3)) {
    const expected = c.expected[mode]!;
    const got = await crt.sign(request);
    checked++;
    if (got.signature !== expected.signature) failures.push(`${c.name} ${mode}: signature ${got.signature}`);
    if (expected.authorization !== null) {
      const auth = got.headers.find(([n]) => n === 'Authorization')?.[1];
      if (auth !== expected.authorization) failures.push(`${c.name}: Authorization ${auth}`);
    }
    if (expected.signedUrl !== null) {
      // S3 documents the parameters in sorted order; aws-crt appends them in
      // its own order. Same parameters, same values.
      const url = new URL(`https://${hostOf(request)}${got.path}`);
      const want = new URL(expected.signedUrl);
      assert.equal(url.origin + url.pathname, want.origin + want.pathname);
      assert.deepEqual([...url.searchParams].sort(), [...want.searchParams].sort());
    }
  }
  assert.equal(checked, 6);
  assert.deepEqual(failures, []);
});

test('botocore reproduces aws-c-auth-v4: 38/38 header, 36/38 query (the two form-body presigns differ, as documented)', { skip }, async (t) => {
  const boto = new BotocoreOracle();
  t.after(() => boto.close());
  const failures: string[] = [];
  const formBodyMismatches: string[] = [];
  for (const { c, mode, request } of variants(AWS_C_AUTH)) {
    const expected = c.expected[mode]!;
    const got = await boto.sign(request);
    const ok = got.signature === expected.signature && got.canonicalRequest === expected.canonicalRequest && got.stringToSign === expected.stringToSign;
    if (mode === 'query' && BOTOCORE_QUERY_FORM_BODY.includes(c.name)) {
      if (!ok) formBodyMismatches.push(c.name);
      // What botocore signed instead: the body's parameters in the query.
      assert.match(got.canonicalRequest ?? '', /Param1=value1/, `${c.name}: botocore moved the form body into the canonical query`);
      continue;
    }
    if (!ok) failures.push(`${c.name} ${mode}: ${got.signature}\n${got.canonicalRequest}`);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(formBodyMismatches, BOTOCORE_QUERY_FORM_BODY);
});

test('botocore reproduces 5/6 S3 examples (put-object differs: botocore rewrites its Date header)', { skip }, async (t) => {
  const boto = new BotocoreOracle();
  t.after(() => boto.close());
  const failures: string[] = [];
  for (const { c, mode, request } of variants(S3)) {
    const expected = c.expected[mode]!;
    const got = await boto.sign(request);
    if (c.name === 's3-examples/put-object') {
      assert.notEqual(got.signature, expected.signature);
      assert.match(got.canonicalRequest ?? '', /^date:Fri, 24 May 2013 00:00:00 -0000$/m, 'botocore re-formatted Date');
      assert.doesNotMatch(got.canonicalRequest ?? '', /x-amz-date/, 'and dropped X-Amz-Date');
      continue;
    }
    if (got.signature !== expected.signature || got.canonicalRequest !== expected.canonicalRequest) failures.push(`${c.name} ${mode}: ${got.signature}\n${got.canonicalRequest}`);
  }
  assert.deepEqual(failures, []);
});
