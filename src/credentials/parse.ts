// Parses the AWS IoT credentials provider's answer:
//   {"credentials":{"accessKeyId":"ASIA...","secretAccessKey":"...",
//                   "sessionToken":"...","expiration":"2026-11-22T15:00:00Z"}}
// Strict: every field present, a string, within its bound; the expiration an
// ISO 8601 UTC timestamp. Errors never quote the body.
import { CredentialsError } from './errors.js';
import type { AwsCredentials } from '../shared/contracts.js';
import { MAX_SESSION_TOKEN_CHARS } from '../shared/aws-limits.js';
import { decodeUtf8 } from '../shared/utf8.js';

/** Bounds on what we accept (AWS: key id 16..128, tokens ~1 KB today). */
export const MAX_RESPONSE_BYTES = 8192;
export const MAX_ACCESS_KEY_ID_CHARS = 128;
export const MAX_SECRET_KEY_CHARS = 128;
export { MAX_SESSION_TOKEN_CHARS };

/** Credentials that keep their secret and token out of JSON.stringify, String() and logs. */
export class TemporaryCredentials implements AwsCredentials {
  readonly accessKeyId: string;
  readonly expirationMs: number;
  #secret: string;
  #token: string;
  constructor(accessKeyId: string, secretAccessKey: string, sessionToken: string, expirationMs: number) {
    this.accessKeyId = accessKeyId;
    this.#secret = secretAccessKey;
    this.#token = sessionToken;
    this.expirationMs = expirationMs;
  }
  get secretAccessKey(): string {
    return this.#secret;
  }
  get sessionToken(): string {
    return this.#token;
  }
  /** Overwrites the references (JS strings cannot be zeroed; the signer wipes its own copies). */
  wipe(): void {
    this.#secret = '';
    this.#token = '';
  }
  toJSON(): object {
    return { accessKeyId: this.accessKeyId, expirationMs: this.expirationMs, secretAccessKey: '[redacted]', sessionToken: '[redacted]' };
  }
  toString(): string {
    return `TemporaryCredentials(${this.accessKeyId}, expires ${this.expirationMs})`;
  }
}

function bad(why: string): never {
  throw new CredentialsError('malformed-response', why);
}

function field(obj: Record<string, unknown>, name: string, max: number, pattern: (c: number) => boolean): string {
  const v = obj[name];
  if (typeof v !== 'string') bad(`${name} missing or not a string`);
  if (v.length === 0 || v.length > max) bad(`${name} length out of range`);
  for (let i = 0; i < v.length; i++) if (!pattern(v.charCodeAt(i))) bad(`${name} has an unexpected character`);
  return v;
}

const upperAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
const printable = (c: number): boolean => c > 0x20 && c < 0x7f;

function digitsAt(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i);
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** `YYYY-MM-DDTHH:MM:SS[.fff...]Z` to epoch ms (fraction truncated), or NaN. */
export function parseIsoUtc(s: string): number {
  if (s.length < 20 || s.length > 40) return NaN;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':' || s[s.length - 1] !== 'Z') return NaN;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const se = digitsAt(s, 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 || h < 0 || mi < 0 || se < 0) return NaN;
  const dim = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  if (d > dim) return NaN;
  let ms = 0;
  if (s.length > 20) {
    if (s[19] !== '.' || s.length < 22) return NaN;
    const frac = s.slice(20, s.length - 1);
    if (digitsAt(frac, 0, frac.length) < 0) return NaN;
    ms = digitsAt((frac + '00').slice(0, 3), 0, 3);
  } else if (s.length !== 20) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, se, ms);
}

export function parseCredentialsResponse(body: Uint8Array): TemporaryCredentials {
  if (body.length > MAX_RESPONSE_BYTES) throw new CredentialsError('response-too-large', `body above ${MAX_RESPONSE_BYTES} bytes`);
  const text = decodeUtf8(body, 0, body.length, 'refuse');
  if (text === null) bad('body is not UTF-8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    bad('body is not JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) bad('body is not an object');
  const c = (doc as Record<string, unknown>).credentials;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) bad('credentials missing');
  const obj = c as Record<string, unknown>;
  const accessKeyId = field(obj, 'accessKeyId', MAX_ACCESS_KEY_ID_CHARS, upperAlnum);
  if (accessKeyId.length < 16) bad('accessKeyId length out of range');
  const secret = field(obj, 'secretAccessKey', MAX_SECRET_KEY_CHARS, printable);
  const token = field(obj, 'sessionToken', MAX_SESSION_TOKEN_CHARS, printable);
  const expiration = field(obj, 'expiration', 40, printable);
  const expirationMs = parseIsoUtc(expiration);
  if (!Number.isFinite(expirationMs)) bad('expiration is not an ISO 8601 UTC time');
  return new TemporaryCredentials(accessKeyId, secret, token, expirationMs);
}
