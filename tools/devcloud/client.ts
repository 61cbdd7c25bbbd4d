// Client-side helpers for tests, the virtual device runner and scripts:
// fetch credentials over mutual TLS, send raw HTTPS requests (header list in
// wire order), and sign IoT requests with aws-crt (an independent signer, so
// tests of the gateway do not depend on the project's own signer), and call
// the admin API.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createHash } from 'node:crypto';
import { auth, http } from 'aws-crt';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): unknown;
}

export interface RawRequest {
  host: string;
  port: number;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  ca: string;
  cert?: string;
  key?: string;
  /** Bound on the whole exchange. Default CLIENT_TIMEOUT_MS. */
  timeoutMs?: number;
}

export const CLIENT_TIMEOUT_MS = 10_000;

/** One HTTPS exchange on a fresh connection. Headers go out in the order given, names as given. */
export function rawHttps(r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const flat: string[] = [];
    for (const [k, v] of r.headers) flat.push(k, v);
    const req = httpsRequest({
      host: r.host,
      port: r.port,
      method: r.method,
      path: r.path,
      headers: flat as unknown as Record<string, string>,
      ca: r.ca,
      cert: r.cert,
      key: r.key,
      agent: false,
      setHost: false,
      timeout: r.timeoutMs ?? CLIENT_TIMEOUT_MS,
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
    });
    req.end(r.body);
  });
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

/** GET /role-aliases/<alias>/credentials with the device certificate. */
export async function fetchCredentials(o: { host: string; port: number; roleAlias: string; ca: string; cert: string; key: string; thingName?: string }): Promise<Credentials> {
  const headers: Array<[string, string]> = [['host', `${o.host}:${o.port}`]];
  if (o.thingName !== undefined) headers.push(['x-amzn-iot-thingname', o.thingName]);
  const res = await rawHttps({ host: o.host, port: o.port, method: 'GET', path: `/role-aliases/${encodeURIComponent(o.roleAlias)}/credentials`, headers, ca: o.ca, cert: o.cert, key: o.key });
  if (res.status !== 200) throw new Error(`credentials provider answered ${res.status}`);
  return (res.json() as { credentials: Credentials }).credentials;
}

export interface SignedRequest {
  path: string;
  headers: Array<[string, string]>;
}

/** Signs `POST /topics/<topic>?qos=N` with aws-crt (header signing, double URI encoding, token signed). */
export async function crtSignPublish(o: {
  credentials: Pick<Credentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
  region: string;
  service?: string;
  hostHeader: string;
  topic: string;
  qos?: 0 | 1;
  body: Buffer;
  date: Date;
  extraHeaders?: Array<[string, string]>;
}): Promise<SignedRequest> {
  const path = `/topics/${encodeURIComponent(o.topic)}?qos=${o.qos ?? 1}`;
  const headers = new http.HttpHeaders([['host', o.hostHeader], ['content-type', 'application/json'], ...(o.extraHeaders ?? [])]);
  // Payload hash computed here: aws-crt's Node binding deadlocks reading a body stream while signing.
  const req = new http.HttpRequest('POST', path, headers);
  const signed = await auth.aws_sign_request(req, {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: auth.AwsSignatureType.HttpRequestViaHeaders,
    provider: auth.AwsCredentialsProvider.newStatic(o.credentials.accessKeyId, o.credentials.secretAccessKey, o.credentials.sessionToken),
    region: o.region,
    service: o.service ?? 'iotdata',
    date: o.date,
    use_double_uri_encode: true,
    should_normalize_uri_path: true,
    signed_body_value: createHash('sha256').update(o.body).digest('hex'),
  });
  const out: Array<[string, string]> = [];
  for (const [k, v] of signed.headers) out.push([k, v]);
  out.push(['content-length', String(o.body.length)]);
  return { path: signed.path, headers: out };
}

/**
 * Presigns `GET /mqtt` the AWS IoT way with aws-crt: service iotdevicegateway,
 * payload sha256(""), token appended after signing (omit_session_token).
 * `signToken: true` reproduces the common client bug (token inside the signature).
 */
export async function crtPresignMqtt(o: {
  credentials: Pick<Credentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
  region: string;
  hostHeader: string;
  date: Date;
  expiresSeconds?: number;
  signToken?: boolean;
  service?: string;
}): Promise<string> {
  const req = new http.HttpRequest('GET', '/mqtt', new http.HttpHeaders([['host', o.hostHeader]]));
  const config: auth.AwsSigningConfig = {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: auth.AwsSignatureType.HttpRequestViaQueryParams,
    provider: auth.AwsCredentialsProvider.newStatic(o.credentials.accessKeyId, o.credentials.secretAccessKey, o.credentials.sessionToken),
    region: o.region,
    service: o.service ?? 'iotdevicegateway',
    date: o.date,
    omit_session_token: !o.signToken,
    signed_body_value: auth.AwsSignedBodyValue.EmptySha256,
  };
  if (o.expiresSeconds !== undefined) config.expiration_in_seconds = o.expiresSeconds;
  const signed = await auth.aws_sign_request(req, config);
  return signed.path;
}

/** One call of the dev cloud's admin API (loopback HTTP, JSON both ways). */
export function adminCall(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {}, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.end(data);
  });
}
