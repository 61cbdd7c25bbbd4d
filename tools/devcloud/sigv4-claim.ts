// Reads what a request claims about its SigV4 signature: from the
// Authorization header (header signing) or from the X-Amz-* query parameters
// (presigned URL, MQTT over WebSocket). Pure parsing; no secret, no time
// check, no verification (sigv4-verifier.ts does those).
import { parseAmzDate } from './amz-date.js';
import { MESSAGES, reject, type Rejection } from './aws-answers.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** Longest X-Amz-Expires AWS accepts (one week). */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604800;

export interface SignatureClaim {
  mode: 'header' | 'query';
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  /** Lower-case names in the order the client listed them. */
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  requestMs: number;
  sessionToken: string | null;
  /** X-Amz-Expires (query mode only), null when absent. */
  expiresSeconds: number | null;
  /** The request path to re-sign: the wire path, minus the auth query parameters in query mode. */
  pathToSign: string;
}

/** Query parameters a presigned URL adds; everything else stays in the path that gets re-signed. */
const QUERY_AUTH_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
]);

const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

function malformed(message: string): Rejection {
  return reject('malformed-auth', message);
}

/** Node's rawHeaders ([name, value, name, value, ...]) -> values of one header, in order. */
export function headerValues(rawHeaders: readonly string[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === lowerName) out.push(rawHeaders[i + 1]!);
  return out;
}

function single(rawHeaders: readonly string[], lowerName: string): string | null | Rejection {
  const v = headerValues(rawHeaders, lowerName);
  if (v.length > 1) return malformed(`Request has more than one '${lowerName}' header.`);
  return v.length === 1 ? v[0]! : null;
}

function isRejection(x: unknown): x is Rejection {
  return typeof x === 'object' && x !== null && 'reason' in x && 'status' in x;
}

interface CredentialParts {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
}

function parseCredential(text: string): CredentialParts | Rejection {
  const parts = text.split('/');
  if (parts.length !== 5 || parts.some((p) => p.length === 0)) {
    return malformed(`Credential should have 5 parts separated by '/' (<key>/<date>/<region>/<service>/aws4_request).`);
  }
  if (parts[4] !== 'aws4_request') return reject('bad-scope', `Credential should be scoped with a valid terminator: 'aws4_request', not '${parts[4]}'.`);
  return { accessKeyId: parts[0]!, scopeDate: parts[1]!, region: parts[2]!, service: parts[3]! };
}

function finish(
  mode: 'header' | 'query',
  cred: CredentialParts,
  signedHeadersText: string,
  signature: string,
  amzDate: string,
  sessionToken: string | null,
  expiresSeconds: number | null,
  pathToSign: string,
): SignatureClaim | Rejection {
  const requestMs = parseAmzDate(amzDate);
  if (requestMs === null) return malformed(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  if (!SIGNATURE_HEX.test(signature)) return reject('signature-mismatch', MESSAGES.signatureMismatch);
  const signedHeaders = signedHeadersText.split(';');
  if (signedHeaders.some((h) => h.length === 0 || h !== h.toLowerCase())) return malformed('SignedHeaders must be lower-case names separated by \';\'.');
  if (!signedHeaders.includes('host')) return malformed("'Host' must be a signed header.");
  return { mode, ...cred, signedHeaders, signature, amzDate, requestMs, sessionToken, expiresSeconds, pathToSign };
}

/** Authorization header signing. */
function parseHeaderAuth(authorization: string, rawHeaders: readonly string[], wirePath: string): SignatureClaim | Rejection {
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) return malformed(`Unsupported Authorization algorithm; expected ${SIGV4_ALGORITHM}.`);
  const fields = new Map<string, string>();
  for (const item of authorization.slice(space + 1).split(',')) {
    const t = item.trim();
    const eq = t.indexOf('=');
    if (eq <= 0) return malformed(`Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.`);
    const k = t.slice(0, eq);
    if (fields.has(k)) return malformed(`Authorization header has a repeated '${k}' parameter.`);
    fields.set(k, t.slice(eq + 1));
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields.has(k));
  if (missing.length > 0) return malformed(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  const amzDate = single(rawHeaders, 'x-amz-date');
  if (isRejection(amzDate)) return amzDate;
  if (amzDate === null) return malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const token = single(rawHeaders, 'x-amz-security-token');
  if (isRejection(token)) return token;
  const cred = parseCredential(fields.get('Credential')!);
  if (isRejection(cred)) return cred;
  return finish('header', cred, fields.get('SignedHeaders')!, fields.get('Signature')!, amzDate.trim(), token, null, wirePath);
}

/** Presigned URL (X-Amz-* in the query). */
function parseQueryAuth(wirePath: string): SignatureClaim | Rejection {
  const q = wirePath.indexOf('?');
  const path = q < 0 ? wirePath : wirePath.slice(0, q);
  const kept: string[] = [];
  const auth = new Map<string, string>();
  if (q >= 0) {
    for (const item of wirePath.slice(q + 1).split('&')) {
      if (item.length === 0) continue;
      const eq = item.indexOf('=');
      const rawKey = eq < 0 ? item : item.slice(0, eq);
      let key: string;
      let value: string;
      try {
        key = decodeURIComponent(rawKey);
        value = eq < 0 ? '' : decodeURIComponent(item.slice(eq + 1));
      } catch {
        return malformed('Query string has an invalid percent-encoding.');
      }
      if (!QUERY_AUTH_PARAMS.has(key)) {
        kept.push(item);
        continue;
      }
      if (auth.has(key)) return malformed(`Query string has a repeated '${key}' parameter.`);
      auth.set(key, value);
    }
  }
  const missing = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].filter((k) => !auth.has(k));
  if (missing.length > 0) return malformed(missing.map((k) => `AWS query-string parameters must include '${k}'.`).join(' '));
  if (auth.get('X-Amz-Algorithm') !== SIGV4_ALGORITHM) return malformed(`X-Amz-Algorithm only supports '${SIGV4_ALGORITHM}'.`);
  let expires: number | null = null;
  if (auth.has('X-Amz-Expires')) {
    const text = auth.get('X-Amz-Expires')!;
    expires = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
    if (!(expires >= 1 && expires <= MAX_PRESIGN_EXPIRES_SECONDS)) {
      return malformed(`X-Amz-Expires must be an integer number of seconds in [1, ${MAX_PRESIGN_EXPIRES_SECONDS}].`);
    }
  }
  const cred = parseCredential(auth.get('X-Amz-Credential')!);
  if (isRejection(cred)) return cred;
  const pathToSign = kept.length > 0 ? `${path}?${kept.join('&')}` : path;
  return finish(
    'query',
    cred,
    auth.get('X-Amz-SignedHeaders')!,
    auth.get('X-Amz-Signature')!,
    auth.get('X-Amz-Date')!,
    auth.get('X-Amz-Security-Token') ?? null,
    expires,
    pathToSign,
  );
}

/**
 * The signature claim of a request, or why there is none. A request with both
 * an Authorization header and X-Amz-Signature in the query is refused: AWS
 * accepts one authentication mechanism per request.
 */
export function parseSignatureClaim(wirePath: string, rawHeaders: readonly string[]): SignatureClaim | Rejection {
  const authorization = single(rawHeaders, 'authorization');
  if (isRejection(authorization)) return authorization;
  const hasQuerySignature = /[?&]X-Amz-Signature=/.test(wirePath);
  if (authorization !== null && hasQuerySignature) return malformed('Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.');
  if (authorization !== null) return parseHeaderAuth(authorization, rawHeaders, wirePath);
  if (hasQuerySignature || /[?&]X-Amz-Algorithm=/.test(wirePath)) return parseQueryAuth(wirePath);
  return reject('missing-auth', MESSAGES.missingAuth);
}

export { isRejection };
