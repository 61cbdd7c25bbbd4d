// The `sigv4` CLI, run as a user runs it (node bin/sigv4.js), on every shared
// vector case with both engines. Expected values are the vector files
// themselves; the two engines must also print identical lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCaseDirs } from '../tools/sigv4/case.js';
import { sharedMissing } from './harness/shared.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = join(repo, '..', 'shared', 'vectors', 'sigv4');
const CLI = join(repo, 'bin', 'sigv4.js');
/** The vector tests skip, saying why, when ../shared is not beside the repository. */
const skip = sharedMissing();
/** One CLI run must finish within this (the XS run signs ~160 cases). */
const CLI_TIMEOUT_MS = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: repo, timeout: CLI_TIMEOUT_MS, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Line {
  case: string;
  mode: 'header' | 'query';
  canonicalRequest?: string;
  stringToSign?: string;
  signature?: string;
  signedRequest?: string;
  error?: { code: string; message: string };
}

function lines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

function caseDirs(set: string): string[] {
  if (skip) return [];
  return listCaseDirs(join(vectors, set)).map((rel) => join(vectors, set, rel));
}

const AWS_C_AUTH = caseDirs('aws-c-auth-v4');
const S3 = caseDirs('s3-examples');
const BOTOCORE = caseDirs('botocore-aws4_testsuite');
const ALL = [...AWS_C_AUTH, ...S3, ...BOTOCORE];

function read(dir: string, file: string): string | null {
  const p = join(dir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

/** Sorted `key=value` pairs of a presigned URL or path (S3 documents them in another order). */
function queryPairs(pathOrUrl: string): string[] {
  const q = pathOrUrl.indexOf('?');
  return q < 0 ? [] : pathOrUrl.slice(q + 1).split('&').sort();
}

/** Compares one CLI line with the vector files of its case; returns the differences. */
function check(line: Line): string[] {
  const dir = line.case;
  const name = dir.split('/').pop()!;
  const problems: string[] = [];
  const expect = (what: string, actual: string | undefined, expected: string | null) => {
    if (expected !== null && actual !== expected) problems.push(`${name} ${line.mode} ${what}:\n  got      ${JSON.stringify(actual)}\n  expected ${JSON.stringify(expected)}`);
  };
  if (line.error) return [`${name} ${line.mode}: error ${line.error.code}: ${line.error.message}`];
  if (existsSync(join(dir, `${name}.req`))) {
    // botocore aws4_testsuite: header signing only.
    if (line.mode !== 'header') return problems;
    expect('canonical request', line.canonicalRequest, read(dir, `${name}.creq`));
    expect('string to sign', line.stringToSign, read(dir, `${name}.sts`));
    const authz = read(dir, `${name}.authz`)!;
    expect('signature', line.signature, /Signature=([0-9a-f]{64})/.exec(authz)![1]!);
    if (!line.signedRequest?.includes(`Authorization:${authz}`)) problems.push(`${name}: signed request lacks the .authz Authorization`);
    return problems;
  }
  if (read(dir, `${line.mode}-signature.txt`) === null) return problems; // no expected files for this mode (some S3 examples)
  expect('canonical request', line.canonicalRequest, read(dir, `${line.mode}-canonical-request.txt`));
  expect('string to sign', line.stringToSign, read(dir, `${line.mode}-string-to-sign.txt`));
  expect('signature', line.signature, read(dir, `${line.mode}-signature.txt`)!.trim());
  expect('signed request', line.signedRequest, read(dir, `${line.mode}-signed-request.txt`));
  const authorization = read(dir, `${line.mode}-authorization.txt`);
  if (authorization !== null && !line.signedRequest?.includes(`\nAuthorization:${authorization}\n`)) problems.push(`${name}: signed request lacks header-authorization.txt`);
  const url = read(dir, `${line.mode}-signed-url.txt`);
  if (url !== null) {
    const target = line.signedRequest?.split('\n')[0]?.split(' ')[1] ?? '';
    if (JSON.stringify(queryPairs(target)) !== JSON.stringify(queryPairs(url.trim()))) problems.push(`${name}: presigned query ${target} != ${url}`);
  }
  return problems;
}

for (const engine of ['node', 'xs'] as const) {
  test(`sigv4 sign --engine ${engine}: every vector case (${ALL.length} folders, both modes) matches its expected files`, { skip }, async () => {
    const run = await runCli(['sign', '--engine', engine, ...ALL]);
    assert.equal(run.code, 0, run.stderr);
    const out = lines(run.stdout);
    assert.equal(out.length, 2 * ALL.length, 'one line per case and mode');
    assert.deepEqual(
      out.map((l) => `${l.case} ${l.mode}`),
      ALL.flatMap((d) => [`${d} header`, `${d} query`]),
      'argument order, header before query',
    );
    assert.deepEqual(out.flatMap(check), []);
    // 76 aws-c-auth signatures, the S3 ones that have expected files, 34 botocore headers.
    const checked = out.filter((l) => (existsSync(join(l.case, `${l.mode}-signature.txt`)) || (l.mode === 'header' && l.case.includes('botocore-aws4_testsuite'))));
    assert.equal(checked.length, 76 + 6 + 34);
  });
}

test('both engines print identical lines', { skip }, async () => {
  const args = ['sign', ...AWS_C_AUTH.slice(0, 10), ...S3];
  const [node, xs] = await Promise.all([runCli([...args, '--engine', 'node']), runCli([...args, '--engine', 'xs'])]);
  assert.equal(node.code, 0, node.stderr);
  assert.equal(xs.code, 0, xs.stderr);
  assert.equal(xs.stdout, node.stdout);
});

test('a folder that is not a case stands for every case below it', { skip }, async () => {
  const run = await runCli(['sign', '--mode', 'header', join(vectors, 'botocore-aws4_testsuite')]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(lines(run.stdout).map((l) => l.case), BOTOCORE);
});

test('--mode limits the output to one mode', { skip }, async () => {
  const run = await runCli(['sign', '--mode', 'query', AWS_C_AUTH[0]!]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(lines(run.stdout).map((l) => l.mode), ['query']);
});

test('bad cases give typed error lines (same on both engines) and exit status 1; secrets stay out', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'sigv4-cli-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const context = (extra: object) => JSON.stringify({ credentials: { access_key_id: 'AKIDEXAMPLE', secret_access_key: secret }, region: 'us-east-1', service: 'service', timestamp: '2015-08-30T12:36:00Z', ...extra });
  const make = (name: string, request: string, ctx: string) => {
    mkdirSync(join(tmp, name));
    writeFileSync(join(tmp, name, 'request.txt'), request);
    writeFileSync(join(tmp, name, 'context.json'), ctx);
    return join(tmp, name);
  };
  const badHeader = make('bad-header-name', 'GET / HTTP/1.1\nHost:example.amazonaws.com\nBad Header:x\n\n', context({}));
  const badEscape = make('bad-query-escape', 'GET /?a=%zz HTTP/1.1\nHost:example.amazonaws.com\n\n', context({}));
  const badJson = make('bad-context', 'GET / HTTP/1.1\nHost:example.amazonaws.com\n\n', '{');
  const missing = join(tmp, 'missing');
  const notAFolder = join(tmp, 'bad-header-name', 'request.txt');
  const expected = [
    ['bad-header-name', 'INVALID_HEADER_NAME'],
    ['bad-query-escape', 'INVALID_PERCENT_ENCODING'],
    ['bad-context', 'INVALID_CASE'],
    ['missing', 'CASE_NOT_FOUND'],
    ['request.txt', 'CASE_NOT_FOUND'],
  ];
  const outputs: string[] = [];
  for (const engine of ['node', 'xs']) {
    const run = await runCli(['sign', '--mode', 'header', '--engine', engine, badHeader, badEscape, badJson, missing, notAFolder]);
    assert.equal(run.code, 1, run.stderr);
    const out = lines(run.stdout);
    assert.deepEqual(
      out.map((l) => [l.case.split('/').pop(), l.error?.code]),
      expected,
    );
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'the secret key is never printed');
    outputs.push(run.stdout);
  }
  assert.equal(outputs[1], outputs[0]);
});

test('usage: --help exits 0, bad arguments exit 2 with the usage text', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: sigv4 sign/);
  for (const args of [[], ['sign'], ['sign', '--mode', 'both', 'x'], ['sign', '--engine', 'wasm', 'x'], ['sign', '--bogus', 'x'], ['verify', 'x']]) {
    const run = await runCli(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /Usage: sigv4 sign/);
    assert.equal(run.stdout, '');
  }
});
