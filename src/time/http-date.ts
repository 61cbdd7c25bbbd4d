// Parses an HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7), e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT", into Unix milliseconds. The obsolete
// RFC 850 and asctime forms are refused: AWS endpoints send IMF-fixdate, and
// a vote we cannot parse exactly is a vote we do not count.
import { TimeError } from './errors.js';

const DAYS: readonly string[] = Object.freeze(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']);
const MONTHS: readonly string[] = Object.freeze(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);
/** "Sun, 06 Nov 1994 08:49:37 GMT" */
const IMF_FIXDATE_LENGTH = 29;

function digits(text: string, at: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) {
    const c = text.charCodeAt(at + i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days from 1970-01-01 to year-month-day (proleptic Gregorian), Howard Hinnant's algorithm. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function invalid(): never {
  throw new TimeError('date-header-invalid', 'Date header is not an IMF-fixdate');
}

/** Unix ms of an IMF-fixdate; throws TimeError `date-header-invalid` otherwise. */
export function parseHttpDate(value: string): number {
  if (typeof value !== 'string') invalid();
  const text = value.trim();
  if (text.length !== IMF_FIXDATE_LENGTH) invalid();
  const dayName = DAYS.indexOf(text.slice(0, 3));
  if (dayName < 0 || text.slice(3, 5) !== ', ' || text[7] !== ' ' || text[11] !== ' ' || text[16] !== ' ') invalid();
  if (text[19] !== ':' || text[22] !== ':' || text.slice(25) !== ' GMT') invalid();
  const day = digits(text, 5, 2);
  const month = MONTHS.indexOf(text.slice(8, 11)) + 1;
  const year = digits(text, 12, 4);
  const hour = digits(text, 17, 2);
  const minute = digits(text, 20, 2);
  const second = digits(text, 23, 2);
  if (month < 1 || day < 1 || day > 31 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) invalid();
  const days = daysFromCivil(year, month, day);
  if (day > daysInMonth(year, month)) invalid();
  if (((days % 7) + 11) % 7 !== dayName) invalid();
  return (days * 86400 + hour * 3600 + minute * 60 + Math.min(second, 59)) * 1000;
}

const MONTH_DAYS: readonly number[] = Object.freeze([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!;
}
