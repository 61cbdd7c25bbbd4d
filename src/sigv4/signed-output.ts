// The result of Signer.sign / Signer.presign, written into one byte buffer
// that the signer allocates once and reuses: reading the ranges allocates
// nothing; the string helpers allocate exactly the strings they return.
//
// A SignedOutput is owned by its Signer and overwritten by the next call:
// copy what you need first. After a failed call it is empty (`mode` 'none').
import type { HeaderList } from '../ports.js';
import { decodeAscii, decodeUtf8 } from '../shared/utf8.js';

export type SignedMode = 'none' | 'header' | 'query';

/** Header names as the signer emits them (aws-c-auth's spelling). */
export const AUTHORIZATION_HEADER = 'Authorization';
export const AMZ_DATE_HEADER = 'X-Amz-Date';
export const SECURITY_TOKEN_HEADER = 'X-Amz-Security-Token';
export const CONTENT_SHA256_HEADER = 'x-amz-content-sha256';

export class SignedOutput {
  /** The output buffer (maxOutputBytes). Only the ranges below are meaningful. */
  readonly bytes: Uint8Array;
  mode: SignedMode = 'none';
  /** Signature: 64 lower-case hex bytes at bytes[signatureStart, signatureStart + 64). */
  signatureStart = 0;
  /** Header mode: value of X-Amz-Date. */
  amzDateStart = 0;
  amzDateEnd = 0;
  /** Header mode: value of Authorization. */
  authorizationStart = 0;
  authorizationEnd = 0;
  /**
   * Header mode: value of X-Amz-Security-Token (null: none), also present
   * when the token was omitted from signing. It is the caller's own string
   * from the credentials: the signer never copies the token.
   */
  token: string | null = null;
  /** Header mode: value of x-amz-content-sha256 (start -1: not added). */
  contentSha256Start = -1;
  contentSha256End = -1;
  /** Query mode: the wire path with the presigned query (`/path?...&X-Amz-Signature=...`). */
  pathStart = 0;
  pathEnd = 0;
  /** The signing time's X-Amz-Date, always set after a successful call (16 bytes). */
  dateStart = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  clear(): void {
    this.mode = 'none';
    this.token = null;
    this.contentSha256Start = -1;
    this.contentSha256End = -1;
    this.amzDateStart = this.amzDateEnd = 0;
    this.authorizationStart = this.authorizationEnd = 0;
    this.pathStart = this.pathEnd = 0;
    this.signatureStart = 0;
  }

  /** The signature as a 64-character hex string. */
  signature(): string {
    return this.mode === 'none' ? '' : decodeAscii(this.bytes, this.signatureStart, this.signatureStart + 64);
  }

  /**
   * Header mode: the headers to add to the request, in this order:
   * X-Amz-Security-Token (if any), X-Amz-Date, x-amz-content-sha256 (if
   * signed), Authorization.
   */
  headers(): HeaderList {
    const out: HeaderList = [];
    if (this.mode !== 'header') return out;
    const b = this.bytes;
    if (this.token !== null) out.push([SECURITY_TOKEN_HEADER, this.token]);
    out.push([AMZ_DATE_HEADER, decodeAscii(b, this.amzDateStart, this.amzDateEnd)]);
    if (this.contentSha256Start >= 0) out.push([CONTENT_SHA256_HEADER, decodeAscii(b, this.contentSha256Start, this.contentSha256End)]);
    out.push([AUTHORIZATION_HEADER, decodeAscii(b, this.authorizationStart, this.authorizationEnd)]);
    return out;
  }

  /** Header mode: the Authorization header value. */
  authorization(): string {
    return this.mode === 'header' ? decodeAscii(this.bytes, this.authorizationStart, this.authorizationEnd) : '';
  }

  /** Query mode: the presigned wire path and query. */
  pathAndQuery(): string {
    return this.mode === 'query' ? decodeUtf8(this.bytes, this.pathStart, this.pathEnd) : '';
  }
}
