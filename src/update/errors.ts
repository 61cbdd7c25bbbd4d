// Typed errors of the TUF client. Callers and tests match on `code`; the
// message names the role and the check that failed, never key material.
import { CodedError } from '../shared/errors.js';

export type TufErrorCode =
  /** Bytes that are not valid UTF-8 JSON, or a field of the wrong type or shape. */
  | 'malformed'
  /** A named bound (src/update/limits.ts) was exceeded. */
  | 'over-limit'
  /** Fewer than `threshold` distinct authorised keys signed the canonical bytes. */
  | 'unsigned'
  /** `_type`, spec version or role name is not the one expected. */
  | 'wrong-type'
  /** A version lower than the trusted one (or a root that skips a version). */
  | 'rollback'
  /** Version, or a snapshot meta entry, differs from what the referring metadata says. */
  | 'version-mismatch'
  /** The clock's pessimistic end is not before `expires`, or the clock is untrusted. */
  | 'expired'
  /** Length or a hash differs from what the referring metadata says. */
  | 'bad-hash'
  /** The repository does not have the file (HTTP 404/403), or the fetch failed. */
  | 'fetch'
  /** A role or target the trusted metadata does not list. */
  | 'not-found'
  /** Called out of order (e.g. snapshot before timestamp), or a port misbehaved. */
  | 'state'
  /** The storage port failed to persist. */
  | 'storage';

export class TufError extends CodedError<TufErrorCode> {
  override name = 'TufError';
}
