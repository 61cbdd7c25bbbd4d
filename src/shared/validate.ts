// One validator per configuration fact (thing name, role alias, region, host,
// port, endpoint, time server, topic, counts and ranges), shared by the agent
// config, the Moddable board config, the credentials client and the dev
// cloud: a value one of them accepts, all of them accept. Each validator takes
// the value, its whole path (`config.dataEndpoint.port`) and the caller's
// `fail`, so every caller keeps its own error type. A missing value (undefined,
// null or '') is reported as "required". Messages never echo the value: some
// settings are secrets.
import { MAX_ROLE_ALIAS_CHARS, MAX_THING_NAME_CHARS, MAX_TOPIC_BYTES, MAX_TOPIC_SLASHES } from './aws-limits.js';
import { UTF8_LONE_SURROGATE, utf8Length } from './utf8.js';

/** Throws the caller's error for `path`; never returns. */
export type Fail = (path: string, why: string) => never;

export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`${path}: ${why}`);
  }
}

/** A Fail that throws ValidationError, for callers without an error type of their own. */
export const failWithValidationError: Fail = (path, why) => {
  throw new ValidationError(path, why);
};

/** Longest DNS name (RFC 1035), without the trailing dot. */
export const MAX_HOST_CHARS = 253;
/** Longest DNS label (RFC 1035). */
export const MAX_HOST_LABEL_CHARS = 63;
/** Longest AWS region name accepted (the longest today, ap-southeast-5, has 14). */
export const MAX_REGION_CHARS = 32;
export const MIN_PORT = 1;
export const MAX_PORT = 65535;
export const DEFAULT_HTTPS_PORT = 443;
export const DEFAULT_NTP_PORT = 123;

export interface HostPort {
  host: string;
  port: number;
}

/** An SNTP server (src/time SntpServer). */
export interface TimeServerAddress {
  /** IP address literal: replies are matched against it, so resolve names first. */
  address: string;
  port: number;
}

export function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A present string (missing -> "required"). */
export function requiredString(value: unknown, path: string, fail: Fail): string {
  if (isMissing(value)) fail(path, 'required');
  if (typeof value !== 'string') fail(path, 'must be a string');
  return value;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** `text` is 1..max characters, each alphanumeric or in `extra`. */
function isToken(text: string, max: number, extra: string): boolean {
  if (text.length < 1 || text.length > max) return false;
  for (let i = 0; i < text.length; i++) if (!isAlnum(text.charCodeAt(i)) && extra.indexOf(text[i]!) < 0) return false;
  return true;
}

const THING_NAME_EXTRA = ':_-';
const ROLE_ALIAS_EXTRA = '_=,@-';

/** AWS IoT thing name: 1..128 characters of [A-Za-z0-9:_-] (no '.'). */
export function isThingName(value: unknown): boolean {
  return typeof value === 'string' && isToken(value, MAX_THING_NAME_CHARS, THING_NAME_EXTRA);
}

export function thingName(value: unknown, path: string, fail: Fail): string {
  const s = requiredString(value, path, fail);
  if (!isThingName(s)) fail(path, `must be 1..${MAX_THING_NAME_CHARS} characters of [A-Za-z0-9:_-]`);
  return s;
}

/** AWS IoT role alias: 1..128 characters of [A-Za-z0-9_=,@-]. */
export function isRoleAlias(value: unknown): boolean {
  return typeof value === 'string' && isToken(value, MAX_ROLE_ALIAS_CHARS, ROLE_ALIAS_EXTRA);
}

export function roleAlias(value: unknown, path: string, fail: Fail): string {
  const s = requiredString(value, path, fail);
  if (!isRoleAlias(s)) fail(path, `must be 1..${MAX_ROLE_ALIAS_CHARS} characters of [A-Za-z0-9_=,@-]`);
  return s;
}

/** AWS region name: `xx(-word)+-N`, e.g. us-east-1, us-gov-west-1, ap-southeast-5. */
export function isRegion(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_REGION_CHARS && /^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/.test(value);
}

export function region(value: unknown, path: string, fail: Fail): string {
  const s = requiredString(value, path, fail);
  if (!isRegion(s)) fail(path, 'must be an AWS region name such as us-east-1');
  return s;
}

/** DNS name or IPv4 literal: dot-separated labels of 1..63 [A-Za-z0-9-], not starting or ending with '-'; 253 characters at most. */
export function isHost(value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_HOST_CHARS) return false;
  let labelStart = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const n = i - labelStart;
      if (n < 1 || n > MAX_HOST_LABEL_CHARS || value.charCodeAt(labelStart) === 0x2d || value.charCodeAt(i - 1) === 0x2d) return false;
      labelStart = i + 1;
    } else if (!isAlnum(c) && c !== 0x2d) return false;
  }
  return true;
}

export function host(value: unknown, path: string, fail: Fail): string {
  const s = requiredString(value, path, fail);
  if (!isHost(s)) fail(path, 'must be a host name or IPv4 address');
  return s;
}

/** A finite number in [min, max]. */
export function numberInRange(value: unknown, path: string, min: number, max: number, fail: Fail): number {
  if (isMissing(value)) fail(path, 'required');
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) fail(path, `must be a number in [${min}, ${max}]`);
  return value;
}

/** An integer in [min, max] (counts, sizes, ports: 2.5 servers is not a count). */
export function integerInRange(value: unknown, path: string, min: number, max: number, fail: Fail): number {
  if (isMissing(value)) fail(path, 'required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(path, `must be an integer in [${min}, ${max}]`);
  return value;
}

export function port(value: unknown, path: string, fail: Fail): number {
  return integerInRange(value, path, MIN_PORT, MAX_PORT, fail);
}

export function boolean(value: unknown, path: string, fail: Fail): boolean {
  if (isMissing(value)) fail(path, 'required');
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

export function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], fail: Fail): T {
  if (isMissing(value)) fail(path, 'required');
  if (typeof value !== 'string' || allowed.indexOf(value as T) < 0) fail(path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return value as T;
}

/** An array of min..max entries. */
export function list(value: unknown, path: string, min: number, max: number, fail: Fail): unknown[] {
  if (value === undefined || value === null) fail(path, 'required');
  if (!Array.isArray(value) || value.length < min || value.length > max) fail(path, `must list ${min}..${max} entries`);
  return value;
}

/** Decimal digits only (no sign, no exponent, no spaces), as in a `host:port` text. */
function decimalPort(text: string): number {
  if (text.length < 1 || text.length > 5) return NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
  }
  return Number(text);
}

/**
 * An endpoint: `{host, port?}` or the text `host[:port]`; the port defaults
 * to `defaultPort`. Errors name `<path>.host` or `<path>.port`.
 */
export function endpoint(value: unknown, path: string, fail: Fail, defaultPort: number = DEFAULT_HTTPS_PORT): HostPort {
  if (isMissing(value)) fail(path, 'required');
  if (typeof value === 'string') {
    const colon = value.lastIndexOf(':');
    if (colon < 0) return { host: host(value, `${path}.host`, fail), port: defaultPort };
    const h = host(value.slice(0, colon), `${path}.host`, fail);
    return { host: h, port: port(decimalPort(value.slice(colon + 1)), `${path}.port`, fail) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be {host, port} or "host[:port]"');
  const e = value as Record<string, unknown>;
  return { host: host(e.host, `${path}.host`, fail), port: port(e.port ?? defaultPort, `${path}.port`, fail) };
}

/** Dotted-quad IPv4 literal: four decimal octets 0..255 without leading zeros (010 is not 10 everywhere). */
export function isIpv4(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const parts = value.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length < 1 || p.length > 3 || (p.length > 1 && p.charCodeAt(0) === 0x30)) return false;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    if (Number(p) > 255) return false;
  }
  return true;
}

/**
 * A time server: the text `IPv4[:port]`, nothing else. SNTP replies are
 * matched against the address queried, so names must be resolved before.
 */
export function timeServer(value: unknown, path: string, fail: Fail, defaultPort: number = DEFAULT_NTP_PORT): TimeServerAddress {
  const s = requiredString(value, path, fail);
  const colon = s.indexOf(':');
  const address = colon < 0 ? s : s.slice(0, colon);
  if (!isIpv4(address)) fail(path, 'must be an IPv4 literal, optionally with :PORT (resolve names first)');
  if (colon < 0) return { address, port: defaultPort };
  const p = decimalPort(s.slice(colon + 1));
  if (!(p >= MIN_PORT && p <= MAX_PORT)) fail(path, `port must be an integer in [${MIN_PORT}, ${MAX_PORT}]`);
  return { address, port: p };
}

/**
 * An MQTT topic to publish to: 1..MAX_TOPIC_BYTES bytes of UTF-8, at most
 * MAX_TOPIC_SLASHES '/', no wildcard ('#', '+'), no NUL, no lone surrogate
 * (it has no UTF-8 form).
 */
export function isTopic(value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 1) return false;
  let slashes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x23 || c === 0x2b || c === 0) return false;
    if (c === 0x2f && ++slashes > MAX_TOPIC_SLASHES) return false;
  }
  const bytes = utf8Length(value);
  return bytes !== UTF8_LONE_SURROGATE && bytes <= MAX_TOPIC_BYTES;
}

export function topic(value: unknown, path: string, fail: Fail): string {
  const s = requiredString(value, path, fail);
  if (!isTopic(s)) fail(path, `must be 1..${MAX_TOPIC_BYTES} bytes of UTF-8 with at most ${MAX_TOPIC_SLASHES} '/' and no '#', '+' or NUL`);
  return s;
}
