// Typed errors of the SigV4 signer.
//
// Every failure the caller can cause (bad input, a limit exceeded, misuse)
// is a SigV4Error with a stable string `code`; `limit` names the exceeded
// limit for LIMIT_EXCEEDED. Messages never contain secrets, header values,
// query values or tokens: only names, indexes and sizes.
import { CodedError } from '../shared/errors.js';

export type SigV4ErrorCode =
  /** A configured limit (`limit` says which) would be exceeded. */
  | 'LIMIT_EXCEEDED'
  /** A header name is not an RFC 7230 token. */
  | 'INVALID_HEADER_NAME'
  /** A header value contains CR/LF (other than a folded line) or a control character. */
  | 'INVALID_HEADER_VALUE'
  /** A string contains a lone UTF-16 surrogate (cannot be encoded as UTF-8). */
  | 'INVALID_UTF16'
  /** A query component has a `%` not followed by two hex digits (or an S3 path does). */
  | 'INVALID_PERCENT_ENCODING'
  /** The signing time is not an integer number of epoch milliseconds in years 1970..9999. */
  | 'INVALID_TIME'
  /** Credentials, region or service are missing or malformed. */
  | 'INVALID_CREDENTIALS'
  /** The request is malformed (method, path, payload options, expiry). */
  | 'INVALID_REQUEST'
  /** The caller supplied a header or query parameter that the signer itself adds. */
  | 'RESERVED_NAME'
  /** A signer built from a derived signing key was asked to sign at another date. */
  | 'KEY_DATE_MISMATCH'
  /** An operation was called out of order (e.g. a chunk before the seed signature). */
  | 'INVALID_STATE';

export class SigV4Error extends CodedError<SigV4ErrorCode> {
  override name = 'SigV4Error';
  /** For LIMIT_EXCEEDED: the name of the limit (a key of SignerLimits or a named constant). */
  readonly limit: string | null;

  constructor(code: SigV4ErrorCode, message: string, limit: string | null = null) {
    super(code, message);
    this.limit = limit;
  }
}

export function limitExceeded(limit: string, what: string): SigV4Error {
  return new SigV4Error('LIMIT_EXCEEDED', `${what} exceeds ${limit}`, limit);
}

/** True when `e` is a SigV4Error with this code (and this limit, if given). Handy for tests. */
export function isSigV4Error(e: unknown, code: SigV4ErrorCode, limit?: string): boolean {
  return e instanceof SigV4Error && e.code === code && (limit === undefined || e.limit === limit);
}
