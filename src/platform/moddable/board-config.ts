// The board and provisioning configuration, read from mc/config (the merged
// `config` sections of manifest.json and boards/<board>/, overridable on the
// mcconfig command line as `name=value`, which always yields strings) and from
// the provisioning resources. Everything is validated once at start-up:
// a missing or malformed value is a ModdableError('INVALID_CONFIG') naming the
// setting, never echoing its value (some are secrets).
import config from 'mc/config';
import Resource from 'Resource';
import { ModdableError } from './errors.js';
import type { TlsIdentity } from './tls.js';

/** Most time servers taken from `timeServers` (the secure clock needs 3..this many). */
export const MAX_TIME_SERVERS = 8;
/** Longest host name accepted anywhere in the configuration (RFC 1035). */
export const MAX_HOST_CHARS = 253;
/** AWS IoT endpoints listen on 443 unless the configuration names a port. */
export const HTTPS_PORT = 443;

export type StorageConfig =
  | { kind: 'partition'; partition: string }
  | { kind: 'file'; path: string; blockSize: number; blockCount: number };

export interface BoardConfig {
  name: string;
  /** 32 on ESP32/Pico (Time.ticks wraps), 0 on the simulator (wall clock). */
  tickWrapBits: 0 | 32;
  /** Worst-case oscillator error while running, parts per million. */
  driftPpmAwake: number;
  /** Worst-case oscillator error while sleeping, parts per million. */
  driftPpmAsleep: number;
  storage: StorageConfig;
  preferenceDomain: string;
  preferenceMaxValueBytes: number;
  randomIsHardware: boolean;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface AgentSettings {
  awsRegion: string;
  /** IoT data endpoint, `host` or `host:port` (default port 443). */
  iotEndpoint: HostPort;
  /** IoT credentials provider endpoint, `host` or `host:port` (default port 443). */
  credentialsEndpoint: HostPort;
  roleAlias: string;
  thingName: string;
  /** `host` or `host:port` each; the port defaults to `timeServerPort` (123). */
  timeServers: HostPort[];
}

function fail(setting: string, why: string): never {
  throw new ModdableError('INVALID_CONFIG', `${setting}: ${why}`);
}

function asNumber(setting: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) fail(setting, `must be a number in ${min}..${max}`);
  return n;
}

function asInteger(setting: string, value: unknown, min: number, max: number): number {
  const n = asNumber(setting, value, min, max);
  if (!Number.isInteger(n)) fail(setting, 'must be an integer');
  return n;
}

function asBoolean(setting: string, value: unknown): boolean {
  if (value === true || value === 'true' || value === 1 || value === '1') return true;
  if (value === false || value === 'false' || value === 0 || value === '0') return false;
  return fail(setting, 'must be true or false');
}

function asHost(setting: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HOST_CHARS || !/^[A-Za-z0-9.-]+$/.test(value))
    fail(setting, 'must be a host name or IPv4 address');
  return value;
}

/** `host` or `host:port`; the port defaults to `defaultPort`. */
function asHostPort(setting: string, value: unknown, defaultPort: number): HostPort {
  if (typeof value !== 'string') return fail(setting, 'must be a host name or IPv4 address, optionally with :PORT');
  const colon = value.lastIndexOf(':');
  if (colon < 0) return { host: asHost(setting, value), port: defaultPort };
  return { host: asHost(setting, value.slice(0, colon)), port: asInteger(setting, value.slice(colon + 1), 1, 65535) };
}

function asText(setting: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(setting, 'missing or malformed');
  return value;
}

function record(setting: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) fail(setting, 'missing');
  return value as Record<string, unknown>;
}

export function parseStorage(value: unknown): StorageConfig {
  const s = record('board.storage', value);
  if (s.kind === 'partition') return { kind: 'partition', partition: asText('board.storage.partition', s.partition, /^[A-Za-z0-9_]{1,16}$/) };
  if (s.kind === 'file')
    return {
      kind: 'file',
      path: asText('board.storage.path', s.path, /^[A-Za-z0-9_.-]{1,31}$/),
      blockSize: asInteger('board.storage.blockSize', s.blockSize, 256, 65536),
      blockCount: asInteger('board.storage.blockCount', s.blockCount, 2, 16384),
    };
  return fail('board.storage.kind', 'must be "partition" or "file"');
}

export function parseBoard(value: unknown): BoardConfig {
  const b = record('board', value);
  const wrap = asInteger('board.tickWrapBits', b.tickWrapBits, 0, 32);
  if (wrap !== 0 && wrap !== 32) fail('board.tickWrapBits', 'must be 0 or 32');
  return {
    name: asText('board.name', b.name, /^[A-Za-z0-9_/-]{1,40}$/),
    tickWrapBits: wrap as 0 | 32,
    driftPpmAwake: asNumber('board.driftPpmAwake', b.driftPpmAwake, 0, 1e6),
    driftPpmAsleep: asNumber('board.driftPpmAsleep', b.driftPpmAsleep, 0, 1e6),
    storage: parseStorage(b.storage),
    preferenceDomain: asText('board.preferenceDomain', b.preferenceDomain, /^[A-Za-z0-9_]{1,15}$/),
    preferenceMaxValueBytes: asInteger('board.preferenceMaxValueBytes', b.preferenceMaxValueBytes, 1, 3999),
    randomIsHardware: asBoolean('board.randomIsHardware', b.randomIsHardware),
  };
}

export function parseSettings(c: Record<string, unknown>): AgentSettings {
  const servers = typeof c.timeServers === 'string' ? c.timeServers.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : [];
  if (servers.length === 0 || servers.length > MAX_TIME_SERVERS) fail('timeServers', `must list 1..${MAX_TIME_SERVERS} servers, comma separated`);
  const ntpPort = asInteger('timeServerPort', c.timeServerPort, 1, 65535);
  return {
    awsRegion: asText('awsRegion', c.awsRegion, /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/),
    iotEndpoint: asHostPort('iotEndpoint', c.iotEndpoint, HTTPS_PORT),
    credentialsEndpoint: asHostPort('credentialsEndpoint', c.credentialsEndpoint, HTTPS_PORT),
    roleAlias: asText('roleAlias', c.roleAlias, /^[\w=,@.+-]{1,128}$/),
    thingName: asText('thingName', c.thingName, /^[A-Za-z0-9:_.-]{1,128}$/),
    timeServers: servers.map((s, i) => asHostPort(`timeServers[${i}]`, s, ntpPort)),
  };
}

/** The board section of mc/config. */
export function boardConfig(): BoardConfig {
  return parseBoard((config as Record<string, unknown>).board);
}

/** The AWS and time settings of mc/config; throws INVALID_CONFIG when unprovisioned. */
export function agentSettings(): AgentSettings {
  return parseSettings(config as Record<string, unknown>);
}

const RESOURCE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The device identity from the provisioning resources named by mc/config
 * `deviceCertificate`, `devicePrivateKey` and (optional) `trustAnchor`: DER
 * files the build takes from $(PROVISIONING) (default
 * boards/common/provisioning/). Null when the build has none.
 */
export function deviceIdentity(): TlsIdentity | null {
  const c = config as Record<string, unknown>;
  const certName = asText('deviceCertificate', c.deviceCertificate, RESOURCE_NAME);
  const keyName = asText('devicePrivateKey', c.devicePrivateKey, RESOURCE_NAME);
  const anchorName = asText('trustAnchor', c.trustAnchor, RESOURCE_NAME);
  const hasCert = Resource.exists(certName);
  const hasKey = Resource.exists(keyName);
  if (!hasCert && !hasKey) return null;
  if (!hasCert || !hasKey) fail('provisioning', 'device certificate and private key must be provisioned together');
  // Copies in RAM (a few KiB): the SDK's X509 helpers take ArrayBuffers, not flash-mapped HostBuffers.
  const identity: TlsIdentity = { certificate: new Resource(certName).slice(0), privateKey: new Resource(keyName).slice(0) };
  if (Resource.exists(anchorName)) identity.trustAnchor = new Resource(anchorName).slice(0);
  return identity;
}
