// Typed errors of what comes after TUF: the device's runtime policy, staging
// and applying. A TufError says the metadata or a file failed a TUF check;
// an UpdateError says a verified target may not (or could not) be applied
// here. Messages name the target and the field, never key material.
import { CodedError } from '../shared/errors.js';

export type UpdateErrorCode =
  /** custom.hardwareModel is not this device's. */
  | 'wrong-hardware'
  /** custom.channel is not this device's channel (fleet). */
  | 'wrong-channel'
  /** custom.things lists things and this one is not among them. */
  | 'not-for-this-thing'
  /** custom.securityVersion is below the persisted anti-rollback counter of its kind. */
  | 'security-rollback'
  /** custom.kind is missing or not one this device accepts. */
  | 'unknown-kind'
  /** The target is larger than the staging area (or the config bundle bound). */
  | 'too-large'
  /** A provenance field the policy requires is missing or not a non-empty string. */
  | 'missing-provenance'
  /** custom is missing, not an object, or a field has the wrong type. */
  | 'malformed-custom'
  /** A config bundle that is not valid JSON or has an unknown or invalid field. */
  | 'malformed-config'
  /** A config bundle would loosen a limit compiled into the firmware. */
  | 'loosens-limit'
  /** The staged bytes' length or SHA-256 differ from the trusted metadata. */
  | 'bad-hash'
  /** The target lists no sha256 hash (the device streams SHA-256 only). */
  | 'unsupported-hash'
  /** Fetching a chunk failed (network, status, deadline, short read). */
  | 'fetch'
  /** The device's own flash or settings failed: hold and retry, never the target's fault. */
  | 'storage'
  /** Not now: time untrusted, an update already in progress, a trial not yet confirmed. */
  | 'busy'
  /** The new firmware did not pass its self-test (reverted). */
  | 'self-test-failed';

export class UpdateError extends CodedError<UpdateErrorCode> {
  override name = 'UpdateError';
}
