// The agent's configuration: provisioning data (endpoint, region, role alias,
// thing name, time servers) and board settings (drift rates, flash split).
// Parsed strictly: a bad field is an AgentError naming it, before anything starts.
import { AgentError } from './errors.js';
import type { SntpServer } from '../time/index.js';

export interface Endpoint {
  host: string;
  port: number;
}

export interface AgentConfig {
  thingName: string;
  region: string;
  roleAlias: string;
  dataEndpoint: Endpoint;
  credentialsEndpoint: Endpoint;
  timeServers: SntpServer[];
  transport: 'https' | 'mqtt';
  publishService: string;
  telemetryTopic: string;
  securityTopic: string;
  sampleIntervalMs: number;
  healthIntervalMs: number;
  buildTimeMs: number;
  minSources: number;
  maxBoundMs: number;
  phiPpm: number;
  sleepPhiPpm: number;
  maxTickStepMs: number;
  securityBlocks: number;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 60_000;
export const DEFAULT_AGENT_HEALTH_INTERVAL_MS = 60_000;
export const DEFAULT_SECURITY_BLOCKS = 2;
export const DEFAULT_NTP_PORT = 123;
/** At most this many time servers (the selection is bounded too). */
export const MAX_TIME_SERVERS = 8;

type Raw = Record<string, unknown>;

function fail(field: string, why: string): never {
  throw new AgentError('bad-config', `config.${field}: ${why}`);
}

function str(raw: Raw, field: string, pattern: RegExp, fallback?: string): string {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'string' || !pattern.test(v)) fail(field, `must match ${pattern.source}`);
  return v;
}

function num(raw: Raw, field: string, min: number, max: number, fallback?: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(field, `must be a number in [${min}, ${max}]`);
  return v;
}

const HOST = /^[A-Za-z0-9.-]{1,253}$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function endpoint(raw: Raw, field: string): Endpoint {
  const v = raw[field];
  if (typeof v !== 'object' || v === null) fail(field, 'must be {host, port}');
  const e = v as Raw;
  return { host: str(e, 'host', HOST), port: num(e, 'port', 1, 65535, 443) };
}

function timeServer(text: unknown, i: number): SntpServer {
  if (typeof text !== 'string') fail(`timeServers[${i}]`, 'must be "IP" or "IP:PORT"');
  const [address, port] = text.split(':');
  const m = IPV4.exec(address ?? '');
  // SNTP replies are matched against the address we queried: names must be resolved before.
  if (!m || m.slice(1).some((o) => Number(o) > 255)) fail(`timeServers[${i}]`, 'must be an IPv4 literal, optionally with :PORT');
  const p = port === undefined ? DEFAULT_NTP_PORT : Number(port);
  if (!(Number.isInteger(p) && p >= 1 && p <= 65535)) fail(`timeServers[${i}]`, 'bad port');
  return { address: address!, port: p };
}

export function parseAgentConfig(input: unknown): AgentConfig {
  if (typeof input !== 'object' || input === null) throw new AgentError('bad-config', 'config must be an object');
  const raw = input as Raw;
  const thingName = str(raw, 'thingName', /^[A-Za-z0-9_.:-]{1,128}$/);
  const servers = raw.timeServers;
  if (!Array.isArray(servers) || servers.length < 1 || servers.length > MAX_TIME_SERVERS) fail('timeServers', `must list 1..${MAX_TIME_SERVERS} servers`);
  const transport = raw.transport ?? 'https';
  if (transport !== 'https' && transport !== 'mqtt') fail('transport', 'must be "https" or "mqtt"');
  return {
    thingName,
    region: str(raw, 'region', /^[a-z0-9-]{1,32}$/),
    roleAlias: str(raw, 'roleAlias', /^[A-Za-z0-9=,@_.+-]{1,128}$/),
    dataEndpoint: endpoint(raw, 'dataEndpoint'),
    credentialsEndpoint: endpoint(raw, 'credentialsEndpoint'),
    timeServers: servers.map(timeServer),
    transport,
    publishService: str(raw, 'publishService', /^(iotdata|iotdevicegateway)$/, 'iotdata'),
    telemetryTopic: str(raw, 'telemetryTopic', /^[^#+\u0000]{1,256}$/, `dt/${thingName}/telemetry`),
    securityTopic: str(raw, 'securityTopic', /^[^#+\u0000]{1,256}$/, `dt/${thingName}/security`),
    sampleIntervalMs: num(raw, 'sampleIntervalMs', 10, 86_400_000, DEFAULT_SAMPLE_INTERVAL_MS),
    healthIntervalMs: num(raw, 'healthIntervalMs', 0, 86_400_000, DEFAULT_AGENT_HEALTH_INTERVAL_MS),
    buildTimeMs: num(raw, 'buildTimeMs', 1_600_000_000_000, 4_102_444_800_000),
    minSources: num(raw, 'minSources', 1, MAX_TIME_SERVERS, 2),
    maxBoundMs: num(raw, 'maxBoundMs', 1, 300_000, 60_000),
    phiPpm: num(raw, 'phiPpm', 0, 100_000, 50),
    sleepPhiPpm: num(raw, 'sleepPhiPpm', 0, 1_000_000, 50_000),
    maxTickStepMs: num(raw, 'maxTickStepMs', 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    securityBlocks: num(raw, 'securityBlocks', 2, 1024, DEFAULT_SECURITY_BLOCKS),
  };
}
