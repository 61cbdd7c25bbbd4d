// Time formats used on the wire: SigV4's ISO 8601 basic format
// (`20150830T123600Z`, X-Amz-Date and the error messages) and the HTTP `Date`
// header (RFC 9110 IMF-fixdate).

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Epoch ms for a `YYYYMMDDTHHMMSSZ` string, or null when it is not one (including impossible dates). */
export function parseAmzDate(text: string): number | null {
  const m = AMZ_DATE.exec(text);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 20150231 over to March: reject instead of accepting a date the client did not write.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return null;
  }
  return ms;
}

/** `YYYYMMDDTHHMMSSZ` for epoch ms (sub-second part dropped, as SigV4 does). */
export function formatAmzDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** `Sun, 22 Nov 2026 13:27:27 GMT` for epoch ms. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** ISO 8601 extended, seconds precision (`2026-11-22T13:27:27Z`), as the credentials provider's `expiration`. */
export function formatIsoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
