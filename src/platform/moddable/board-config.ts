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
import * as v from '../../shared/validate.js';
import { MAX_TIME_SERVERS } from '../../agent/config.js';
import { deviceKeyProblem } from '../../shared/device-key.js';

/** Most time servers taken from `timeServers` (the agent's own limit). */
export { MAX_TIME_SERVERS };
/** Longest host name accepted anywhere in the configuration (RFC 1035). */
export const MAX_HOST_CHARS = v.MAX_HOST_CHARS;
/** AWS IoT endpoints listen on 443 unless the configuration names a port. */
export const HTTPS_PORT = v.DEFAULT_HTTPS_PORT;

export type StorageConfig =
  | { kind: 'partition'; partition: string }
  | { kind: 'file'; path: string; blockSize: number; blockCount: number }
  /** Pico W: whole flash sectors below littlefs, every write checked (flash/pico.ts). */
  | { kind: 'pico-flash'; blockSize: number; blockCount: number };

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
  /**
   * The agent's development mode (src/agent/config.ts): required on a board
   * without a hardware RNG, where the agent otherwise refuses to start.
   * Every board states it explicitly.
   */
  developmentMode: boolean;
}

export type HostPort = v.HostPort;

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
  /** How telemetry goes out: HTTPS publish, or MQTT over WSS (the WebSocket adapter). */
  transport: Transport;
}

export const TRANSPORTS = ['https', 'mqtt'] as const;
export type Transport = (typeof TRANSPORTS)[number];

const fail: v.Fail = (path, why) => {
  throw new ModdableError('INVALID_CONFIG', `${path}: ${why}`);
};

// mcconfig command-line overrides always arrive as strings: turn "42" and
// "true" into what the shared validators check; anything else is passed on
// unchanged and refused there.
function fromText(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  const n = Number(value);
  return Number.isNaN(n) ? value : n;
}

function asNumber(path: string, value: unknown, min: number, max: number): number {
  return v.numberInRange(fromText(value), path, min, max, fail);
}

function asInteger(path: string, value: unknown, min: number, max: number): number {
  return v.integerInRange(fromText(value), path, min, max, fail);
}

function asBoolean(path: string, value: unknown): boolean {
  const b = fromText(value);
  return v.boolean(b === 1 ? true : b === 0 ? false : b, path, fail);
}

function asText(path: string, value: unknown, pattern: RegExp): string {
  const s = v.requiredString(value, path, fail);
  if (!pattern.test(s)) fail(path, 'malformed');
  return s;
}

function record(path: string, value: unknown): Record<string, unknown> {
  if (v.isMissing(value)) fail(path, 'required');
  if (typeof value !== 'object' || value === null) fail(path, 'must be an object');
  return value as Record<string, unknown>;
}

export function parseStorage(value: unknown): StorageConfig {
  const s = record('config.board.storage', value);
  const kind = v.oneOf(s.kind, 'config.board.storage.kind', ['partition', 'file', 'pico-flash'], fail);
  if (kind === 'partition') return { kind, partition: asText('config.board.storage.partition', s.partition, /^[A-Za-z0-9_]{1,16}$/) };
  if (kind === 'pico-flash')
    return {
      kind,
      blockSize: asInteger('config.board.storage.blockSize', s.blockSize, 4096, 4096),
      blockCount: asInteger('config.board.storage.blockCount', s.blockCount, 2, 256),
    };
  return {
    kind,
    path: asText('config.board.storage.path', s.path, /^[A-Za-z0-9_.-]{1,31}$/),
    blockSize: asInteger('config.board.storage.blockSize', s.blockSize, 256, 65536),
    blockCount: asInteger('config.board.storage.blockCount', s.blockCount, 2, 16384),
  };
}

export function parseBoard(value: unknown): BoardConfig {
  const b = record('config.board', value);
  const wrap = asInteger('config.board.tickWrapBits', b.tickWrapBits, 0, 32);
  if (wrap !== 0 && wrap !== 32) fail('config.board.tickWrapBits', 'must be 0 or 32');
  return {
    name: asText('config.board.name', b.name, /^[A-Za-z0-9_/-]{1,40}$/),
    tickWrapBits: wrap as 0 | 32,
    driftPpmAwake: asNumber('config.board.driftPpmAwake', b.driftPpmAwake, 0, 1e6),
    driftPpmAsleep: asNumber('config.board.driftPpmAsleep', b.driftPpmAsleep, 0, 1e6),
    storage: parseStorage(b.storage),
    preferenceDomain: asText('config.board.preferenceDomain', b.preferenceDomain, /^[A-Za-z0-9_]{1,15}$/),
    preferenceMaxValueBytes: asInteger('config.board.preferenceMaxValueBytes', b.preferenceMaxValueBytes, 1, 3999),
    randomIsHardware: asBoolean('config.board.randomIsHardware', b.randomIsHardware),
    developmentMode: asBoolean('config.board.developmentMode', b.developmentMode),
  };
}

/** The AWS and time settings of mc/config (`c`), checked by the same validators as the agent config. */
export function parseSettings(c: Record<string, unknown>): AgentSettings {
  const list = c.timeServers;
  const servers = typeof list === 'string' ? list.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : [];
  if (servers.length === 0) fail('config.timeServers', 'required');
  if (servers.length > MAX_TIME_SERVERS) fail('config.timeServers', `must list 1..${MAX_TIME_SERVERS} servers, comma separated`);
  const ntpPort = v.port(fromText(c.timeServerPort), 'config.timeServerPort', fail);
  return {
    awsRegion: v.region(c.awsRegion, 'config.awsRegion', fail),
    iotEndpoint: v.endpoint(c.iotEndpoint, 'config.iotEndpoint', fail, HTTPS_PORT),
    credentialsEndpoint: v.endpoint(c.credentialsEndpoint, 'config.credentialsEndpoint', fail, HTTPS_PORT),
    roleAlias: v.roleAlias(c.roleAlias, 'config.roleAlias', fail),
    thingName: v.thingName(c.thingName, 'config.thingName', fail),
    timeServers: servers.map((s, i) => v.endpoint(s, `config.timeServers[${i}]`, fail, ntpPort)),
    transport: v.oneOf(c.transport, 'config.transport', TRANSPORTS, fail),
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
/** Most trust anchors taken from `trustAnchors` (tools/moddable/provision.ts writes at most this many). */
export const MAX_TRUST_ANCHORS = 4;

export interface Provisioned {
  identity: TlsIdentity;
  /** Every provisioned trust anchor (DER), at least one. */
  trustAnchors: ArrayBuffer[];
}

/**
 * The device identity and trust anchors from the provisioning resources named
 * by mc/config `deviceCertificate`, `devicePrivateKey` and `trustAnchors`
 * (comma separated; those present are taken): DER files the build takes from
 * $(PROVISIONING) (default boards/common/provisioning/, written by
 * tools/moddable/provision.ts). Null when the build has no identity. The key
 * must be PKCS#8 RSA 2048 and at least one anchor must be present: the SDK's
 * CA store has no Amazon root, so without one every AWS connection fails.
 */
export function deviceIdentity(): Provisioned | null {
  const c = config as Record<string, unknown>;
  const certName = asText('config.deviceCertificate', c.deviceCertificate, RESOURCE_NAME);
  const keyName = asText('config.devicePrivateKey', c.devicePrivateKey, RESOURCE_NAME);
  const anchorList = v.requiredString(c.trustAnchors, 'config.trustAnchors', fail).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (anchorList.length === 0 || anchorList.length > MAX_TRUST_ANCHORS) fail('config.trustAnchors', `must name 1..${MAX_TRUST_ANCHORS} resources, comma separated`);
  anchorList.forEach((name, i) => asText(`config.trustAnchors[${i}]`, name, RESOURCE_NAME));
  const hasCert = Resource.exists(certName);
  const hasKey = Resource.exists(keyName);
  if (!hasCert && !hasKey) return null;
  if (!hasCert || !hasKey) fail('config.deviceCertificate', 'device certificate and private key must be provisioned together');
  // Copies in RAM (a few KiB): the SDK's X509 helpers take ArrayBuffers, not flash-mapped HostBuffers.
  const privateKey = new Resource(keyName).slice(0);
  const problem = deviceKeyProblem(new Uint8Array(privateKey));
  if (problem !== null) fail('config.devicePrivateKey', problem);
  const trustAnchors = anchorList.filter((name) => Resource.exists(name)).map((name) => new Resource(name).slice(0));
  if (trustAnchors.length === 0) fail('config.trustAnchors', 'no trust anchor provisioned (Amazon Root CA 1 and 3 for AWS, the dev cloud root locally)');
  return { identity: { certificate: new Resource(certName).slice(0), privateKey }, trustAnchors };
}
