// NTP timestamps carry 32-bit seconds since 1900: era 0 ends on
// 2036-02-07T06:28:16Z, and a device that assumes era 0 jumps back to 1900.
// We pick the era from the *trusted floor* (never from the local clock, which
// is exactly what we are trying to establish): a timestamp is the unique
// instant congruent to its 32-bit seconds within ±2^31 s (~68 years) of the
// floor. A claim before the floor is then representable, and rejected by the
// caller, instead of silently wrapping into the far future.

/** Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_S = 2208988800;
const ERA_SECONDS = 2 ** 32;
const HALF_ERA_SECONDS = 2 ** 31;

/** Converts NTP (seconds, fraction) to Unix milliseconds, the era chosen around `floorMs`. */
export function ntpToUnixMs(seconds: number, fraction: number, floorMs: number): number {
  const floorNtpS = Math.floor(floorMs / 1000) + NTP_UNIX_OFFSET_S;
  const lowest = floorNtpS - HALF_ERA_SECONDS;
  const eras = Math.ceil((lowest - seconds) / ERA_SECONDS);
  const ntpS = seconds + eras * ERA_SECONDS;
  return (ntpS - NTP_UNIX_OFFSET_S) * 1000 + (fraction / ERA_SECONDS) * 1000;
}

/** Inverse, for servers and tests: Unix ms to NTP (seconds mod 2^32, fraction). */
export function unixMsToNtp(unixMs: number, out: { seconds: number; fraction: number }): void {
  const totalS = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S;
  const subMs = unixMs - Math.floor(unixMs / 1000) * 1000;
  out.seconds = ((totalS % ERA_SECONDS) + ERA_SECONDS) % ERA_SECONDS;
  out.fraction = Math.min(ERA_SECONDS - 1, Math.floor((subMs / 1000) * ERA_SECONDS));
}
