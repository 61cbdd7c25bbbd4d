// NTPv4 packet encoding and strict reply validation (RFC 5905, client side).
//
// Unlike Moddable's `sntp` module, the request carries a random 64-bit
// transmit timestamp used as a nonce (RFC 9109 style: it reveals nothing
// about our clock), and a reply is accepted only if it echoes that nonce as
// its originate timestamp. A Kiss-o'-Death is believed only after the nonce
// check, so an off-path attacker cannot make us drop a server.
import { ntpToUnixMs } from './ntp-era.js';

/** Size of an NTP header without extension fields; requests are exactly this long. */
export const NTP_PACKET_BYTES = 48;
/** Replies to our plain 48-byte request carry no extension field or MAC: anything longer is not ours. */
export const MAX_NTP_REPLY_BYTES = NTP_PACKET_BYTES;
/** Nonce length: the transmit timestamp field. */
export const NTP_NONCE_BYTES = 8;
/** Default limit on a server's root distance (rootDelay/2 + rootDispersion): NTP's MAXDIST, 1.5 s. */
export const DEFAULT_MAX_ROOT_DISTANCE_MS = 1500;

const MODE_CLIENT = 3;
const MODE_SERVER = 4;
const VERSION = 4;
const LI_UNSYNCHRONIZED = 3;
const MAX_STRATUM = 15;
const SHORT_FORMAT_UNIT_MS = 1000 / 65536;

/** Why a reply was not used. `ok` means every check passed. */
export type ReplyVerdict =
  | 'ok'
  | 'truncated'
  | 'oversized'
  | 'bad-version'
  | 'not-server-mode'
  | 'origin-mismatch'
  | 'kiss-rate'
  | 'kiss-deny'
  | 'kiss-rstr'
  | 'kiss-other'
  | 'unsynchronized'
  | 'bad-stratum'
  | 'zero-timestamp'
  | 'root-distance'
  | 'server-time-order';

/** Fields of a validated reply, in milliseconds. One instance is reused per server. */
export class NtpReply {
  leap = 0;
  stratum = 0;
  /** Server clock precision in ms (2^precision s). */
  precisionMs = 0;
  rootDelayMs = 0;
  rootDispersionMs = 0;
  /** T2: server receive time, Unix ms. */
  receiveMs = 0;
  /** T3: server transmit time, Unix ms. */
  transmitMs = 0;
  /** Four ASCII characters of a Kiss-o'-Death, else ''. */
  kissCode = '';
}

/** Writes a client request with `nonce` (8 bytes) as transmit timestamp into out[0, 48). */
export function encodeRequest(out: Uint8Array, nonce: Uint8Array): void {
  out.fill(0, 0, NTP_PACKET_BYTES);
  out[0] = (VERSION << 3) | MODE_CLIENT; // LI 0
  for (let i = 0; i < NTP_NONCE_BYTES; i++) out[40 + i] = nonce[i]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Four upper-case ASCII letters, as every RFC 5905 kiss code is. */
function isKissCode(b: Uint8Array): boolean {
  for (let i = 12; i < 16; i++) if (b[i]! < 65 || b[i]! > 90) return false;
  return true;
}

function isZero(b: Uint8Array, at: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (b[at + i] !== 0) return false;
  return true;
}

/**
 * Validates `bytes[0, length)` as the reply to a request that carried `nonce`
 * and fills `out`. Never throws on any input. `floorMs` is the trusted floor
 * (Unix ms): it picks the NTP era, see ntp-era.ts.
 */
export function parseReply(
  bytes: Uint8Array,
  length: number,
  nonce: Uint8Array,
  floorMs: number,
  maxRootDistanceMs: number,
  out: NtpReply,
): ReplyVerdict {
  if (length < NTP_PACKET_BYTES || bytes.length < length) return 'truncated';
  if (length > MAX_NTP_REPLY_BYTES) return 'oversized';
  const version = (bytes[0]! >> 3) & 7;
  if (version !== 3 && version !== 4) return 'bad-version';
  if ((bytes[0]! & 7) !== MODE_SERVER) return 'not-server-mode';
  for (let i = 0; i < NTP_NONCE_BYTES; i++) if (bytes[24 + i] !== nonce[i]) return 'origin-mismatch';
  out.leap = bytes[0]! >> 6;
  out.stratum = bytes[1]!;
  out.kissCode = '';
  if (out.stratum === 0 && isKissCode(bytes)) {
    // Kiss-o'-Death (RFC 5905 §7.4): stratum 0 and four ASCII letters as
    // reference id. Unknown codes (INIT, STEP, ...) carry no time either.
    out.kissCode = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
    if (out.kissCode === 'RATE') return 'kiss-rate';
    if (out.kissCode === 'DENY') return 'kiss-deny';
    if (out.kissCode === 'RSTR') return 'kiss-rstr';
    return 'kiss-other';
  }
  // An unsynchronised chrony answers LI 3, stratum 0, reference id 0: not a kiss.
  if (out.leap === LI_UNSYNCHRONIZED) return 'unsynchronized';
  if (out.stratum === 0 || out.stratum > MAX_STRATUM) return 'bad-stratum';
  if (isZero(bytes, 32, 8) || isZero(bytes, 40, 8) || isZero(bytes, 16, 8)) return 'zero-timestamp';
  const precision = (bytes[3]! << 24) >> 24; // signed log2 seconds
  out.precisionMs = 2 ** precision * 1000;
  out.rootDelayMs = u32(bytes, 4) * SHORT_FORMAT_UNIT_MS;
  out.rootDispersionMs = u32(bytes, 8) * SHORT_FORMAT_UNIT_MS;
  if (out.rootDelayMs / 2 + out.rootDispersionMs > maxRootDistanceMs) return 'root-distance';
  out.receiveMs = ntpToUnixMs(u32(bytes, 32), u32(bytes, 36), floorMs);
  out.transmitMs = ntpToUnixMs(u32(bytes, 40), u32(bytes, 44), floorMs);
  if (out.transmitMs < out.receiveMs) return 'server-time-order';
  return 'ok';
}
