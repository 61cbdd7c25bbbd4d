// Wire formats the simulated servers speak, written from the specs (RFC 9110
// IMF-fixdate, ISO 8601, SigV4's basic date, NTPv4 via test/harness/fakes.ts)
// independently of the core, so the soak does not check the core against itself.
// Portable: no Date parsing of untrusted text, no platform API.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad(n: number, width: number): string {
  let s = String(n);
  while (s.length < width) s = `0${s}`;
  return s;
}

/** `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7). */
export function httpDate(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate(), 2)} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)} GMT`;
}

/** `2026-01-15T08:15:00Z`: the credentials provider's `expiration`. */
export function isoSeconds(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}Z`;
}

/** `20260115T081500Z`: SigV4's X-Amz-Date. */
export function amzDate(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Epoch ms of `YYYYMMDDTHHMMSSZ`, or NaN. */
export function parseAmzDate(s: string): number {
  if (typeof s !== 'string' || s.length !== 16 || s[8] !== 'T' || s[15] !== 'Z') return NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 4, 2);
  const d = digits(s, 6, 2);
  const h = digits(s, 9, 2);
  const mi = digits(s, 11, 2);
  const se = digits(s, 13, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, se);
}

/** AWS's SigV4 skew answers (texts as AWS services return them). */
export function skewMessage(requestMs: number, serverMs: number): string {
  const fiveMin = 5 * 60_000;
  return requestMs < serverMs
    ? `Signature expired: ${amzDate(requestMs)} is now earlier than ${amzDate(serverMs - fiveMin)} (${amzDate(serverMs)} - 5 min.)`
    : `Signature not yet current: ${amzDate(requestMs)} is still later than ${amzDate(serverMs + fiveMin)} (${amzDate(serverMs)} + 5 min.)`;
}

export const AWS_MESSAGES = {
  expiredToken: 'The security token included in the request is expired',
  invalidToken: 'The security token included in the request is invalid.',
  missingAuth: 'Missing Authentication Token',
  throttled: 'Rate exceeded',
  internal: 'Internal failure',
  unavailable: 'Service Unavailable',
} as const;

/** Bytes of an ASCII/Latin-1 string (bodies the servers build are ASCII). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** ASCII bytes to a string (non-ASCII bytes become '?': the servers only need ASCII). */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  const CHUNK = 256;
  for (let i = start; i < end; i += CHUNK) {
    const n = Math.min(CHUNK, end - i);
    const codes: number[] = [];
    for (let k = 0; k < n; k++) {
      const c = bytes[i + k]!;
      codes.push(c < 0x80 ? c : 0x3f);
    }
    s += String.fromCharCode.apply(null, codes);
  }
  return s;
}

/** Percent-decoding of a query value or path segment; null on a bad escape. */
export function percentDecode(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const h = parseInt(s.slice(i + 1, i + 3), 16);
    if (!(h >= 0 && h <= 255) || s.length < i + 3) return null;
    out += String.fromCharCode(h);
    i += 2;
  }
  return out;
}
