// AWS IoT signing shapes checked against an independent signer: aws-crt
// (npm), i.e. AWS's native aws-c-auth, which the AWS IoT device SDKs use for
// MQTT over WebSocket. Our helpers must give the same signature and send the
// same parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Signer, presignMqttUrl, signIotPublish } from '../src/sigv4/index.js';

type Crt = typeof import('aws-crt');
const crt = createRequire(import.meta.url)('aws-crt') as Crt;

const T0 = 1440938160000; // 2015-08-30T12:36:00Z
const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE/+token==with/slashes+and=equals';
const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
const REGION = 'eu-west-1';

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface CrtSigned {
  path: string;
  headers: Array<[string, string]>;
}

async function crtSign(opts: {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  service: string;
  query: boolean;
  omitSessionToken: boolean;
  payloadHash: string;
  expires?: number;
}): Promise<CrtSigned> {
  const { auth, http } = crt;
  const request = new http.HttpRequest(opts.method, opts.path, new http.HttpHeaders(opts.headers));
  const signed = await auth.aws_sign_request(request, {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: opts.query ? auth.AwsSignatureType.HttpRequestViaQueryParams : auth.AwsSignatureType.HttpRequestViaHeaders,
    provider: auth.AwsCredentialsProvider.newStatic(AKID, SECRET, TOKEN),
    region: REGION,
    service: opts.service,
    date: new Date(T0),
    use_double_uri_encode: true,
    should_normalize_uri_path: true,
    omit_session_token: opts.omitSessionToken,
    signed_body_value: opts.payloadHash,
    signed_body_header: auth.AwsSignedBodyHeaderType.None,
    ...(opts.expires !== undefined ? { expiration_in_seconds: opts.expires } : {}),
  });
  const headers: Array<[string, string]> = [];
  for (const [n, v] of signed.headers) headers.push([n, v]);
  return { path: signed.path, headers };
}

function params(pathAndQuery: string): string[] {
  return pathAndQuery.slice(pathAndQuery.indexOf('?') + 1).split('&').sort();
}

function signer(service: string): Signer {
  return new Signer({ credentials: { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: TOKEN }, region: REGION, service });
}

for (const expires of [undefined, 3600]) {
  test(`MQTT over WebSocket presign equals aws-crt (omit_session_token, expires ${expires ?? 'none'})`, async () => {
    const ours = presignMqttUrl(signer('iotdevicegateway'), { endpoint: ENDPOINT, timeMs: T0, expiresSeconds: expires });
    const theirs = await crtSign({
      method: 'GET',
      path: '/mqtt',
      headers: [['host', ENDPOINT]],
      service: 'iotdevicegateway',
      query: true,
      omitSessionToken: true,
      payloadHash: sha256Hex(new Uint8Array(0)),
      ...(expires !== undefined ? { expires } : {}),
    });
    assert.ok(ours.startsWith(`wss://${ENDPOINT}/mqtt?`));
    const ourPath = ours.slice(`wss://${ENDPOINT}`.length);
    assert.deepEqual(params(ourPath), params(theirs.path), 'same parameters, same signature');
    assert.ok(theirs.path.includes(`X-Amz-Security-Token=${encodeURIComponent(TOKEN)}`), 'aws-crt appends the token too');
    assert.ok(ours.endsWith(`&X-Amz-Security-Token=${encodeURIComponent(TOKEN)}`), 'ours appends it after the signature');
  });
}

test('MQTT presign: signing the token (the common mistake) gives a different signature than aws-crt', async () => {
  const wrong = signer('iotdevicegateway').presign({ method: 'GET', path: '/mqtt', headers: [['host', ENDPOINT]], timeMs: T0 });
  const theirs = await crtSign({
    method: 'GET',
    path: '/mqtt',
    headers: [['host', ENDPOINT]],
    service: 'iotdevicegateway',
    query: true,
    omitSessionToken: true,
    payloadHash: sha256Hex(new Uint8Array(0)),
  });
  assert.notEqual(wrong.signature(), /X-Amz-Signature=([0-9a-f]{64})/.exec(theirs.path)![1]);
});

for (const [topic, service] of [
  ['a/b', 'iotdata'],
  ['dt/é sensor/+/#', 'iotdata'],
  ['$aws/things/t1/shadow/update', 'iotdevicegateway'],
] as const) {
  test(`HTTPS publish to ${JSON.stringify(topic)} (${service}) equals aws-crt`, async () => {
    const body = new TextEncoder().encode(JSON.stringify({ temperature: 21.5, topic }));
    const ours = signIotPublish(signer(service), { endpoint: ENDPOINT, topic, body, timeMs: T0, headers: [['content-type', 'application/json']] });
    assert.equal(ours.path, `/topics/${encodeURIComponent(topic).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}?qos=1`);
    const theirs = await crtSign({
      method: 'POST',
      path: ours.path,
      headers: [
        ['host', ENDPOINT],
        ['content-type', 'application/json'],
      ],
      service,
      query: false,
      omitSessionToken: false,
      payloadHash: sha256Hex(body),
    });
    const pick = (list: Array<[string, string]>, name: string) => list.find(([n]) => n.toLowerCase() === name)?.[1];
    for (const name of ['authorization', 'x-amz-date', 'x-amz-security-token']) {
      assert.equal(pick(ours.headers, name), pick(theirs.headers, name), name);
    }
  });
}
