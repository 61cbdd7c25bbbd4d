// The IoT Jobs data plane client (src/agent/jobs-client.ts) over a scripted
// HttpPort: the requests it signs (checked against a SigV4 computation
// written here from AWS's documentation, with @noble/hashes, not our
// signer), and every malformed answer refused and counted.
import type { PortableSuite } from '../harness/portable.js';
import { rejection } from '../harness/portable.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { FakeClock, FakeCredentials, ManualTimer } from '../harness/fakes.js';
import { ScriptedHttp, header, response, type ScriptedAnswer } from '../harness/scripted-http.js';
import { JobsClient, MAX_JOB_DOCUMENT_BYTES, parseJobDocument } from '../../src/agent/jobs-client.js';
import type { HttpRequest } from '../../src/ports.js';
import { decodeUtf8, utf8Bytes } from '../../src/shared/utf8.js';

const WALL = Date.UTC(2030, 4, 6, 7, 8, 9);
const CREDS = { accessKeyId: 'ASIAJOBSTEST', secretAccessKey: 'secret/key+abc', sessionToken: 'tok=en/1', expirationMs: WALL + 3_600_000 };

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}
const two = (n: number): string => (n < 10 ? '0' : '') + n;
function amzDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

/** SigV4 of `req` per the AWS documentation; `canonicalUri` is given by the test (what AWS computes from the wire path). */
function expectedAuthorization(req: HttpRequest, canonicalUri: string, signed: string[]): string {
  const date = amzDate(WALL);
  const scope = `${date.slice(0, 8)}/us-east-1/iot-jobs-data/aws4_request`;
  const canonicalHeaders = signed.map((n) => `${n}:${header(req, n)!.trim()}\n`).join('');
  const payload = hex(sha256(req.body ?? new Uint8Array(0)));
  const canonical = [req.method, canonicalUri, '', canonicalHeaders, signed.join(';'), payload].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, hex(sha256(utf8Bytes(canonical)))].join('\n');
  let k = hmac(sha256, utf8Bytes(`AWS4${CREDS.secretAccessKey}`), utf8Bytes(date.slice(0, 8)));
  for (const part of ['us-east-1', 'iot-jobs-data', 'aws4_request']) k = hmac(sha256, k, utf8Bytes(part));
  return `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${hex(hmac(sha256, k, utf8Bytes(toSign)))}`;
}

function world(handler: (req: HttpRequest) => ScriptedAnswer) {
  const timer = new ManualTimer();
  const clock = new FakeClock(timer);
  clock.set('SYNCED', WALL, 100);
  const credentials = new FakeCredentials(CREDS);
  const http = new ScriptedHttp(handler);
  const jobs = new JobsClient({ http, timer, host: 'jobs.example', port: 8443, region: 'us-east-1', thingName: 'dev-1', credentials, clock, deadlineMs: 5000 });
  return { timer, clock, credentials, http, jobs };
}

const execution = (jobDocument: unknown, extra: Record<string, unknown> = {}) =>
  response(200, JSON.stringify({ execution: { jobId: 'job-1', thingName: 'dev-1', status: 'IN_PROGRESS', jobDocument, versionNumber: 2, executionNumber: 1, ...extra } }));
const DOC = JSON.stringify({ operation: 'tuf-update', targets: ['config/prod/vdevice/agent.json'] });

const bodyText = (req: HttpRequest): string => decodeUtf8(req.body!, 0, req.body!.length);

const suite: PortableSuite = () => [
  {
    name: 'startNext: PUT /things/<thing>/jobs/$next signed for iot-jobs-data ($ encoded in the canonical URI), the execution and its parsed document',
    async run(t) {
      const w = world(() => execution(DOC));
      const ex = await w.jobs.startNext();
      t.deepEqual(ex, { jobId: 'job-1', document: { operation: 'tuf-update', targets: ['config/prod/vdevice/agent.json'] }, problem: null, versionNumber: 2 });
      const req = w.http.requests[0]!;
      t.equal(req.method, 'PUT');
      t.equal(req.path, '/things/dev-1/jobs/$next');
      t.equal(req.host, 'jobs.example');
      t.equal(req.port, 8443);
      t.equal(bodyText(req), '{}');
      t.equal(header(req, 'host'), 'jobs.example:8443');
      t.equal(header(req, 'x-amz-security-token'), CREDS.sessionToken);
      t.equal(header(req, 'x-amz-date'), amzDate(WALL));
      t.equal(header(req, 'authorization'), expectedAuthorization(req, '/things/dev-1/jobs/%24next', ['content-type', 'host', 'x-amz-date', 'x-amz-security-token']));
      t.deepEqual(w.clock.acceptedSignatures, [WALL], 'a 2xx answer is evidence for the signing time');
    },
  },
  {
    name: 'startNext: {} means no pending execution',
    async run(t) {
      const w = world(() => response(200, '{}'));
      t.equal(await w.jobs.startNext(), null);
    },
  },
  {
    name: 'update: POST /things/<thing>/jobs/<jobId> with status and status details (control characters replaced), signed',
    async run(t) {
      const w = world(() => response(200, '{"executionState":{"status":"SUCCEEDED","versionNumber":3}}'));
      await w.jobs.update('job-1', 'REJECTED', { code: 'wrong-hardware', target: 'firmware/prod/x/a.js', reason: 'line\nbreak' });
      const req = w.http.requests[0]!;
      t.equal(req.method, 'POST');
      t.equal(req.path, '/things/dev-1/jobs/job-1');
      t.deepEqual(JSON.parse(bodyText(req)), { status: 'REJECTED', statusDetails: { code: 'wrong-hardware', target: 'firmware/prod/x/a.js', reason: 'line break' } });
      t.equal(header(req, 'authorization'), expectedAuthorization(req, '/things/dev-1/jobs/job-1', ['content-type', 'host', 'x-amz-date', 'x-amz-security-token']));
    },
  },
  {
    name: 'update: 409 (terminal or version conflict) and 404 reject with the status; a bad jobId or detail key is refused before sending',
    async run(t) {
      let status = 409;
      const w = world(() => response(status, '{"message":"conflict"}'));
      const e = await rejection(w.jobs.update('job-1', 'SUCCEEDED', {}));
      t.equal(e?.code, 'status');
      t.equal(e?.status, 409);
      status = 404;
      t.equal((await rejection(w.jobs.update('job-1', 'FAILED', {})))?.status, 404);
      t.equal((await rejection(w.jobs.update('../x', 'FAILED', {})))?.code, 'bad-request');
      t.equal((await rejection(w.jobs.update('job-1', 'FAILED', { 'bad key': 'x' })))?.code, 'bad-request');
      t.equal(w.http.requests.length, 2);
      t.equal(w.jobs.stats.statuses, 2);
    },
  },
  {
    name: 'nothing is signed or sent while time is untrusted or credentials are missing or expiring',
    async run(t) {
      const w = world(() => response(200, '{}'));
      w.clock.set('UNTRUSTED', WALL, Infinity);
      t.equal((await rejection(w.jobs.startNext()))?.code, 'not-ready');
      w.clock.set('SYNCED', WALL, 100);
      w.credentials.creds = null;
      t.equal((await rejection(w.jobs.startNext()))?.code, 'not-ready');
      w.credentials.creds = { ...CREDS, expirationMs: WALL + 1000 };
      t.equal((await rejection(w.jobs.update('job-1', 'FAILED', {})))?.code, 'not-ready');
      t.equal(w.http.requests.length, 0);
      t.equal(w.jobs.stats.notReady, 3);
    },
  },
  {
    name: 'malformed answers are refused and counted: not JSON, not UTF-8, not an object, no or bad jobId or versionNumber, over the bound, bad status line',
    async run(t) {
      let answer: ScriptedAnswer = response(200, '');
      const w = world(() => answer);
      const bad: Array<[string, ScriptedAnswer]> = [
        ['empty body', response(200, '')],
        ['not JSON', response(200, '{"execution":')],
        ['not UTF-8', response(200, new Uint8Array([0x7b, 0xff, 0x7d]))],
        ['an array', response(200, '[]')],
        ['execution not an object', response(200, '{"execution":"job-1"}')],
        ['no jobId', response(200, JSON.stringify({ execution: { jobDocument: DOC, versionNumber: 1 } }))],
        ['jobId with a slash', execution(DOC, { jobId: 'a/../b' })],
        ['jobId too long', execution(DOC, { jobId: 'j'.repeat(65) })],
        ['versionNumber a string', execution(DOC, { versionNumber: '2' })],
        ['versionNumber negative', execution(DOC, { versionNumber: -1 })],
        ['over the answer bound', response(200, JSON.stringify({ execution: null, pad: 'x'.repeat(20_000) }))],
        ['status not a number', { status: '200', headers: [], body: utf8Bytes('{}') } as never],
        ['body not bytes', { status: 200, headers: [], body: '{}' } as never],
      ];
      for (const [what, a] of bad) {
        answer = a;
        t.equal((await rejection(w.jobs.startNext()))?.code, 'malformed', what);
      }
      t.equal(w.jobs.stats.malformed, bad.length);
      answer = response(503, '{"message":"Service Unavailable"}');
      t.equal((await rejection(w.jobs.startNext()))?.code, 'status');
    },
  },
  {
    name: 'a pending execution whose document is not ours comes back with document null and the reason (so it can be reported REJECTED)',
    async run(t) {
      let doc: unknown = DOC;
      const w = world(() => execution(doc));
      const cases: Array<[string, unknown]> = [
        ['not JSON', '{operation'],
        ['not a string', { operation: 'tuf-update', targets: ['a/b'] }],
        ['other operation', JSON.stringify({ operation: 'reboot', targets: ['a/b'] })],
        ['no targets', JSON.stringify({ operation: 'tuf-update', targets: [] })],
        ['five targets', JSON.stringify({ operation: 'tuf-update', targets: ['a/1', 'a/2', 'a/3', 'a/4', 'a/5'] })],
        ['a target with ..', JSON.stringify({ operation: 'tuf-update', targets: ['a/../b'] })],
        ['an absolute target', JSON.stringify({ operation: 'tuf-update', targets: ['/a/b'] })],
        ['a target twice', JSON.stringify({ operation: 'tuf-update', targets: ['a/b', 'a/b'] })],
        ['an unknown field', JSON.stringify({ operation: 'tuf-update', targets: ['a/b'], run: 'sh' })],
        ['over 4 KiB', JSON.stringify({ operation: 'tuf-update', targets: ['a/' + 'x'.repeat(200)], pad: 'p'.repeat(MAX_JOB_DOCUMENT_BYTES) })],
      ];
      for (const [what, d] of cases) {
        doc = d;
        const ex = await w.jobs.startNext();
        t.equal(ex?.jobId, 'job-1', what);
        t.equal(ex?.document, null, what);
        t.ok(typeof ex?.problem === 'string' && ex.problem.length > 0, what);
      }
      t.equal(w.jobs.stats.badDocuments, cases.length);
      t.deepEqual(parseJobDocument(JSON.stringify({ operation: 'tuf-update', targets: ['a/1', 'a/2', 'a/3', 'a/4'] })), { operation: 'tuf-update', targets: ['a/1', 'a/2', 'a/3', 'a/4'] }, 'four targets are fine');
    },
  },
  {
    name: 'a hung endpoint: the deadline rejects and cancels; a port error rejects; nothing throws',
    async run(t) {
      let mode: 'hang' | 'error' = 'hang';
      const w = world(() => (mode === 'hang' ? 'hang' : new Error('ECONNRESET')));
      const p = rejection(w.jobs.startNext());
      w.timer.advance(5000);
      t.equal((await p)?.code, 'deadline');
      t.equal(w.http.cancelled, 1);
      mode = 'error';
      t.equal((await rejection(w.jobs.startNext()))?.code, 'network');
      t.equal(w.timer.size, 0);
    },
  },
];

export default suite;
