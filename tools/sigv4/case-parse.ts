// Parses SigV4 vector cases (pure and portable: runs on Node and XS).
//
// Input is raw file text (the Node side reads the files, see case.ts):
// aws-c-auth layout (request.txt + context.json, also used by s3-examples)
// or botocore's aws4_testsuite layout (.req/.creq/.sts/.authz/.sreq).
// Output is a plain SigningCase; signCase() signs it with a debug Signer and
// returns what the vector files contain.
import type { HeaderList } from '../../src/ports.js';
import { Signer, type SignerLimits, type SignedOutput, isSha256Hex, utf8Bytes } from '../../src/sigv4/index.js';

export interface CaseFiles {
  /** request.txt (aws-c-auth / S3) or the .req (botocore). */
  request: string;
  /** context.json (aws-c-auth / S3). Absent for botocore cases. */
  context?: string;
}

export interface SigningCase {
  name: string;
  method: string;
  /** Wire path and query as in the request line. */
  path: string;
  /** HTTP version token of the request line. */
  version: string;
  /** Request headers in order (folded values keep their `\n` + indentation), minus the ones the signer adds. */
  headers: HeaderList;
  /** Request headers exactly as in the file (for rendering signed requests). */
  originalHeaders: HeaderList;
  body: string;
  /** Precomputed payload hash literal (UNSIGNED-PAYLOAD, STREAMING-*), or null: hash the body. */
  payloadHash: string | null;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | null;
  region: string;
  service: string;
  timeMs: number;
  normalizePath: boolean;
  doubleEncodePath: boolean;
  signBody: boolean;
  omitSessionToken: boolean;
  /** X-Amz-Expires for the query variant (0: none). */
  expiresSeconds: number;
}

export interface SignedCase {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  /** The request as sent, in the aws-c-auth `*-signed-request.txt` layout. */
  signedRequest: string;
}

export class CaseError extends Error {
  override name = 'CaseError';
  readonly code = 'INVALID_CASE';
}

/** Credentials, scope and flags of AWS's published aws4_testsuite (botocore's copy has no context file). */
export const AWS4_TESTSUITE_CONTEXT = Object.freeze({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
});

interface ParsedRequest {
  method: string;
  path: string;
  version: string;
  headers: HeaderList;
  body: string;
}

/** Splits a raw HTTP/1.1 request: request line, headers (folded lines kept as `\n` + line), blank line, body. */
export function parseRequestText(text: string): ParsedRequest {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const first = lines[0] ?? '';
  const sp1 = first.indexOf(' ');
  const sp2 = first.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1) throw new CaseError('request line must be METHOD SP target SP version');
  const headers: HeaderList = [];
  let i = 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) {
      const last = headers[headers.length - 1];
      if (last === undefined) throw new CaseError('continuation line before any header');
      last[1] = `${last[1]}\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CaseError(`header line without name: line ${i + 1}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  const body = i < lines.length ? lines.slice(i + 1).join('\n') : '';
  return { method: first.slice(0, sp1), path: first.slice(sp1 + 1, sp2), version: first.slice(sp2 + 1), headers, body };
}

/** `2015-08-30T12:36:00Z` -> epoch ms. */
export function parseIsoTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(text);
  if (m === null) throw new CaseError(`timestamp must be YYYY-MM-DDTHH:MM:SSZ, got ${text}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** `20150830T123600Z` -> epoch ms. */
export function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text.trim());
  if (m === null) throw new CaseError(`X-Amz-Date must be YYYYMMDDTHHMMSSZ`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function headerValue(headers: HeaderList, lowerName: string): string | null {
  for (const [n, v] of headers) if (n.toLowerCase() === lowerName) return v.trim();
  return null;
}

function without(headers: HeaderList, lowerName: string): HeaderList {
  return headers.filter(([n]) => n.toLowerCase() !== lowerName);
}

function bool(value: unknown, fallback: boolean, what: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new CaseError(`${what} must be a boolean`);
  return value;
}

/**
 * aws-c-auth / s3-examples case. Headers the signer adds are taken out of the
 * request: `x-amz-date` (must equal the context's timestamp) and
 * `x-amz-content-sha256` (its presence means sign_body; a hex value must be
 * the body's hash, which the signer recomputes; a literal such as
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD becomes the payload hash).
 */
export function parseCase(files: CaseFiles, name = ''): SigningCase {
  if (typeof files.context !== 'string') throw new CaseError('context.json is required (use parseBotocoreCase for .req cases)');
  let ctx: Record<string, unknown>;
  try {
    ctx = JSON.parse(files.context) as Record<string, unknown>;
  } catch {
    throw new CaseError('context.json is not JSON');
  }
  const creds = (ctx.credentials ?? {}) as Record<string, unknown>;
  if (typeof creds.access_key_id !== 'string' || typeof creds.secret_access_key !== 'string') throw new CaseError('credentials missing');
  if (typeof ctx.region !== 'string' || typeof ctx.service !== 'string' || typeof ctx.timestamp !== 'string') throw new CaseError('region/service/timestamp missing');
  const req = parseRequestText(files.request);
  const timeMs = parseIsoTime(ctx.timestamp);
  let headers = req.headers;
  const amzDate = headerValue(headers, 'x-amz-date');
  if (amzDate !== null) {
    if (parseAmzDate(amzDate) !== timeMs) throw new CaseError('x-amz-date header disagrees with the timestamp');
    headers = without(headers, 'x-amz-date');
  }
  let signBody = bool(ctx.sign_body, false, 'sign_body');
  let payloadHash: string | null = null;
  const contentSha = headerValue(headers, 'x-amz-content-sha256');
  if (contentSha !== null) {
    signBody = true;
    headers = without(headers, 'x-amz-content-sha256');
    if (!isSha256Hex(contentSha)) payloadHash = contentSha;
  }
  if (typeof ctx.payload_hash === 'string' && !isSha256Hex(ctx.payload_hash)) {
    if (payloadHash !== null && payloadHash !== ctx.payload_hash) throw new CaseError('payload_hash disagrees with x-amz-content-sha256');
    payloadHash = ctx.payload_hash;
  }
  const expires = ctx.expiration_in_seconds;
  return {
    name,
    method: req.method,
    path: req.path,
    version: req.version,
    headers,
    originalHeaders: req.headers,
    body: req.body,
    payloadHash,
    accessKeyId: creds.access_key_id,
    secretAccessKey: creds.secret_access_key,
    sessionToken: typeof creds.token === 'string' ? creds.token : null,
    region: ctx.region,
    service: ctx.service,
    timeMs,
    normalizePath: bool(ctx.normalize, true, 'normalize'),
    doubleEncodePath: bool(ctx.double_uri_encode, true, 'double_uri_encode'),
    signBody,
    omitSessionToken: bool(ctx.omit_session_token, false, 'omit_session_token'),
    expiresSeconds: typeof expires === 'number' ? expires : 0,
  };
}

export interface BotocoreFiles {
  req: string;
  creq: string;
  sreq: string;
}

/**
 * botocore aws4_testsuite case: AWS4_TESTSUITE_CONTEXT, time from the
 * request's X-Amz-Date, paths normalised, body hashed but no
 * x-amz-content-sha256. A session token is a credential when the signed
 * request carries X-Amz-Security-Token that the request did not (it is then
 * omitted from signing exactly when the expected canonical request lacks it,
 * as in post-sts-header-after); a token header already in the request (post-
 * sts-header-before) is an ordinary signed header.
 */
export function parseBotocoreCase(files: BotocoreFiles, name = ''): SigningCase {
  const req = parseRequestText(files.req);
  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (amzDate === null) throw new CaseError('botocore request has no X-Amz-Date');
  const signed = parseRequestText(files.sreq);
  const tokenInRequest = headerValue(req.headers, 'x-amz-security-token');
  const tokenInSigned = headerValue(signed.headers, 'x-amz-security-token');
  const sessionToken = tokenInRequest === null ? tokenInSigned : null;
  return {
    name,
    method: req.method,
    path: req.path,
    version: req.version,
    headers: without(req.headers, 'x-amz-date'),
    originalHeaders: req.headers,
    body: req.body,
    payloadHash: null,
    accessKeyId: AWS4_TESTSUITE_CONTEXT.accessKeyId,
    secretAccessKey: AWS4_TESTSUITE_CONTEXT.secretAccessKey,
    sessionToken,
    region: AWS4_TESTSUITE_CONTEXT.region,
    service: AWS4_TESTSUITE_CONTEXT.service,
    timeMs: parseAmzDate(amzDate),
    normalizePath: true,
    doubleEncodePath: true,
    signBody: false,
    omitSessionToken: sessionToken !== null && files.creq.indexOf('\nx-amz-security-token:') < 0,
    expiresSeconds: 0,
  };
}

/** A debug Signer for cases (signCase sets its credentials per case). */
export function caseSigner(limits?: Partial<SignerLimits>): Signer {
  return new Signer({
    credentials: { accessKeyId: AWS4_TESTSUITE_CONTEXT.accessKeyId, secretAccessKey: AWS4_TESTSUITE_CONTEXT.secretAccessKey },
    region: AWS4_TESTSUITE_CONTEXT.region,
    service: AWS4_TESTSUITE_CONTEXT.service,
    debug: true,
    limits,
  });
}

function renderHeaders(headers: HeaderList): string {
  let s = '';
  for (const [n, v] of headers) s += `${n}:${v}\n`;
  return s;
}

/**
 * Signs a case with `signer` (must be built with debug: true; its
 * credentials, region and service are replaced by the case's).
 */
export function signCase(signer: Signer, c: SigningCase, mode: 'header' | 'query'): SignedCase {
  signer.setCredentials(
    { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken ?? undefined },
    c.region,
    c.service,
  );
  const request = {
    method: c.method,
    path: c.path,
    headers: c.headers,
    timeMs: c.timeMs,
    normalizePath: c.normalizePath,
    doubleEncodePath: c.doubleEncodePath,
    signBody: c.signBody,
    omitSessionToken: c.omitSessionToken,
    ...(c.payloadHash !== null ? { payloadHash: c.payloadHash } : { body: utf8Bytes(c.body) }),
  };
  let out: SignedOutput;
  let signedRequest: string;
  if (mode === 'header') {
    out = signer.sign(request);
    signedRequest = `${c.method} ${c.path} ${c.version}\n${renderHeaders(c.headers)}${renderHeaders(out.headers())}\n${c.body}`;
  } else {
    out = signer.presign({ ...request, expiresSeconds: c.expiresSeconds });
    signedRequest = `${c.method} ${out.pathAndQuery()} ${c.version}\n${renderHeaders(c.headers)}\n${c.body}`;
  }
  return {
    canonicalRequest: signer.debugCanonicalRequest,
    stringToSign: signer.debugStringToSign,
    signature: out.signature(),
    signedRequest,
  };
}
