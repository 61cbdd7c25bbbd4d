// Credentials held by a Signer: access key id, scope (region, service),
// optional session token, and the signing-key cache (secret or derived key).
//
// set() validates everything before changing anything, so a bad credential
// leaves the previous ones in force. The fixed buffers are sized by the
// MAX_* constants and maxTokenBytes.
import { SigV4Error, limitExceeded } from './errors.js';
import type { HmacSha256 } from './hmac.js';
import { MAX_ACCESS_KEY_ID_BYTES, MAX_REGION_BYTES, MAX_SECRET_KEY_BYTES, MAX_SERVICE_BYTES } from './limits.js';
import { DATE_BYTES, SigningKeyCache } from './signing-key.js';
import { encodeUtf8Into, utf8Length, UTF8_LONE_SURROGATE, UTF8_OVERFLOW } from './utf8.js';
import { MAX_SCOPE_BYTES } from './seed-state.js';
import { encodedRangeSize, encodeRangeInto } from './uri-encode.js';

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
const TERMINATOR = 'aws4_request';

type FieldKind = 'accessKeyId' | 'scope';

/** Copies an ASCII field into out after checking its length and alphabet; returns its length. */
function asciiField(value: unknown, what: string, kind: FieldKind, max: number, limit: string, out: Uint8Array): number {
  if (typeof value !== 'string' || value.length === 0) throw new SigV4Error('INVALID_CREDENTIALS', `${what} must be a non-empty string`);
  if (value.length > max) throw limitExceeded(limit, what);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const digitOrLower = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
    // Access key ids are upper-case alphanumerics in practice; allow [A-Za-z0-9_-]. Region and
    // service names are lower-case letters, digits and '-'. Nothing that needs encoding in a scope.
    const ok = kind === 'accessKeyId' ? digitOrLower || (c >= 0x41 && c <= 0x5a) || c === 0x5f : digitOrLower;
    if (!ok) throw new SigV4Error('INVALID_CREDENTIALS', `${what} has a character outside its allowed set`);
    out[i] = c;
  }
  return value.length;
}

export class CredentialStore {
  readonly keys: SigningKeyCache;
  readonly accessKeyId = new Uint8Array(MAX_ACCESS_KEY_ID_BYTES);
  accessKeyIdLen = 0;
  readonly region = new Uint8Array(MAX_REGION_BYTES);
  regionLen = 0;
  readonly service = new Uint8Array(MAX_SERVICE_BYTES);
  serviceLen = 0;
  /** Session token, UTF-8; tokenLen -1: none. */
  readonly token: Uint8Array;
  tokenLen = -1;
  /** Bytes of the token's RFC 3986 encoding (presigned URLs), computed once per set(). */
  tokenEncodedLen = 0;
  /** The token's RFC 3986 encoding when it fits (maxEncodedTokenBytes), encoded once per set(). */
  readonly encodedToken: Uint8Array;
  encodedTokenCached = false;
  /** `accessKeyId/scope`, rebuilt per signing date by buildCredential(). */
  readonly credential = new Uint8Array(MAX_CREDENTIAL_BYTES);
  credentialLen = 0;
  /** Offset of the scope (`YYYYMMDD/...`) inside `credential`. */
  scopeStart = 0;

  constructor(hmac: HmacSha256, maxTokenBytes: number, maxEncodedTokenBytes: number) {
    this.keys = new SigningKeyCache(hmac);
    this.token = new Uint8Array(maxTokenBytes);
    this.encodedToken = new Uint8Array(maxEncodedTokenBytes);
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
    // Validate everything into temporaries first (setup time, not per request).
    const akBuf = new Uint8Array(MAX_ACCESS_KEY_ID_BYTES);
    const akLen = asciiField(credentials.accessKeyId, 'accessKeyId', 'accessKeyId', MAX_ACCESS_KEY_ID_BYTES, 'MAX_ACCESS_KEY_ID_BYTES', akBuf);
    const regionBuf = new Uint8Array(MAX_REGION_BYTES);
    const keepRegion = r === undefined && this.regionLen > 0;
    const regionLen = keepRegion ? 0 : asciiField(r, 'region', 'scope', MAX_REGION_BYTES, 'MAX_REGION_BYTES', regionBuf);
    const serviceBuf = new Uint8Array(MAX_SERVICE_BYTES);
    const keepService = s === undefined && this.serviceLen > 0;
    const serviceLen = keepService ? 0 : asciiField(s, 'service', 'scope', MAX_SERVICE_BYTES, 'MAX_SERVICE_BYTES', serviceBuf);
    const tokenBuf = new Uint8Array(this.token.length);
    const tokenLen = this.checkToken(credentials.sessionToken, tokenBuf);
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
    this.accessKeyId.set(akBuf);
    this.accessKeyIdLen = akLen;
    if (!keepRegion) {
      this.region.set(regionBuf);
      this.regionLen = regionLen;
    }
    if (!keepService) {
      this.service.set(serviceBuf);
      this.serviceLen = serviceLen;
    }
    this.token.set(tokenBuf);
    this.tokenLen = tokenLen;
    this.tokenEncodedLen = tokenLen > 0 ? encodedRangeSize(this.token, 0, tokenLen) : 0;
    this.encodedToken.fill(0);
    this.encodedTokenCached = tokenLen > 0 && this.tokenEncodedLen <= this.encodedToken.length;
    if (this.encodedTokenCached) encodeRangeInto(this.token, 0, tokenLen, this.encodedToken, 0);
    tokenBuf.fill(0);
  }

  /** Sets region and service alone (a signer built before its first credentials). */
  setScope(region: unknown, service: unknown): void {
    const regionBuf = new Uint8Array(MAX_REGION_BYTES);
    const regionLen = asciiField(region, 'region', 'scope', MAX_REGION_BYTES, 'MAX_REGION_BYTES', regionBuf);
    const serviceBuf = new Uint8Array(MAX_SERVICE_BYTES);
    const serviceLen = asciiField(service, 'service', 'scope', MAX_SERVICE_BYTES, 'MAX_SERVICE_BYTES', serviceBuf);
    this.region.set(regionBuf);
    this.regionLen = regionLen;
    this.service.set(serviceBuf);
    this.serviceLen = serviceLen;
  }

  /** Writes `accessKeyId/YYYYMMDD/region/service/aws4_request` (date from amzDate[0, 8)) into `credential`. */
  buildCredential(amzDate: Uint8Array): void {
    const c = this.credential;
    let o = 0;
    for (let i = 0; i < this.accessKeyIdLen; i++) c[o++] = this.accessKeyId[i]!;
    c[o++] = 0x2f;
    this.scopeStart = o;
    for (let i = 0; i < DATE_BYTES; i++) c[o++] = amzDate[i]!;
    c[o++] = 0x2f;
    for (let i = 0; i < this.regionLen; i++) c[o++] = this.region[i]!;
    c[o++] = 0x2f;
    for (let i = 0; i < this.serviceLen; i++) c[o++] = this.service[i]!;
    c[o++] = 0x2f;
    for (let i = 0; i < TERMINATOR.length; i++) c[o++] = TERMINATOR.charCodeAt(i);
    this.credentialLen = o;
  }

  /** Makes keys.key the signing key for the date in amzDate[0, 8). */
  ensureKey(amzDate: Uint8Array): void {
    this.keys.ensure(amzDate, 0, this.region, this.regionLen, this.service, this.serviceLen);
  }

  wipe(): void {
    this.keys.wipe();
    this.token.fill(0);
    this.tokenLen = -1;
    this.tokenEncodedLen = 0;
    this.encodedToken.fill(0);
    this.encodedTokenCached = false;
    this.accessKeyIdLen = 0;
  }

  private checkToken(token: unknown, out: Uint8Array): number {
    if (token === undefined || token === null || token === '') return -1;
    if (typeof token !== 'string') throw new SigV4Error('INVALID_CREDENTIALS', 'sessionToken must be a string');
    const len = encodeUtf8Into(token, 0, token.length, out, 0, out.length);
    if (len === UTF8_OVERFLOW) throw limitExceeded('maxTokenBytes', 'session token');
    if (len === UTF8_LONE_SURROGATE) throw new SigV4Error('INVALID_UTF16', 'session token contains a lone surrogate');
    for (let i = 0; i < len; i++) {
      const c = out[i]!;
      // Tokens are base64-like; refusing whitespace keeps the signed header value equal to the sent one.
      if (c <= 0x20 || c === 0x7f) throw new SigV4Error('INVALID_CREDENTIALS', 'session token contains whitespace or a control character');
    }
    return len;
  }
}
