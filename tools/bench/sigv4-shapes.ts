// The three request shapes the signer benchmark measures, as plain data that
// every signer (ours on XS and Node, @smithy/signature-v4, aws4, aws-crt) is
// driven from. Bytes are generated deterministically so that computron counts
// and signatures are reproducible run to run.

/** Fixed test credentials (the AWS documentation's example key pair): never real secrets. */
export const BENCH_ACCESS_KEY_ID = 'AKIDEXAMPLE';
export const BENCH_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
/** Signing time: 2026-11-20T08:30:00Z, an argument like the secure clock would give. */
export const BENCH_SIGNING_TIME_MS = Date.UTC(2026, 10, 20, 8, 30, 0);
export const BENCH_REGION = 'eu-west-1';

/** Size of the IoT shape's JSON body and of its session token, as the issue states them. */
export const IOT_BODY_BYTES = 256;
export const SESSION_TOKEN_CHARS = 1024;
/** Shape 2: this many request headers (Host included) and this many body bytes. */
export const HEADERS16_COUNT = 16;
export const HEADERS16_BODY_BYTES = 4096;
/**
 * X-Amz-Expires of the MQTT presign. AWS IoT accepts a presign without it
 * (aws-crt omits it), but @smithy/signature-v4 always adds one, and the three
 * signers must sign the same canonical request to be compared: so it is set.
 */
export const MQTT_EXPIRES_SECONDS = 3600;

export type ShapeName = 'iot' | 'headers16' | 'mqtt';

export interface BenchShape {
  name: ShapeName;
  description: string;
  /** Authorization header or presigned query string. */
  mode: 'header' | 'query';
  method: 'GET' | 'POST';
  host: string;
  /** Wire path without the query, already percent-encoded as sent. */
  path: string;
  /** Query pairs as sent (unencoded values; none here need encoding). */
  query: Array<[string, string]>;
  /** Request headers in order, Host first. The signer adds X-Amz-Date & co. */
  headers: Array<[string, string]>;
  /** Body as ASCII text (all bodies here are ASCII JSON). Empty for GET. */
  body: string;
  region: string;
  service: string;
  /** Add and sign `x-amz-content-sha256: hex(sha256(body))`. */
  signBody: boolean;
  sessionToken: string | null;
  /** The token is appended after signing and is not in the canonical request. */
  omitSessionToken: boolean;
  /** X-Amz-Expires for presigns; 0 = none. */
  expiresSeconds: number;
}

/** Deterministic base64-alphabet text (like an STS session token), `+`, `/` included. */
export function fakeSessionToken(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let state = 0x2545f491;
  let out = 'IQoJb3JpZ2luX2VjE';
  while (out.length < length - 2) {
    // xorshift32: fixed sequence, no Math.random.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out += alphabet[(state >>> 0) % 64];
  }
  return `${out}==`;
}

/** A JSON object of exactly `bytes` ASCII bytes: telemetry fields padded by a filler string. */
export function jsonBody(bytes: number, seed: string): string {
  const head = `{"deviceId":"thing-0042","seq":1234,"ts":1795595400000,"source":"${seed}","temperature":21.5,"humidity":48.25,"battery":3.71,"pad":"`;
  const tail = '"}';
  const fill = bytes - head.length - tail.length;
  if (fill < 0) throw new Error(`jsonBody: ${bytes} bytes is smaller than the fixed fields`);
  let pad = '';
  for (let i = 0; i < fill; i++) pad += String.fromCharCode(0x61 + (i % 26));
  return head + pad + tail;
}

const IOT_ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';

export function benchShapes(): BenchShape[] {
  const token = fakeSessionToken(SESSION_TOKEN_CHARS);
  const iotBody = jsonBody(IOT_BODY_BYTES, 'iot');
  const bigBody = jsonBody(HEADERS16_BODY_BYTES, 'headers16');
  const headers16: Array<[string, string]> = [
    ['Host', 'ingest.example.execute-api.eu-west-1.amazonaws.com'],
    ['Content-Type', 'application/json'],
    ['Content-Length', String(HEADERS16_BODY_BYTES)],
    ['Accept', 'application/json'],
    ['Content-Encoding', 'identity'],
    ['X-Device-Id', 'thing-0042'],
    ['X-Device-Model', 'esp32-s3  devkit'],
    ['X-Firmware-Version', '1.4.2'],
    ['X-Request-Id', '7f3c2a10-5b9e-4d0a-9c1e-2f6b8a4d0e11'],
    ['X-Batch-Sequence', '1234'],
    ['X-Batch-Count', '32'],
    ['X-Clock-Error-Ms', '85'],
    ['X-Amz-Meta-Site', 'plant-7 line-3'],
    ['X-Amz-Meta-Owner', 'ops@example.com'],
    ['X-Retry-Attempt', '0'],
    ['X-Trace-Tag', '  sampled=1;  priority=low  '],
  ];
  if (headers16.length !== HEADERS16_COUNT) throw new Error('headers16 shape must have 16 headers');
  return [
    {
      name: 'iot',
      description: 'IoT HTTPS publish: POST /topics/<topic>?qos=1, 256 B JSON, 1 KB session token, header signing (iotdata)',
      mode: 'header',
      method: 'POST',
      host: IOT_ENDPOINT,
      path: '/topics/devices%2Fthing-0042%2Ftelemetry',
      query: [['qos', '1']],
      headers: [
        ['Host', IOT_ENDPOINT],
        ['Content-Type', 'application/json'],
        ['Content-Length', String(IOT_BODY_BYTES)],
      ],
      body: iotBody,
      region: BENCH_REGION,
      service: 'iotdata',
      signBody: false,
      sessionToken: token,
      omitSessionToken: false,
      expiresSeconds: 0,
    },
    {
      name: 'headers16',
      description: '16 headers, 4 KB JSON body, header signing, sign body (x-amz-content-sha256), no token',
      mode: 'header',
      method: 'POST',
      host: headers16[0]![1],
      path: '/prod/telemetry/batch',
      query: [],
      headers: headers16,
      body: bigBody,
      region: BENCH_REGION,
      service: 'execute-api',
      signBody: true,
      sessionToken: null,
      omitSessionToken: false,
      expiresSeconds: 0,
    },
    {
      name: 'mqtt',
      description: 'presigned MQTT-over-WebSocket URL: GET /mqtt, iotdevicegateway, token appended after signing',
      mode: 'query',
      method: 'GET',
      host: IOT_ENDPOINT,
      path: '/mqtt',
      query: [],
      headers: [['Host', IOT_ENDPOINT]],
      body: '',
      region: BENCH_REGION,
      service: 'iotdevicegateway',
      signBody: false,
      sessionToken: token,
      omitSessionToken: true,
      expiresSeconds: MQTT_EXPIRES_SECONDS,
    },
  ];
}

/** Wire path with its query string, as the request line carries it. */
export function wirePath(shape: BenchShape): string {
  if (shape.query.length === 0) return shape.path;
  return `${shape.path}?${shape.query.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** `YYYYMMDDTHHMMSSZ` for the bench signing time. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
}
