// Typed errors of the secure-time core. `code` is stable: callers and tests
// match on it, never on the message. Messages never carry secrets (time
// evidence is not secret, but keep them short and free of raw packets).
import { CodedError } from '../shared/errors.js';

export type TimeErrorCode =
  | 'invalid-option'
  | 'floor-corrupt'
  | 'date-header-invalid'
  | 'clock-untrusted';

export class TimeError extends CodedError<TimeErrorCode> {
  override name = 'TimeError';
}

/** Throws `invalid-option` unless `value` is a finite number within [min, max]. */
export function requireNumber(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TimeError('invalid-option', `${name} must be a number in [${min}, ${max}]`);
  }
  return value;
}
