// Seeded generator of VALID signing requests for the differential tests
// (test/sigv4-differential.test.ts, test/sigv4-botocore.test.ts). Invalid
// input is the fuzz test's business (tools/sigv4/fuzz-inputs.ts).
//
// "Valid" means a request a device could really send and every correct
// signer must accept:
// - header names are RFC 7230 tokens, values have no CR/LF/control bytes;
// - paths and queries contain no `#`, and every `%` starts a well-formed escape;
// - without double encoding (S3), the path is already in its wire-encoded
//   form (unreserved, sub-delims, `:`, `@`, `/` and %XX only), since that
//   path is signed as is;
// - no header or query parameter that the signer adds itself (Authorization,
//   X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256, X-Amz-*);
// - no header that aws-c-auth refuses to sign by policy (SKIPPED_BY_CRT).
// Everything else is fair game: unicode and reserved characters, dot
// segments, empty segments, duplicate headers and query keys in any case,
// tabs and runs of whitespace, empty values, S3 mode, header and query
// signing, session tokens (signed or omitted), X-Amz-Expires or not, signed
// body or not, precomputed and UNSIGNED-PAYLOAD payload hashes, many
// methods, services, regions and signing times.
import { Prng } from './prng.js';
import type { OracleRequest } from './oracle-request.js';

/**
 * Headers aws-c-auth never signs (its `s_skipped_headers`, measured with
 * aws-crt): SDK policy because proxies rewrite them, not part of SigV4
 * canonicalisation. Our signer signs what it is given, so they are not
 * generated.
 */
export const SKIPPED_BY_CRT: readonly string[] = ['user-agent', 'x-amzn-trace-id', 'expect', 'upgrade', 'transfer-encoding', 'sec-websocket-key', 'sec-websocket-protocol', 'sec-websocket-version'];

/** Names the signer itself adds (header mode) or that it refuses (query X-Amz-* parameters). */
export const ADDED_BY_SIGNER: readonly string[] = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

export const METHODS: readonly string[] = ['GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'LIST', 'M-SEARCH'];
export const REGIONS: readonly string[] = ['us-east-1', 'eu-west-3', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1', 'il-central-1'];
export const SERVICES: readonly string[] = ['service', 'iotdevicegateway', 'iotdata', 'execute-api', 'sts', 'dynamodb', 'kinesis'];
const HOSTS: readonly string[] = ['example.amazonaws.com', 'a1b2c3d4e5f6g7-ats.iot.eu-west-3.amazonaws.com', 'examplebucket.s3.amazonaws.com', 'localhost:8443', '127.0.0.1', 'EXAMPLE.amazonaws.com'];

/** Bounds of what the generator produces (kept inside the signer's DEFAULT_LIMITS). */
export const GENERATOR_BOUNDS = Object.freeze({
  maxPathSegments: 6,
  maxQueryPairs: 8,
  maxExtraHeaders: 10,
  maxBodyBytes: 300,
  maxTokenChars: 1200,
  maxExpiresSeconds: 604800,
});

const UTF8 = new TextEncoder();
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const SUB_DELIMS = "!$&'()*+,;=";
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Non-ASCII text, including astral characters (surrogate pairs in UTF-16). */
const UNICODE: readonly string[] = ['é', 'ß', 'ሴ', '日本', '😀', 'Ω', 'ü', '\u00ff', '\u0100', '\u07ff', '\u0800', '\uffff', '\ud800\udc00', '\udbff\udfff'];
const SEGMENT_WORDS: readonly string[] = ['example', 'a', 'B', 'test.txt', 'topics', 'mqtt', 'x_y', '~user', '-', '1'];
const HEADER_NAMES: readonly string[] = ['X-Custom', 'x-custom', 'X-CUSTOM', 'Content-Type', 'content-length', 'Date', 'Accept', 'My-Header1', 'my-header2', 'x-amz-meta-a', 'X-Amz-Meta-A', 'x-amz-storage-class', 'cache-control', 'zzz', 'a', 'Connection', 'x-amzn-iot-thingname'];

function fromAlphabet(rng: Prng, alphabet: string, min: number, max: number): string {
  const n = rng.between(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.below(alphabet.length)];
  return s;
}

function hexEscape(rng: Prng, byte: number): string {
  const hex = byte.toString(16).padStart(2, '0');
  return `%${rng.chance(0.8) ? hex.toUpperCase() : hex}`;
}

/** Percent-encodes every UTF-8 byte of `text` (what a client does to a non-ASCII path). */
function encodeAll(rng: Prng, text: string): string {
  let out = '';
  for (const byte of UTF8.encode(text)) out += hexEscape(rng, byte);
  return out;
}

/** One path segment as a client might write it (raw: may hold any character but `/?#`). */
function pathSegment(rng: Prng): string {
  const parts = rng.between(1, 3);
  let s = '';
  for (let i = 0; i < parts; i++) {
    switch (rng.below(8)) {
      case 0:
      case 1:
        s += rng.pick(SEGMENT_WORDS);
        break;
      case 2:
        s += fromAlphabet(rng, UNRESERVED, 1, 6);
        break;
      case 3:
        s += fromAlphabet(rng, `${SUB_DELIMS}:@`, 1, 3);
        break;
      case 4:
        s += hexEscape(rng, rng.pick([0x2f, 0x20, 0x41, 0x25, 0x2e, 0xe9, 0x3f, 0x23, 0x00, 0x7f, 0xff]));
        break;
      case 5:
        s += rng.pick(UNICODE);
        break;
      case 6:
        s += rng.pick([' ', '  ', '"', '<', '>', '[', ']', '{', '}', '|', '\\', '^', '`']);
        break;
      default:
        s += fromAlphabet(rng, UNRESERVED, 0, 2);
    }
  }
  return s;
}

/**
 * The single encoding every AWS SDK puts on the wire for an S3 key segment:
 * every byte except unreserved percent-encoded, upper-case hex.
 */
export function encodeSegmentOnce(segment: string): string {
  let out = '';
  for (const byte of UTF8.encode(segment)) {
    const c = String.fromCharCode(byte);
    out += UNRESERVED.includes(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A wire path. With `raw` (double-encoding signers) segments go on the wire
 * as written. Without it (S3), the wire path is the SDK's single encoding of
 * the segments: that is the path every S3 client sends, and the only one on
 * which signers agree. For a path that is NOT in that form (raw `=`, `@`,
 * `(`, lower-case hex), aws-crt and botocore sign the bytes as they are,
 * while our signer encodes raw reserved bytes once and upper-cases escapes;
 * S3 itself canonicalises such paths by encoding (SignatureDoesNotMatch
 * reports for raw `=`, `@`, `(`, `)`, `*` in keys: grafana/k6-jslib-aws#78,
 * soto-project/soto#601, mondain/jets3t#17). test/sigv4-differential.test.ts
 * checks that rule separately.
 */
function path(rng: Prng, raw: boolean): string {
  const count = rng.below(GENERATOR_BOUNDS.maxPathSegments + 1);
  let p = '';
  for (let i = 0; i < count; i++) {
    const kind = rng.below(10);
    if (kind === 0) p += '/.';
    else if (kind === 1) p += '/..';
    else if (kind === 2) p += '/';
    else {
      const segment = pathSegment(rng);
      p += `/${raw ? segment : encodeSegmentOnce(segment)}`;
    }
  }
  if (p === '' || rng.chance(0.2)) p += '/';
  return p;
}

/** A query key or value as it appears on the wire. */
function queryText(rng: Prng, allowEmpty: boolean): string {
  const parts = rng.between(allowEmpty ? 0 : 1, 3);
  let s = '';
  for (let i = 0; i < parts; i++) {
    switch (rng.below(9)) {
      case 0:
      case 1:
        s += fromAlphabet(rng, UNRESERVED, 1, 8);
        break;
      case 2:
        s += hexEscape(rng, rng.pick([0x26, 0x3d, 0x2b, 0x20, 0x2f, 0x25, 0x23, 0x3f, 0x7e, 0x41, 0xc3, 0xa9, 0x00]));
        break;
      case 3:
        s += '+';
        break;
      case 4:
        s += rng.chance(0.5) ? rng.pick(UNICODE) : encodeAll(rng, rng.pick(UNICODE));
        break;
      case 5:
        s += fromAlphabet(rng, "!$'()*,;:@/?", 1, 2);
        break;
      case 6:
        s += rng.pick(['Param1', 'param1', 'PARAM1', 'a', 'A', 'b', 'foo', 'foo bar'.replace(' ', '%20')]);
        break;
      case 7:
        s += rng.pick([' ', '"', '|', '^', '`', '[', ']', '{', '}']);
        break;
      default:
        s += fromAlphabet(rng, '0123456789', 1, 3);
    }
  }
  return s;
}

function isReservedQueryKey(wireKey: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(wireKey);
  } catch {
    decoded = wireKey;
  }
  return /^x-amz-/i.test(decoded) || /^x-amz-/i.test(wireKey);
}

function query(rng: Prng): string {
  const count = rng.below(GENERATOR_BOUNDS.maxQueryPairs + 1);
  const pairs: string[] = [];
  for (let i = 0; i < count; i++) {
    // Repeat an earlier key (same or different value) now and then.
    let key = pairs.length > 0 && rng.chance(0.2) ? pairs[rng.below(pairs.length)]!.split('=')[0]! : queryText(rng, false);
    if (isReservedQueryKey(key)) key = `k${i}`;
    const form = rng.below(6);
    if (form === 0) pairs.push(key);
    else if (form === 1) pairs.push(`${key}=`);
    else pairs.push(`${key}=${queryText(rng, true)}`);
  }
  return pairs.join('&');
}

function headerName(rng: Prng): string {
  for (;;) {
    const name = rng.chance(0.6) ? rng.pick(HEADER_NAMES) : fromAlphabet(rng, TOKEN_CHARS, 1, 12);
    const lower = name.toLowerCase();
    if (lower === 'host' || SKIPPED_BY_CRT.includes(lower) || ADDED_BY_SIGNER.includes(lower)) continue;
    return name;
  }
}

/** A header value: visible ASCII, unicode, and SP/HTAB runs anywhere (incl. leading/trailing). */
function headerValue(rng: Prng): string {
  const parts = rng.below(6);
  let s = '';
  for (let i = 0; i < parts; i++) {
    switch (rng.below(7)) {
      case 0:
        s += rng.pick([' ', '  ', '\t', ' \t ', '   ']);
        break;
      case 1:
        // Unicode, including whitespace that is not HTTP whitespace (only SP and HTAB are).
        s += rng.chance(0.95) ? rng.pick(UNICODE) : rng.pick(['\u00a0', '\u2003', '\u3000', '\u0085', '\u2028']);
        break;
      case 2:
        s += fromAlphabet(rng, '"(),/:;<=>?@[\\]{}', 1, 2);
        break;
      default:
        s += fromAlphabet(rng, `${UNRESERVED}${SUB_DELIMS}`, 1, 10);
    }
  }
  return s;
}

function token(rng: Prng): string {
  const base = fromAlphabet(rng, BASE64, 16, GENERATOR_BOUNDS.maxTokenChars);
  // Real tokens are base64; a few carry non-ASCII (2-, 3- and 4-byte UTF-8) to exercise the
  // signer's UTF-8 path for a token kept as the caller's string.
  const unicode = rng.chance(0.05) ? rng.pick(['\u00e9', '\u20ac', '\ud83d\ude00']) : '';
  return base + unicode + rng.pick(['', '=', '==']);
}

/** Whole seconds, mostly in recent years, sometimes at calendar edges. */
function signingTime(rng: Prng): number {
  const edges = ['1970-01-01T00:00:00Z', '2000-02-29T23:59:59Z', '2015-08-30T12:36:00Z', '2038-01-19T03:14:08Z', '2100-03-01T00:00:00Z', '2400-02-29T12:00:00Z', '9999-12-31T23:59:59Z'];
  if (rng.chance(0.1)) return Date.parse(rng.pick(edges));
  const lo = Date.UTC(2010, 0, 1) / 1000;
  const hi = Date.UTC(2040, 0, 1) / 1000;
  return (lo + rng.below(hi - lo)) * 1000;
}

export interface GenerateOptions {
  /** Probability of S3 style signing (no normalisation, no double encoding). */
  s3Share?: number;
  /** Put S3 (single-encoding) paths on the wire as written, not in their SDK encoding. */
  rawS3Paths?: boolean;
}

/** One valid request. The same PRNG state always yields the same request. */
export function generateRequest(rng: Prng, options: GenerateOptions = {}): OracleRequest {
  const s3 = rng.chance(options.s3Share ?? 0.25);
  // Outside S3 the two flags are independent of each other.
  const doubleUriEncode = s3 ? false : rng.chance(0.9);
  const normalize = s3 ? false : rng.chance(0.85);
  const mode = rng.chance(0.5) ? 'header' : 'query';
  const q = rng.chance(0.6) ? query(rng) : '';
  const wirePath = path(rng, doubleUriEncode || options.rawS3Paths === true) + (q !== '' || rng.chance(0.03) ? `?${q}` : '');

  const headers: Array<[string, string]> = [];
  const hostFirst = rng.chance(0.7);
  const host: [string, string] = [rng.chance(0.8) ? 'Host' : 'host', rng.pick(HOSTS)];
  if (hostFirst) headers.push(host);
  const extra = rng.below(GENERATOR_BOUNDS.maxExtraHeaders + 1);
  for (let i = 0; i < extra; i++) {
    // Repeat an earlier name (perhaps in another case) now and then.
    const name = headers.length > 1 && rng.chance(0.25) ? headers[1 + rng.below(headers.length - 1)]![0] : headerName(rng);
    const repeated = rng.chance(0.3) ? name.toUpperCase() : name;
    if (repeated.toLowerCase() === 'host') continue;
    headers.push([repeated, headerValue(rng)]);
  }
  if (!hostFirst) headers.splice(rng.below(headers.length + 1), 0, host);

  const bodyKind = rng.below(4);
  const body = bodyKind === 0 ? rng.bytes(rng.below(GENERATOR_BOUNDS.maxBodyBytes + 1)) : bodyKind === 1 ? UTF8.encode('Param1=value1&Param2=%20x') : new Uint8Array(0);
  const payloadKind = rng.below(8);
  const payloadHash =
    payloadKind === 0 ? 'UNSIGNED-PAYLOAD' : payloadKind === 1 ? Array.from(rng.bytes(32), (b) => b.toString(16).padStart(2, '0')).join('') : payloadKind === 2 && s3 ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' : null;
  const sessionToken = rng.chance(0.4) ? token(rng) : null;

  return {
    method: rng.pick(METHODS),
    path: wirePath,
    headers,
    body,
    accessKeyId: fromAlphabet(rng, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 20),
    secretAccessKey: fromAlphabet(rng, BASE64, 40, 40),
    sessionToken,
    region: rng.pick(REGIONS),
    service: s3 ? 's3' : rng.pick(SERVICES),
    timeMs: signingTime(rng),
    mode,
    normalize,
    doubleUriEncode,
    signBody: rng.chance(0.4),
    payloadHash,
    omitSessionToken: sessionToken !== null && rng.chance(0.3),
    expirationInSeconds: mode === 'query' && rng.chance(0.8) ? rng.between(1, GENERATOR_BOUNDS.maxExpiresSeconds) : 0,
  };
}

/**
 * Why aws-crt cannot sign `r`, or null when it can. aws-c-common parses the
 * request target as a URI and refuses any `:/` in it (it takes it for a
 * scheme separator; measured: `/x:/y`, `/?a=x:/` are refused, `/x:y`,
 * `/?a=:x/` are not). RFC 3986 allows `:` and `/` in both path and query, so
 * such a request is valid and our signer must sign it; aws-crt just cannot
 * be the judge of it (botocore is, see test/sigv4-botocore.test.ts).
 */
export function crtExclusion(r: OracleRequest): string | null {
  return r.path.includes(':/') ? "aws-c-common's URI parser refuses ':/' in a request target" : null;
}

/**
 * Why botocore cannot be asked to sign `r` the AWS way, or null when it can.
 * Each reason is a documented botocore behaviour (tools/sigv4/oracle-botocore.py),
 * checked against the vectors and aws-crt; these classes are excluded from the
 * botocore comparison, not worked around.
 */
export function botocoreExclusion(r: OracleRequest): string | null {
  for (const [name, value] of r.headers) {
    if (name.toLowerCase() === 'date') return 'a Date header replaces X-Amz-Date in botocore';
    if (/[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u001c-\u001f\u000b\u000c]/.test(value)) return 'botocore collapses Unicode whitespace in header values';
  }
  if (r.mode === 'query') {
    if (r.body.length > 0) return 'botocore presigning moves the body into the query';
    if (r.expirationInSeconds === 0) return 'botocore presigning always adds X-Amz-Expires';
  }
  const q = r.path.indexOf('?');
  if (q >= 0) {
    const keys: string[] = [];
    for (const part of r.path.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      const key = utf8OrNull(eq < 0 ? part : part.slice(0, eq));
      const value = utf8OrNull(eq < 0 ? '' : part.slice(eq + 1));
      if (key === null || value === null) return 'botocore handles query parameters as text, not bytes (an escape decodes to invalid UTF-8)';
      keys.push(key);
    }
    if (r.mode === 'query' && new Set(keys).size !== keys.length) return 'botocore presigning keeps one value per query key';
  }
  return null;
}

/** Percent-decodes `wire` to bytes and returns them as text, or null if they are not UTF-8. */
function utf8OrNull(wire: string): string | null {
  const bytes: number[] = [];
  const raw = UTF8.encode(wire);
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && i + 2 < raw.length + 0 && /^[0-9a-fA-F]{2}$/.test(String.fromCharCode(raw[i + 1]!, raw[i + 2]!))) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16));
      i += 2;
    } else bytes.push(raw[i]!);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}
