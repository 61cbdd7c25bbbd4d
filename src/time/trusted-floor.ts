// The trusted floor: a time the device knows has already passed. It starts at
// the firmware build time (or the stored floor) and rises only on evidence an
// on-path attacker cannot forge (SecureClock decides what that is: elapsed
// uptime, TLS-authenticated Date headers, accepted SigV4 signatures; never
// SNTP). It is persisted through the KeyValuePort so that a reboot (which
// makes the clock UNTRUSTED) still rejects any source that claims an earlier
// time, and so that NTP era selection has a pivot that does not depend on the
// local clock. A wrong (too high) floor is recovered by erasing FLOOR_KEY: see
// docs/time.md.
//
// Writes are rate-limited (`persistStepMs`): flash wears, and a floor that is
// an hour stale is still a floor.
import type { KeyValuePort } from '../ports.js';
import { TimeError } from './errors.js';

/** Storage key (≤ 15 characters for ESP32 NVS). */
export const FLOOR_KEY = 'time.floor';
/** Default minimum rise before the floor is written again: one hour. */
export const DEFAULT_FLOOR_PERSIST_STEP_MS = 3_600_000;
/** Largest accepted stored value: year 9999, far below 2^53. */
const MAX_FLOOR_MS = 253402300799000;
/** Decimal digits of MAX_FLOOR_MS: longer stored text is corrupt. */
const MAX_FLOOR_DIGITS = 15;

/** Parses a stored floor; throws TimeError `floor-corrupt` on anything but a plain decimal integer in range. */
export function parseFloor(text: string): number {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_FLOOR_DIGITS) {
    throw new TimeError('floor-corrupt', 'stored time floor is not a decimal integer');
  }
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new TimeError('floor-corrupt', 'stored time floor is not a decimal integer');
    v = v * 10 + c;
  }
  if (v > MAX_FLOOR_MS) throw new TimeError('floor-corrupt', 'stored time floor is out of range');
  return v;
}

export class TrustedFloor {
  private readonly store: KeyValuePort | null;
  private readonly persistStepMs: number;
  /** Current floor, Unix ms. Never decreases. */
  floorMs: number;
  private storedMs: number;
  /** Set when the stored value was unreadable and ignored (it is left untouched until a trusted time replaces it). */
  readonly restoreError: TimeError | null;

  constructor(buildTimeMs: number, store: KeyValuePort | null, persistStepMs = DEFAULT_FLOOR_PERSIST_STEP_MS) {
    if (!Number.isFinite(buildTimeMs) || buildTimeMs < 0 || buildTimeMs > MAX_FLOOR_MS) {
      throw new TimeError('invalid-option', 'buildTimeMs must be a Unix time in ms');
    }
    this.store = store;
    this.persistStepMs = persistStepMs;
    let stored = 0;
    let error: TimeError | null = null;
    const text = store ? store.get(FLOOR_KEY) : undefined;
    if (text !== undefined) {
      try {
        stored = parseFloor(text);
      } catch (e) {
        error = e as TimeError;
      }
    }
    this.restoreError = error;
    this.floorMs = Math.max(buildTimeMs, stored);
    // The build time is in the firmware: the first write is due only once the
    // floor rose a persist step above what the device knows without flash.
    this.storedMs = this.floorMs;
  }

  /** Raises the floor to `trustedEarliestMs` (a time proven to have passed) and persists it when it rose enough. */
  raise(trustedEarliestMs: number): void {
    if (!(trustedEarliestMs > this.floorMs) || trustedEarliestMs > MAX_FLOOR_MS) return;
    this.floorMs = Math.floor(trustedEarliestMs);
    if (this.store && this.floorMs - this.storedMs >= this.persistStepMs) {
      this.store.set(FLOOR_KEY, String(this.floorMs));
      this.storedMs = this.floorMs;
    }
  }
}
