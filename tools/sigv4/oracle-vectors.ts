// Reads a shared vector case folder (aws-c-auth layout: request.txt +
// context.json + expected files) into peer-oracle requests, for proving that
// the oracles themselves reproduce the vectors before they judge our signer.
//
// This is a second, deliberately separate reading of the vector format (the
// signer's own is tools/sigv4/case-parse.ts): the oracles must not share a
// parser with the code they check.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OracleRequest, SigningMode } from './oracle-request.js';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** `<repo>/../shared/vectors/sigv4`, from dist/tools/sigv4 or tools/sigv4. */
export function vectorsRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [['..', '..', '..'], ['..', '..']]) {
    const candidate = join(here, ...up, '..', 'shared', 'vectors', 'sigv4');
    if (existsSync(join(candidate, 'README.md'))) return candidate;
  }
  throw new Error(`shared SigV4 vectors not found above ${here}`);
}

export interface VectorExpectation {
  signature: string;
  canonicalRequest: string | null;
  stringToSign: string | null;
  /** header-signed-request.txt / query-signed-request.txt, when present. */
  signedRequest: string | null;
  /** s3-examples: header-authorization.txt or query-signed-url.txt. */
  authorization: string | null;
  signedUrl: string | null;
}

export interface VectorCase {
  /** `<set>/<case>`, e.g. `aws-c-auth-v4/get-vanilla`. */
  name: string;
  dir: string;
  /** request.txt as it is. */
  requestText: string;
  /** The request for each mode the folder has expected files for. */
  requests: Partial<Record<SigningMode, OracleRequest>>;
  expected: Partial<Record<SigningMode, VectorExpectation>>;
}

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  region: string;
  service: string;
  timestamp: string;
  expiration_in_seconds?: number;
  normalize?: boolean;
  double_uri_encode?: boolean;
  sign_body?: boolean;
  payload_hash?: string;
  omit_session_token?: boolean;
}

function readOptional(dir: string, file: string): string | null {
  const p = join(dir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

/** Splits request.txt: request line, `Name:value` headers (indented lines continue a value), blank line, body. */
export function parseRequestText(text: string): { method: string; path: string; headers: Array<[string, string]>; body: Uint8Array } {
  const blank = text.indexOf('\n\n');
  const head = blank < 0 ? text.replace(/\n$/, '') : text.slice(0, blank);
  const body = blank < 0 ? '' : text.slice(blank + 2);
  const lines = head.split('\n');
  const requestLine = lines[0]!;
  const firstSpace = requestLine.indexOf(' ');
  const protocol = requestLine.lastIndexOf(' HTTP/');
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // obs-fold: the line break and indentation become one space (RFC 7230 3.2.4).
      headers[headers.length - 1]![1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    headers.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return { method: requestLine.slice(0, firstSpace), path: requestLine.slice(firstSpace + 1, protocol), headers, body: new TextEncoder().encode(body) };
}

export function readVectorCase(set: string, name: string, root = vectorsRoot()): VectorCase {
  const dir = join(root, set, name);
  const context = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8')) as Context;
  const requestText = readFileSync(join(dir, 'request.txt'), 'utf8');
  const parsed = parseRequestText(requestText);
  // The s3-examples requests already carry the headers a signer adds; the
  // peers refuse (aws-crt) or duplicate (botocore) them, so they are removed
  // and the peers add them back (an x-amz-content-sha256 in the request means
  // the payload value is signed as that header).
  const hasContentSha256 = parsed.headers.some(([n]) => n.toLowerCase() === 'x-amz-content-sha256');
  const signBody = context.sign_body === true || hasContentSha256;
  const headers = parsed.headers.filter(([n]) => {
    const lower = n.toLowerCase();
    return lower !== 'x-amz-date' && lower !== 'x-amz-content-sha256';
  });
  // README: "if sign_body is false the payload hash is sha256("")", unless payload_hash says otherwise.
  const payloadHash = context.payload_hash ?? (signBody ? null : EMPTY_SHA256);
  const base: Omit<OracleRequest, 'mode'> = {
    method: parsed.method,
    path: parsed.path,
    headers,
    body: parsed.body,
    accessKeyId: context.credentials.access_key_id,
    secretAccessKey: context.credentials.secret_access_key,
    sessionToken: context.credentials.token ?? null,
    region: context.region,
    service: context.service,
    timeMs: Date.parse(context.timestamp),
    normalize: context.normalize ?? true,
    doubleUriEncode: context.double_uri_encode ?? true,
    signBody,
    payloadHash,
    omitSessionToken: context.omit_session_token === true,
    expirationInSeconds: context.expiration_in_seconds ?? 0,
  };
  const requests: VectorCase['requests'] = {};
  const expected: VectorCase['expected'] = {};
  for (const mode of ['header', 'query'] as const) {
    const signature = readOptional(dir, `${mode}-signature.txt`);
    if (signature === null) continue;
    requests[mode] = { ...base, mode };
    expected[mode] = {
      signature: signature.trim(),
      canonicalRequest: readOptional(dir, `${mode}-canonical-request.txt`),
      stringToSign: readOptional(dir, `${mode}-string-to-sign.txt`),
      signedRequest: readOptional(dir, `${mode}-signed-request.txt`),
      authorization: readOptional(dir, `${mode}-authorization.txt`),
      signedUrl: readOptional(dir, `${mode}-signed-url.txt`),
    };
  }
  return { name: `${set}/${name}`, dir, requestText, requests, expected };
}

/** Every case folder of a vector set (aws-c-auth-v4, s3-examples), sorted. */
export function vectorCaseNames(set: string, root = vectorsRoot()): string[] {
  return readdirSync(join(root, set), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * The vectors' *-signed-request.txt for a signing result: request.txt with the
 * request line's path replaced by the signed path and the signer's headers
 * added after the request's own header lines (kept byte for byte).
 */
export function renderSignedRequest(requestText: string, signedPath: string, added: ReadonlyArray<readonly [string, string]>): string {
  const blank = requestText.indexOf('\n\n');
  const head = blank < 0 ? requestText.replace(/\n$/, '') : requestText.slice(0, blank);
  const body = blank < 0 ? '' : requestText.slice(blank + 2);
  const lines = head.split('\n');
  const requestLine = lines[0]!;
  const method = requestLine.slice(0, requestLine.indexOf(' '));
  let text = `${method} ${signedPath} HTTP/1.1\n`;
  for (const line of lines.slice(1)) text += `${line}\n`;
  for (const [name, value] of added) text += `${name}:${value}\n`;
  return `${text}\n${body}`;
}
