// Credentials held by a Signer: access key id, scope (region, service),
// optional session token, and the signing-key cache (secret or derived key).
//
// set() validates everything before changing anything, so a bad credential
// leaves the previous ones in force.
//
// Memory: one fixed buffer holds `accessKeyId/YYYYMMDD/region/service/aws4_request`
// (the credential, sized by the MAX_* constants): the access key id is
// right-aligned before a scope at a fixed offset, so region and service live
// there and nowhere else, and a new signing date rewrites 8 bytes in place.
// The session token is the caller's string, referenced, not copied: the
// device already holds it once (in the credentials it was given), and a
// token is up to a few KB. Only its percent-encoding may be cached
// (maxEncodedTokenBytes, for presigned URLs).
import { asciiInto } from './copy.js';
import { SigV4Error, limitExceeded } from './errors.js';
import type { HmacSha256 } from './hmac.js';
import { MAX_ACCESS_KEY_ID_BYTES, MAX_REGION_BYTES, MAX_SECRET_KEY_BYTES, MAX_SERVICE_BYTES } from './limits.js';
import { DATE_BYTES, SigningKeyCache } from './signing-key.js';
import { utf8Length, UTF8_LONE_SURROGATE } from '../shared/utf8.js';
import { MAX_SCOPE_BYTES } from './seed-state.js';
import { encodedTextSize, encodeTextInto } from './uri-encode.js';

/** Long-term (or STS) credentials: the signer derives and caches signing keys. */
export interface SecretCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Only a derived signing key for one date, region and service (the secret stays off the device). */
export interface DerivedKeyCredentials {
  accessKeyId: string;
  signingKey: Uint8Array;
  /** UTC date the key was derived for, 'YYYYMMDD'. */
  date: string;
  region: string;
  service: string;
  sessionToken?: string | undefined;
}

export type SignerCredentials = SecretCredentials | DerivedKeyCredentials;

/** `accessKeyId/YYYYMMDD/region/service/aws4_request` at its longest. */
export const MAX_CREDENTIAL_BYTES = MAX_ACCESS_KEY_ID_BYTES + 1 + MAX_SCOPE_BYTES;
/** Offset of the scope (`YYYYMMDD/...`) in the credential buffer; the access key id ends just before its `/`. */
export const SCOPE_OFFSET = MAX_ACCESS_KEY_ID_BYTES + 1;
const REGION_OFFSET = SCOPE_OFFSET + DATE_BYTES + 1;
const TERMINATOR = 'aws4_request';

type FieldKind = 'accessKeyId' | 'scope';

/** Checks an ASCII field's length and alphabet; returns its length. */
function checkField(value: unknown, what: string, kind: FieldKind, max: number, limit: string): number {
  if (typeof value !== 'string' || value.length === 0) throw new SigV4Error('INVALID_CREDENTIALS', `${what} must be a non-empty string`);
  if (value.length > max) throw limitExceeded(limit, what);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const digitOrLower = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
    // Access key ids are upper-case alphanumerics in practice; allow [A-Za-z0-9_-]. Region and
    // service names are lower-case letters, digits and '-'. Nothing that needs encoding in a scope.
    const ok = kind === 'accessKeyId' ? digitOrLower || (c >= 0x41 && c <= 0x5a) || c === 0x5f : digitOrLower;
    if (!ok) throw new SigV4Error('INVALID_CREDENTIALS', `${what} has a character outside its allowed set`);
  }
  return value.length;
}

export class CredentialStore {
  readonly keys: SigningKeyCache;
  /** `accessKeyId/YYYYMMDD/region/service/aws4_request` at credential[credentialStart, credentialEnd). */
  readonly credential = new Uint8Array(MAX_CREDENTIAL_BYTES);
  credentialStart = SCOPE_OFFSET;
  credentialEnd = SCOPE_OFFSET;
  /** The scope starts at SCOPE_OFFSET; region and service ranges inside it. */
  readonly scopeStart = SCOPE_OFFSET;
  accessKeyIdLen = 0;
  regionLen = 0;
  serviceLen = 0;
  /** The caller's session token (null: none); never copied. */
  token: string | null = null;
  /** Bytes of the token's RFC 3986 encoding (presigned URLs), computed once per set(). */
  tokenEncodedLen = 0;
  /** The token's RFC 3986 encoding when it fits (maxEncodedTokenBytes), encoded once per set(). */
  readonly encodedToken: Uint8Array;
  encodedTokenCached = false;
  private readonly maxTokenBytes: number;

  constructor(hmac: HmacSha256, maxTokenBytes: number, maxEncodedTokenBytes: number) {
    this.keys = new SigningKeyCache(hmac);
    this.maxTokenBytes = maxTokenBytes;
    this.encodedToken = new Uint8Array(maxEncodedTokenBytes);
    this.credential[SCOPE_OFFSET - 1] = 0x2f;
  }

  get usable(): boolean {
    return this.accessKeyIdLen > 0;
  }

  /** Replaces the credentials. Region and service are kept unless given; derived keys bring their own. */
  set(credentials: SignerCredentials, region?: string, service?: string): void {
    if (credentials === null || typeof credentials !== 'object') throw new SigV4Error('INVALID_CREDENTIALS', 'credentials must be an object');
    const derived = 'signingKey' in credentials;
    const r = derived ? (credentials as DerivedKeyCredentials).region : region;
    const s = derived ? (credentials as DerivedKeyCredentials).service : service;
    if (derived && ((region !== undefined && region !== r) || (service !== undefined && service !== s))) {
      throw new SigV4Error('INVALID_CREDENTIALS', 'region/service differ from the derived key');
    }
    // Validate everything first (setup time, not per request).
    const accessKeyId = credentials.accessKeyId;
    checkField(accessKeyId, 'accessKeyId', 'accessKeyId', MAX_ACCESS_KEY_ID_BYTES, 'MAX_ACCESS_KEY_ID_BYTES');
    const keepRegion = r === undefined && this.regionLen > 0;
    if (!keepRegion) checkField(r, 'region', 'scope', MAX_REGION_BYTES, 'MAX_REGION_BYTES');
    const keepService = s === undefined && this.serviceLen > 0;
    if (!keepService) checkField(s, 'service', 'scope', MAX_SERVICE_BYTES, 'MAX_SERVICE_BYTES');
    const token = credentials.sessionToken;
    const hasToken = this.checkToken(token);
    if (derived) {
      const d = credentials as DerivedKeyCredentials;
      this.keys.checkDerived(d.signingKey, d.date);
    } else {
      const secret = (credentials as SecretCredentials).secretAccessKey;
      if (typeof secret !== 'string' || secret.length === 0) throw new SigV4Error('INVALID_CREDENTIALS', 'secretAccessKey must be a non-empty string');
      const n = utf8Length(secret);
      if (n === UTF8_LONE_SURROGATE) throw new SigV4Error('INVALID_CREDENTIALS', 'secretAccessKey is not valid UTF-16');
      if (n > MAX_SECRET_KEY_BYTES) throw limitExceeded('MAX_SECRET_KEY_BYTES', 'secretAccessKey');
    }
    // Commit: nothing below can fail.
    if (derived) {
      const d = credentials as DerivedKeyCredentials;
      this.keys.setDerived(d.signingKey, d.date);
    } else {
      this.keys.setSecret((credentials as SecretCredentials).secretAccessKey);
    }
    this.writeScope(keepRegion ? null : (r as string), keepService ? null : (s as string));
    const c = this.credential;
    const start = SCOPE_OFFSET - 1 - accessKeyId.length;
    // Clear a longer previous access key id (hygiene), then write this one before the `/`.
    c.fill(0, 0, start);
    asciiInto(c, start, accessKeyId);
    this.credentialStart = start;
    this.accessKeyIdLen = accessKeyId.length;
    this.setToken(hasToken ? (token as string) : null);
  }

  /** Sets region and service alone (a signer built before its first credentials). */
  setScope(region: unknown, service: unknown): void {
    checkField(region, 'region', 'scope', MAX_REGION_BYTES, 'MAX_REGION_BYTES');
    checkField(service, 'service', 'scope', MAX_SERVICE_BYTES, 'MAX_SERVICE_BYTES');
    this.writeScope(region as string, service as string);
  }

  /** Writes the signing date (amzDate[0, 8)) into the credential scope. */
  buildCredential(amzDate: Uint8Array): void {
    const c = this.credential;
    for (let i = 0; i < DATE_BYTES; i++) c[SCOPE_OFFSET + i] = amzDate[i]!;
  }

  /** Makes keys.key the signing key for the date in amzDate[0, 8). */
  ensureKey(amzDate: Uint8Array): void {
    const rs = REGION_OFFSET;
    const ss = rs + this.regionLen + 1;
    this.keys.ensure(amzDate, 0, this.credential, rs, rs + this.regionLen, ss, ss + this.serviceLen);
  }

  wipe(): void {
    this.keys.wipe();
    this.setToken(null);
    this.credential.fill(0, 0, SCOPE_OFFSET - 1);
    this.credentialStart = SCOPE_OFFSET;
    this.accessKeyIdLen = 0;
  }

  /** Rewrites `YYYYMMDD/region/service/aws4_request` (null: keep that field). The date is rewritten per signing. */
  private writeScope(region: string | null, service: string | null): void {
    const c = this.credential;
    const oldServiceStart = REGION_OFFSET + this.regionLen + 1;
    // Keep the old field's text before anything moves (setup time: a string is fine).
    let keptRegion = '';
    for (let i = 0; region === null && i < this.regionLen; i++) keptRegion += String.fromCharCode(c[REGION_OFFSET + i]!);
    let keptService = '';
    for (let i = 0; service === null && i < this.serviceLen; i++) keptService += String.fromCharCode(c[oldServiceStart + i]!);
    const rText = region ?? keptRegion;
    const sText = service ?? keptService;
    c.fill(0, SCOPE_OFFSET);
    for (let i = 0; i < DATE_BYTES; i++) c[SCOPE_OFFSET + i] = 0x30;
    c[SCOPE_OFFSET + DATE_BYTES] = 0x2f;
    let o = asciiInto(c, REGION_OFFSET, rText);
    c[o++] = 0x2f;
    o = asciiInto(c, o, sText);
    c[o++] = 0x2f;
    o = asciiInto(c, o, TERMINATOR);
    this.regionLen = rText.length;
    this.serviceLen = sText.length;
    this.credentialEnd = o;
  }

  private setToken(token: string | null): void {
    this.token = token;
    this.encodedToken.fill(0);
    this.tokenEncodedLen = 0;
    this.encodedTokenCached = false;
    if (token === null) return;
    this.tokenEncodedLen = encodedTextSize(token);
    this.encodedTokenCached = this.tokenEncodedLen <= this.encodedToken.length;
    if (this.encodedTokenCached) encodeTextInto(token, 0, token.length, this.encodedToken, 0);
  }

  /** True for a usable token, false for none; throws on a bad token. */
  private checkToken(token: unknown): boolean {
    if (token === undefined || token === null || token === '') return false;
    if (typeof token !== 'string') throw new SigV4Error('INVALID_CREDENTIALS', 'sessionToken must be a string');
    const len = utf8Length(token);
    if (len === UTF8_LONE_SURROGATE) throw new SigV4Error('INVALID_UTF16', 'session token contains a lone surrogate');
    if (len > this.maxTokenBytes) throw limitExceeded('maxTokenBytes', 'session token');
    for (let i = 0; i < token.length; i++) {
      const c = token.charCodeAt(i);
      // Tokens are base64-like; refusing whitespace keeps the signed header value equal to the sent one.
      if (c <= 0x20 || c === 0x7f) throw new SigV4Error('INVALID_CREDENTIALS', 'session token contains whitespace or a control character');
    }
    return true;
  }
}
