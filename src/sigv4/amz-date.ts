// The signing time as SigV4 writes it: `YYYYMMDDTHHMMSSZ` (UTC), computed
// from epoch milliseconds by arithmetic (no Date, no clock: the time is an
// argument that comes from the secure clock).
import { SigV4Error } from './errors.js';

export const AMZ_DATE_BYTES = 16;
/** Largest accepted time: 9999-12-31T23:59:59.999Z (four-digit years only). */
export const MAX_SIGNING_TIME_MS = 253402300799999;
const MS_PER_DAY = 86400000;

function put2(out: Uint8Array, o: number, v: number): void {
  out[o] = 0x30 + ((v / 10) | 0);
  out[o + 1] = 0x30 + (v % 10);
}

/** Throws INVALID_TIME unless `timeMs` is an integer in [0, MAX_SIGNING_TIME_MS]. */
export function checkSigningTime(timeMs: number): void {
  if (typeof timeMs !== 'number' || !Number.isInteger(timeMs) || timeMs < 0 || timeMs > MAX_SIGNING_TIME_MS) {
    throw new SigV4Error('INVALID_TIME', 'signing time must be integer epoch milliseconds in years 1970..9999');
  }
}

/** Writes `YYYYMMDDTHHMMSSZ` for timeMs into out[offset, offset + 16). */
export function writeAmzDate(timeMs: number, out: Uint8Array, offset: number): void {
  checkSigningTime(timeMs);
  const days = Math.floor(timeMs / MS_PER_DAY);
  let secs = Math.floor((timeMs - days * MS_PER_DAY) / 1000);
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil inverse).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secs / 3600);
  secs -= hour * 3600;
  const minute = Math.floor(secs / 60);
  secs -= minute * 60;
  put2(out, offset, Math.floor(year / 100));
  put2(out, offset + 2, year % 100);
  put2(out, offset + 4, month);
  put2(out, offset + 6, day);
  out[offset + 8] = 0x54; // T
  put2(out, offset + 9, hour);
  put2(out, offset + 11, minute);
  put2(out, offset + 13, secs);
  out[offset + 15] = 0x5a; // Z
}
