// Secure time for the portable core: public API.
//
//   const clock = new SecureClock({ ticks, buildTimeMs, store });   // starts UNTRUSTED
//   const sntp = new SntpClient({ udp, timers, random, clock, servers });
//   const sync = new TimeSync({ sntp, timers, random });  sync.start();
//
//   clock.now()            -> { state, earliest, latest, bound }  (Unix ms; bound = half-width, ms)
//   clock.trusted(maxMs)   -> true only when SYNCED/FREE_RUNNING and bound <= maxMs: check before signing
//   clock.markDisrupted(r) -> a server said "request time too skewed"/"signature expired": stop trusting, resync
//   clock.addDateVote(source, responseHeaders, sentMonoMs)  -> Date header of a TLS-authenticated response
//                             counts as one vote (sentMonoMs = clock.monoNow() taken before sending) and
//                             raises the floor; never throws ('invalid' verdicts are counted in rejectedDateVotes)
//   clock.acceptedSignature(signedAtMs) -> the cloud accepted a request signed at signedAtMs: raises the floor
//                             to signedAtMs - SIGV4_MAX_SKEW_MS
//   clock.floor            -> trusted floor (build time or stored floor, plus uptime, plus authenticated
//                             evidence capped at maxFloorRisePerBootMs per boot; never SNTP), persisted through
//                             the KeyValuePort key 'time.floor'; sources claiming an earlier time are refused.
//                             docs/time.md says why and how a wrong floor is recovered
//
// States: UNTRUSTED (boot / void / bound > maxBoundMs), SYNCED, FREE_RUNNING (older anchor, still
// trusted), DISRUPTED (ticks went backwards/jumped or markDisrupted: untrusted until a new selection).
// When untrusted, `earliest` is the trusted floor and `latest`/`bound` are Infinity.
export { TimeError, type TimeErrorCode } from './errors.js';
export type { TimeAuthority, TimeReading } from './authority.js';
export { MonotonicClock, type MonotonicOptions, type MonotonicDisruption } from './monotonic.js';
export {
  SecureClock,
  type ClockState,
  type ClockReading,
  type SecureClockOptions,
  type SampleVerdict,
  type DateVoteVerdict,
  DEFAULT_PHI_PPM,
  DEFAULT_SLEEP_PHI_PPM,
  DEFAULT_MIN_SOURCES,
  DEFAULT_MAX_BOUND_MS,
  DEFAULT_VOID_AFTER_MS,
  DEFAULT_SYNCED_FOR_MS,
  MAX_FLOOR_RISE_PER_BOOT_MS,
  MAX_DATE_VOTE_HEADERS,
} from './secure-clock.js';
export { TrustedFloor, FLOOR_KEY, parseFloor } from './trusted-floor.js';
export { SntpClient, type SntpServer, type ServerOutcome, type ServerVerdict, type SntpClientOptions, type IgnoredReason, MIN_POLL_INTERVAL_MS } from './sntp-client.js';
export { TimeSync, type TimeSyncOptions } from './time-sync.js';
export { Selection, MAX_SELECTION_SOURCES } from './selection.js';
export { parseHttpDate } from './http-date.js';
