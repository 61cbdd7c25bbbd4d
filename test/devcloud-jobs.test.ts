// The dev cloud's IoT Jobs data plane (service iot-jobs-data) over its TLS
// gateway: a job's life cycle (StartNextPendingJobExecution, Describe,
// UpdateJobExecution), terminal statuses that never change (409), version
// conflicts (409 with the current state), 404/400, SigV4 refusals (403 as
// AWS), and three independent signers on the `$` path: botocore's own
// iot-jobs-data client (its service model, its canonical path `%24next`),
// aws-crt, and our device signer (src/sigv4) all accepted; a canonical path
// with a literal `$` refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auth, http } from 'aws-crt';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import { fetchCredentials, rawHttps, type Credentials, type RawResponse, adminCall } from '../tools/devcloud/client.js';
import { BOTOCORE_PYTHON } from '../tools/sigv4/oracle-botocore.js';
import { OurOracle } from '../tools/sigv4/oracle-ours.js';

const THING = 'jobs-thing';
const OTHER_THING = 'jobs-other';
/** botocore run's limit (python start-up + botocore import on a loaded machine). */
const BOTOCORE_TIMEOUT_MS = 60_000;
const DOC = { operation: 'tuf-update', targets: ['config/prod/vdevice/agent.json'] };

let cloud: DevCloud;
let stateDir: string;
let ca: string;
let creds: Credentials;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-jobs-'));
  // Real clock: botocore signs with the host's time.
  cloud = await startDevCloud({ stateDir, keyType: 'ec', adminPort: 0 });
  const e = cloud.endpoints();
  ca = readFileSync(e.caFile, 'utf8');
  const device = await cloud.provision(THING);
  await cloud.provision(OTHER_THING);
  creds = await fetchCredentials({ host: '127.0.0.1', port: e.credentialsPort, roleAlias: e.roleAlias, ca, cert: device.certPem, key: device.keyPem });
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

interface SignOptions {
  service?: string;
  doubleUriEncode?: boolean;
  date?: Date;
  credentials?: Pick<Credentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
}

/** Signs with aws-crt (header signing, token signed) and sends it. */
async function jobs(method: string, path: string, body: unknown, o: SignOptions = {}): Promise<RawResponse> {
  const e = cloud.endpoints();
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  const c = o.credentials ?? creds;
  const req = new http.HttpRequest(method, path, new http.HttpHeaders([['host', `127.0.0.1:${e.gatewayPort}`], ['content-type', 'application/json']]));
  const signed = await auth.aws_sign_request(req, {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: auth.AwsSignatureType.HttpRequestViaHeaders,
    provider: auth.AwsCredentialsProvider.newStatic(c.accessKeyId, c.secretAccessKey, c.sessionToken),
    region: e.region,
    service: o.service ?? 'iot-jobs-data',
    date: o.date ?? new Date(),
    use_double_uri_encode: o.doubleUriEncode ?? true,
    should_normalize_uri_path: true,
    signed_body_value: createHash('sha256').update(bytes).digest('hex'),
  });
  const headers: Array<[string, string]> = [];
  for (const [k, v] of signed.headers) headers.push([k, v]);
  headers.push(['content-length', String(bytes.length)]);
  return rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method, path, headers, body: bytes, ca });
}

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return adminCall(cloud.endpoints().adminPort!, method, path, body);
}

async function execution(jobId: string, thing = THING): Promise<any> {
  const r = await admin('GET', `/jobs/execution?thing=${thing}&jobId=${jobId}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.execution;
}

function assertError(res: RawResponse, status: number, errorType: string, message?: RegExp): any {
  assert.equal(res.status, status, res.body.toString());
  assert.equal(res.headers['x-amzn-errortype'], errorType);
  const json = res.json() as { message: string };
  if (message) assert.match(json.message, message);
  return json;
}

const next = `/things/${THING}/jobs/$next`;

describe('IoT Jobs data plane', () => {
  test('life cycle: queued -> StartNext (IN_PROGRESS, document) -> Update IN_PROGRESS -> SUCCEEDED; admin reads status, details, version', async () => {
    const created = await admin('POST', '/jobs', { thing: THING, document: DOC, jobId: 'update-1' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.equal(created.json.execution.status, 'QUEUED');
    assert.equal(created.json.execution.versionNumber, 1);

    const started = await jobs('PUT', next, {});
    assert.equal(started.status, 200, started.body.toString());
    const ex = (started.json() as { execution: any }).execution;
    assert.equal(ex.jobId, 'update-1');
    assert.equal(ex.thingName, THING);
    assert.equal(ex.status, 'IN_PROGRESS');
    assert.equal(typeof ex.jobDocument, 'string');
    assert.deepEqual(JSON.parse(ex.jobDocument), DOC);
    assert.equal(ex.versionNumber, 2);
    assert.equal(ex.executionNumber, 1);
    assert.equal(typeof ex.queuedAt, 'number');
    assert.equal(typeof ex.startedAt, 'number');

    // The next pending is the one in progress: the same execution, unchanged.
    const again = (await jobs('PUT', next, {})).json() as { execution: any };
    assert.equal(again.execution.jobId, 'update-1');
    assert.equal(again.execution.versionNumber, 2);

    const described = await jobs('GET', `/things/${THING}/jobs/update-1`, undefined);
    assert.equal(described.status, 200);
    assert.equal((described.json() as any).execution.jobDocument, undefined, 'no document unless includeJobDocument=true');
    const withDoc = await jobs('GET', `/things/${THING}/jobs/update-1?includeJobDocument=true`, undefined);
    assert.deepEqual(JSON.parse((withDoc.json() as any).execution.jobDocument), DOC);

    // AWS: executionState only when includeJobExecutionState is true.
    const progress = await jobs('POST', `/things/${THING}/jobs/update-1`, { status: 'IN_PROGRESS', statusDetails: { step: 'download' }, expectedVersion: 2 });
    assert.equal(progress.status, 200, progress.body.toString());
    assert.deepEqual(progress.json(), {});
    const done = await jobs('POST', `/things/${THING}/jobs/update-1`, { status: 'SUCCEEDED', statusDetails: { target: 'config/prod/vdevice/agent.json' }, expectedVersion: 3, includeJobExecutionState: true });
    assert.equal(done.status, 200, done.body.toString());
    assert.deepEqual(done.json(), { executionState: { status: 'SUCCEEDED', statusDetails: { target: 'config/prod/vdevice/agent.json' }, versionNumber: 4 } });

    const seen = await execution('update-1');
    assert.equal(seen.status, 'SUCCEEDED');
    assert.deepEqual(seen.statusDetails, { target: 'config/prod/vdevice/agent.json' });
    assert.equal(seen.versionNumber, 4);
    const none = await jobs('PUT', next, {});
    assert.equal(none.status, 200);
    assert.deepEqual(none.json(), {}, 'nothing pending: an empty answer');
    const listed = await admin('GET', `/jobs/executions?thing=${THING}`);
    assert.deepEqual(listed.json.executions.map((e: any) => [e.jobId, e.status]), [['update-1', 'SUCCEEDED']]);
  });

  test('terminal statuses SUCCEEDED, FAILED, REJECTED never change: 409 InvalidStateTransitionException with the current state', async () => {
    for (const terminal of ['SUCCEEDED', 'FAILED', 'REJECTED']) {
      const jobId = `terminal-${terminal.toLowerCase()}`;
      cloud.createJob(THING, DOC, jobId);
      const set = await jobs('POST', `/things/${THING}/jobs/${jobId}`, { status: terminal, statusDetails: { code: 'x' } });
      assert.equal(set.status, 200, set.body.toString());
      for (const status of ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']) {
        const res = await jobs('POST', `/things/${THING}/jobs/${jobId}`, { status, statusDetails: { code: 'y' } });
        const json = assertError(res, 409, 'InvalidStateTransitionException');
        assert.deepEqual(json.executionState, { status: terminal, statusDetails: { code: 'x' }, versionNumber: 2 });
      }
      const after = await execution(jobId);
      assert.deepEqual([after.status, after.statusDetails, after.versionNumber], [terminal, { code: 'x' }, 2]);
    }
  });

  test('version conflict: a stale expectedVersion is 409 with the current state, and changes nothing', async () => {
    cloud.createJob(THING, DOC, 'conflict-1');
    assert.equal((await jobs('POST', `/things/${THING}/jobs/conflict-1`, { status: 'IN_PROGRESS', expectedVersion: 1 })).status, 200);
    const stale = await jobs('POST', `/things/${THING}/jobs/conflict-1`, { status: 'SUCCEEDED', expectedVersion: 1 });
    const json = assertError(stale, 409, 'InvalidStateTransitionException', /version/i);
    assert.deepEqual(json.executionState, { status: 'IN_PROGRESS', statusDetails: {}, versionNumber: 2 });
    const seen = await execution('conflict-1');
    assert.deepEqual([seen.status, seen.versionNumber], ['IN_PROGRESS', 2]);
    assert.equal((await jobs('POST', `/things/${THING}/jobs/conflict-1`, { status: 'FAILED', expectedVersion: 2 })).status, 200);
  });

  test('404 unknown job, 400 bad status / details / body, 409 for statuses only the service sets', async () => {
    assertError(await jobs('POST', `/things/${THING}/jobs/no-such-job`, { status: 'SUCCEEDED' }), 404, 'ResourceNotFoundException');
    assertError(await jobs('GET', `/things/${THING}/jobs/no-such-job`, undefined), 404, 'ResourceNotFoundException');
    cloud.createJob(THING, DOC, 'bad-input');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'DONE' }), 400, 'InvalidRequestException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, {}), 400, 'InvalidRequestException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'FAILED', statusDetails: { code: 7 } }), 400, 'InvalidRequestException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'FAILED', statusDetails: { 'bad key': 'v' } }), 400, 'InvalidRequestException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'FAILED', statusDetails: { code: 'x'.repeat(1025) } }), 400, 'InvalidRequestException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, [1, 2]), 400, 'InvalidRequestException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'QUEUED' }), 409, 'InvalidStateTransitionException');
    assertError(await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'CANCELED' }), 409, 'InvalidStateTransitionException');
    assertError(await jobs('DELETE', `/things/${THING}/jobs/bad-input`, undefined), 405, 'MethodNotAllowedException');
    const seen = await execution('bad-input');
    assert.deepEqual([seen.status, seen.versionNumber], ['QUEUED', 1]);
    // Out of the queue, so StartNext in later tests finds their own job.
    assert.equal((await jobs('POST', `/things/${THING}/jobs/bad-input`, { status: 'FAILED' })).status, 200);
  });

  test('SigV4 refusals are 403 as AWS answers them, and change nothing', async () => {
    cloud.createJob(THING, DOC, 'auth-1');
    const path = `/things/${THING}/jobs/auth-1`;
    const e = cloud.endpoints();
    const unsigned = await rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method: 'PUT', path: next, headers: [['host', `127.0.0.1:${e.gatewayPort}`]], ca });
    assertError(unsigned, 403, 'ForbiddenException', /^Missing Authentication Token$/);
    assertError(await jobs('POST', path, { status: 'SUCCEEDED' }, { service: 'iotdata' }), 403, 'ForbiddenException', /^Credential should be scoped to correct service: 'iot-jobs-data'/);
    assertError(await jobs('POST', path, { status: 'SUCCEEDED' }, { date: new Date(Date.now() - 10 * 60_000) }), 403, 'ForbiddenException', /^Signature expired:/);
    assertError(
      await jobs('POST', path, { status: 'SUCCEEDED' }, { credentials: { ...creds, secretAccessKey: 'wrong' + creds.secretAccessKey.slice(5) } }),
      403,
      'ForbiddenException',
      /^The request signature we calculated does not match/,
    );
    // A body changed after signing.
    const bytes = Buffer.from(JSON.stringify({ status: 'FAILED' }));
    const req = new http.HttpRequest('POST', path, new http.HttpHeaders([['host', `127.0.0.1:${e.gatewayPort}`]]));
    const signed = await auth.aws_sign_request(req, {
      algorithm: auth.AwsSigningAlgorithm.SigV4,
      signature_type: auth.AwsSignatureType.HttpRequestViaHeaders,
      provider: auth.AwsCredentialsProvider.newStatic(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken),
      region: e.region,
      service: 'iot-jobs-data',
      date: new Date(),
      signed_body_value: createHash('sha256').update(Buffer.from(JSON.stringify({ status: 'SUCCEEDED' }))).digest('hex'),
    });
    const headers: Array<[string, string]> = [...signed.headers].map(([k, v]) => [k, v] as [string, string]);
    headers.push(['content-length', String(bytes.length)]);
    assertError(await rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method: 'POST', path, headers, body: bytes, ca }), 403, 'ForbiddenException', /does not match/);
    // Valid signature, another thing's jobs: the role alias acts for its own thing only.
    cloud.createJob(OTHER_THING, DOC, 'theirs');
    assertError(await jobs('POST', `/things/${OTHER_THING}/jobs/theirs`, { status: 'SUCCEEDED' }), 403, 'AccessDeniedException', /not authorized to perform: iotjobsdata:UpdateJobExecution/);
    assertError(await jobs('PUT', `/things/${OTHER_THING}/jobs/$next`, {}), 403, 'AccessDeniedException');
    assert.equal((await execution('auth-1')).status, 'QUEUED');
    assert.equal((await execution('theirs', OTHER_THING)).status, 'QUEUED');
    // A canonical path with a literal `$` (no URI encoding of the path): not what AWS signs, refused.
    assertError(await jobs('PUT', next, {}, { doubleUriEncode: false }), 403, 'ForbiddenException', /does not match/);
    assert.equal((await execution('auth-1')).status, 'QUEUED');
    assert.equal((await jobs('POST', path, { status: 'FAILED' })).status, 200);
  });

  test('our device signer (src/sigv4) signs StartNextPendingJobExecution the way the dev cloud verifies it', async () => {
    cloud.createJob(THING, DOC, 'ours-1');
    const e = cloud.endpoints();
    const body = Buffer.from('{}');
    const signed = new OurOracle().sign({
      method: 'PUT',
      path: next,
      headers: [['host', `127.0.0.1:${e.gatewayPort}`], ['content-type', 'application/json']],
      body,
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      region: e.region,
      service: 'iot-jobs-data',
      timeMs: Math.floor(Date.now() / 1000) * 1000,
      mode: 'header',
      normalize: true,
      doubleUriEncode: true,
      signBody: false,
      payloadHash: null,
      omitSessionToken: false,
      expirationInSeconds: 0,
    });
    assert.match(signed.canonicalRequest ?? '', /^PUT\n\/things\/jobs-thing\/jobs\/%24next\n/);
    const res = await rawHttps({ host: '127.0.0.1', port: e.gatewayPort, method: 'PUT', path: signed.path, headers: [...signed.headers, ['content-length', String(body.length)]], body, ca });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal((res.json() as any).execution.jobId, 'ours-1');
    assert.equal((await jobs('POST', `/things/${THING}/jobs/ours-1`, { status: 'SUCCEEDED' })).status, 200);
  });

  test("botocore's own iot-jobs-data client (its signer, its service model) drives a job on the dev cloud", async () => {
    cloud.createJob(THING, DOC, 'boto-1');
    const e = cloud.endpoints();
    const script = join(stateDir, 'boto-jobs.py');
    writeFileSync(
      script,
      [
        'import io, json, logging, sys',
        'import botocore.session',
        'from botocore.config import Config',
        'a = json.loads(sys.stdin.read())',
        'seen = io.StringIO()',
        "log = logging.getLogger('botocore.auth'); log.setLevel(logging.DEBUG); log.addHandler(logging.StreamHandler(seen))",
        "c = botocore.session.get_session().create_client('iot-jobs-data', region_name=a['region'], endpoint_url=a['endpoint'], verify=a['ca'],",
        "    aws_access_key_id=a['id'], aws_secret_access_key=a['secret'], aws_session_token=a['token'], config=Config(retries={'max_attempts': 1}))",
        'out = {}',
        "s = c.start_next_pending_job_execution(thingName=a['thing'], statusDetails={'step': 'verify'})",
        "out['start'] = s['execution']",
        "canon = [b.split('\\n')[:2] for b in seen.getvalue().split('CanonicalRequest:\\n')[1:]]",
        "out['canonical'] = canon",
        "u = c.update_job_execution(thingName=a['thing'], jobId=s['execution']['jobId'], status='REJECTED', statusDetails={'code': 'wrong-hardware'},",
        "    expectedVersion=s['execution']['versionNumber'], includeJobExecutionState=True)",
        "out['update'] = u['executionState']",
        "d = c.describe_job_execution(thingName=a['thing'], jobId=s['execution']['jobId'], includeJobDocument=True)",
        "out['describe'] = d['execution']",
        'print(json.dumps(out, default=str))',
      ].join('\n'),
    );
    const input = JSON.stringify({ region: e.region, endpoint: e.jobsUrl, ca: e.caFile, id: creds.accessKeyId, secret: creds.secretAccessKey, token: creds.sessionToken, thing: THING });
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(BOTOCORE_PYTHON, [script], { timeout: BOTOCORE_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr: stderr.replace(creds.secretAccessKey, '<secret>') }),
      );
      child.stdin!.end(input);
    });
    assert.equal(out.code, 0, out.stderr.slice(-2000));
    const r = JSON.parse(out.stdout) as { start: any; canonical: string[][]; update: any; describe: any };
    // botocore's canonical URI for the `$next` path: `$` percent-encoded, as the dev cloud (aws-crt) verifies it.
    assert.deepEqual(r.canonical[0], ['PUT', `/things/${THING}/jobs/%24next`]);
    assert.equal(r.start.jobId, 'boto-1');
    assert.equal(r.start.status, 'IN_PROGRESS');
    assert.deepEqual(r.start.statusDetails, { step: 'verify' });
    assert.deepEqual(JSON.parse(r.start.jobDocument), DOC);
    assert.deepEqual(r.update, { status: 'REJECTED', statusDetails: { code: 'wrong-hardware' }, versionNumber: r.start.versionNumber + 1 });
    assert.equal(r.describe.status, 'REJECTED');
    assert.deepEqual(JSON.parse(r.describe.jobDocument), DOC);
    const seen = await execution('boto-1');
    assert.deepEqual([seen.status, seen.statusDetails], ['REJECTED', { code: 'wrong-hardware' }]);
  });
});
