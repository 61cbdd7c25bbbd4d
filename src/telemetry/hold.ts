// The fail-closed decision: data is held back (nothing is signed) unless the
// secure clock is trusted within E_max and the credentials stay valid for
// longer than the margin, judged at the clock's pessimistic end (`latest`).
import type { AwsCredentials } from '../shared/contracts.js';
import type { TimeReading } from '../time/authority.js';

/** E_max: a clock error bound above this is too wide to sign with. */
export const DEFAULT_MAX_BOUND_MS = 60_000;

/**
 * Why data is held back (the fail-closed decision, counted in
 * health().heldBack). The first five are holdReason()'s, judged before a send;
 * the last two are the device's own state failing at send time: the request
 * could not be signed/encoded here ('signing-failed', a `local` outcome) or a
 * queue call threw ('queue-unavailable'). None is the record's fault: the data
 * stays queued and the send is retried (docs/fail-closed.md).
 */
export type HoldReason =
  | 'time-untrusted'
  | 'time-disrupted'
  | 'time-bound-too-wide'
  | 'credentials-missing'
  | 'credentials-expiring'
  | 'signing-failed'
  | 'queue-unavailable';

export const HOLD_REASONS: readonly HoldReason[] = Object.freeze([
  'time-untrusted',
  'time-disrupted',
  'time-bound-too-wide',
  'credentials-missing',
  'credentials-expiring',
  'signing-failed',
  'queue-unavailable',
] as const);

export interface HoldOptions {
  maxBoundMs: number;
  credentialMarginMs: number;
}

/** Returns why data must be held back now, or null when it may be signed and sent. */
export function holdReason(reading: TimeReading, credentials: AwsCredentials | null, options: HoldOptions): HoldReason | null {
  if (reading.state === 'DISRUPTED') return 'time-disrupted';
  if (reading.state !== 'SYNCED' && reading.state !== 'FREE_RUNNING') return 'time-untrusted';
  if (!(reading.bound <= options.maxBoundMs) || !Number.isFinite(reading.latest) || !Number.isFinite(reading.earliest)) return 'time-bound-too-wide';
  if (credentials === null) return 'credentials-missing';
  if (!(credentials.expirationMs - reading.latest > options.credentialMarginMs)) return 'credentials-expiring';
  return null;
}

/** The signing time: the middle of the clock's interval (within bound of true time). */
export function signingTime(reading: TimeReading): number {
  return Math.floor((reading.earliest + reading.latest) / 2);
}
