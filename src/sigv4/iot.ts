// AWS IoT Core helpers on top of the Signer.
//
// MQTT over WebSocket: `GET /mqtt` presigned for service `iotdevicegateway`
// with payload hash sha256(""); X-Amz-Expires is optional; the session token
// is NOT signed but appended after the signature as
// `&X-Amz-Security-Token=<uri-encoded>` (signing it is the classic cause of
// 403s). HTTPS publish: `POST /topics/<uri-encoded topic>?qos=1`, signed
// with the service's signing name (`iotdata` in the service model; some AWS
// samples use `iotdevicegateway`): the signing name is the Signer's service,
// so it is configurable. A topic `a/b` goes on the wire as `/topics/a%2Fb`
// and its canonical URI is `/topics/a%252Fb` (the default double encoding).
import type { HeaderList } from '../ports.js';
import { SigV4Error } from './errors.js';
import type { Signer } from './signer.js';
import { encodeByteInto } from './uri-encode.js';
import { utf8Bytes, decodeAscii } from '../shared/utf8.js';

export const IOT_GATEWAY_SERVICE = 'iotdevicegateway';
export const IOT_DATA_SERVICE = 'iotdata';
/** MQTT topic names are at most 256 UTF-8 bytes in AWS IoT Core. */
export const MAX_IOT_TOPIC_BYTES = 256;

export interface MqttPresignOptions {
  /** ATS endpoint host, e.g. `abc123-ats.iot.us-east-1.amazonaws.com` (a `:port` is kept in Host). */
  endpoint: string;
  timeMs: number;
  /** X-Amz-Expires (1..604800); absent or 0: none, as aws-crt does. */
  expiresSeconds?: number | undefined;
}

export interface IotPublishOptions {
  endpoint: string;
  topic: string;
  /** 0 or 1 (default 1). */
  qos?: 0 | 1 | undefined;
  body: Uint8Array;
  timeMs: number;
  /** Extra headers to send and sign (e.g. content-type). */
  headers?: HeaderList | undefined;
}

export interface IotPublishRequest {
  method: 'POST';
  /** Wire path with query: `/topics/a%2Fb?qos=1`. */
  path: string;
  /** All headers to send: host, the extra headers, then the signer's. */
  headers: HeaderList;
}

function checkEndpoint(endpoint: unknown): string {
  if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > 253 + 6) {
    throw new SigV4Error('INVALID_REQUEST', 'endpoint must be a host name');
  }
  for (let i = 0; i < endpoint.length; i++) {
    const c = endpoint.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x3a;
    if (!ok) throw new SigV4Error('INVALID_REQUEST', 'endpoint has a character outside [A-Za-z0-9.:-]');
  }
  return endpoint;
}

/** `wss://<endpoint>/mqtt?X-Amz-...&X-Amz-Signature=...[&X-Amz-Security-Token=...]` (allocates the string). */
export function presignMqttUrl(signer: Signer, options: MqttPresignOptions): string {
  const endpoint = checkEndpoint(options.endpoint);
  const out = signer.presign({
    method: 'GET',
    path: '/mqtt',
    headers: [['host', endpoint]],
    timeMs: options.timeMs,
    expiresSeconds: options.expiresSeconds,
    omitSessionToken: true,
    sessionTokenLast: true,
  });
  return `wss://${endpoint}${out.pathAndQuery()}`;
}

/** RFC 3986 encoding of every byte of the topic except unreserved ones (`/` too). */
export function encodeTopic(topic: string): string {
  if (typeof topic !== 'string' || topic.length === 0) throw new SigV4Error('INVALID_REQUEST', 'topic must be a non-empty string');
  let bytes: Uint8Array;
  try {
    bytes = utf8Bytes(topic);
  } catch {
    throw new SigV4Error('INVALID_UTF16', 'topic contains a lone surrogate');
  }
  if (bytes.length > MAX_IOT_TOPIC_BYTES) throw new SigV4Error('LIMIT_EXCEEDED', 'topic exceeds MAX_IOT_TOPIC_BYTES', 'MAX_IOT_TOPIC_BYTES');
  const out = new Uint8Array(bytes.length * 3);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) o = encodeByteInto(bytes[i]!, false, out, o);
  return decodeAscii(out, 0, o);
}

/** Signs an HTTPS publish; returns what to send (allocates the strings and the list). */
export function signIotPublish(signer: Signer, options: IotPublishOptions): IotPublishRequest {
  const endpoint = checkEndpoint(options.endpoint);
  const qos = options.qos ?? 1;
  if (qos !== 0 && qos !== 1) throw new SigV4Error('INVALID_REQUEST', 'qos must be 0 or 1');
  const path = `/topics/${encodeTopic(options.topic)}?qos=${qos}`;
  const headers: HeaderList = [['host', endpoint]];
  if (options.headers !== undefined) for (const h of options.headers) headers.push(h);
  const out = signer.sign({ method: 'POST', path, headers, body: options.body, timeMs: options.timeMs });
  for (const h of out.headers()) headers.push(h);
  return { method: 'POST', path, headers };
}
