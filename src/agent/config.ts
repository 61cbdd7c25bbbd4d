// The agent's configuration: provisioning data (endpoint, region, role alias,
// thing name, time servers) and board settings (drift rates, flash split).
// Parsed strictly: a bad field is an AgentError naming it, before anything starts.
import { AgentError } from './errors.js';
import type { SntpServer } from '../time/index.js';
import * as v from '../shared/validate.js';
import { DEFAULT_NTP_PORT } from '../shared/validate.js';
import { MAX_ROOT_BYTES } from '../update/limits.js';
import { isJobTargetPath, MAX_JOB_TARGETS } from './job-document.js';
import type { UpdateConfig } from './updates.js';

export type Endpoint = v.HostPort;

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
  /**
   * Accept a random port that is not cryptographically strong (libc rand() on
   * Pico W and the simulator). Predictable SNTP nonces let an off-path
   * attacker spoof time: never set on a production build. Logged at boot and
   * shown in status().
   */
  developmentMode: boolean;
  /** Signed updates (src/agent/updates.ts); null: off. */
  update: UpdateConfig | null;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 60_000;
export const DEFAULT_AGENT_HEALTH_INTERVAL_MS = 60_000;
export const DEFAULT_SECURITY_BLOCKS = 2;
export const DEFAULT_MIN_SOURCES = 2;
export { DEFAULT_NTP_PORT };
/** At most this many time servers (the selection is bounded too). */
export const MAX_TIME_SERVERS = 8;
/** Default interval of the periodic update check and of job polling. */
export const DEFAULT_UPDATE_CHECK_INTERVAL_MS = 3_600_000;
export const DEFAULT_JOBS_INTERVAL_MS = 60_000;
export const DEFAULT_SELF_TEST_TIMEOUT_MS = 120_000;
export const DEFAULT_UPDATE_FETCH_DEADLINE_MS = 20_000;
/** Target paths a device watches (applied when their trusted hash changes). */
export const MAX_WATCH_PATHS = 4;
/** Provenance fields the policy may require. */
export const MAX_REQUIRED_PROVENANCE = 8;

type Raw = Record<string, unknown>;

const fail: v.Fail = (path, why) => {
  throw new AgentError('bad-config', `${path}: ${why}`);
};

const at = (field: string): string => `config.${field}`;

function timeServers(value: unknown): SntpServer[] {
  const path = at('timeServers');
  const servers = v.list(value, path, 1, MAX_TIME_SERVERS, fail).map((s, i) => v.timeServer(s, `${path}[${i}]`, fail, DEFAULT_NTP_PORT));
  // The same server twice would count as two agreeing sources. (One address
  // on several ports is allowed: local test servers all live on loopback.)
  for (let i = 1; i < servers.length; i++) {
    for (let j = 0; j < i; j++) {
      if (servers[i]!.address === servers[j]!.address && servers[i]!.port === servers[j]!.port) fail(`${path}[${i}]`, `same server as ${path}[${j}]`);
    }
  }
  return servers;
}

/** A repository path prefix: absolute, ending with `/`, printable ASCII. */
function pathPrefix(value: unknown, path: string): string {
  const p = v.requiredString(value, path, fail);
  if (!(p.startsWith('/') && p.endsWith('/') && p.length <= 256 && /^[\x21-\x7e]+$/.test(p))) fail(path, 'must be an absolute path ending with /');
  return p;
}

/** A short name of the policy (hardware model, channel, provenance field): printable ASCII without spaces. */
function policyName(value: unknown, path: string): string {
  const s = v.requiredString(value, path, fail);
  if (!(s.length <= 64 && /^[\x21-\x7e]+$/.test(s))) fail(path, 'must be 1 to 64 printable ASCII characters');
  return s;
}

function updateConfig(value: unknown, dataEndpoint: Endpoint): UpdateConfig | null {
  if (v.isMissing(value)) return null;
  const path = at('update');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  const raw = value as Raw;
  const known = ['repository', 'metadataPath', 'targetsPath', 'jobsEndpoint', 'jobs', 'hardwareModel', 'channel', 'checkIntervalMs', 'jobsIntervalMs', 'requireProvenance', 'watch', 'selfTestTimeoutMs', 'rootJson', 'fetchDeadlineMs'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) fail(`${path}.${k}`, 'unknown field');
  const watch = v.list(raw.watch ?? [], `${path}.watch`, 0, MAX_WATCH_PATHS, fail).map((w, i) => {
    if (!isJobTargetPath(w)) fail(`${path}.watch[${i}]`, 'must be a relative target path');
    return w as string;
  });
  const rootJson = raw.rootJson === undefined || raw.rootJson === null ? null : v.requiredString(raw.rootJson, `${path}.rootJson`, fail);
  if (rootJson !== null && rootJson.length > MAX_ROOT_BYTES) fail(`${path}.rootJson`, `longer than ${MAX_ROOT_BYTES}`);
  const jobsOn = v.boolean(raw.jobs ?? true, `${path}.jobs`, fail);
  return {
    repository: v.endpoint(raw.repository ?? dataEndpoint, `${path}.repository`, fail),
    metadataPath: pathPrefix(raw.metadataPath ?? '/tuf/metadata/', `${path}.metadataPath`),
    targetsPath: pathPrefix(raw.targetsPath ?? '/tuf/targets/', `${path}.targetsPath`),
    // The Jobs data plane: the data endpoint unless given (the dev cloud serves both on its gateway).
    jobsEndpoint: jobsOn ? v.endpoint(raw.jobsEndpoint ?? dataEndpoint, `${path}.jobsEndpoint`, fail) : null,
    hardwareModel: policyName(raw.hardwareModel, `${path}.hardwareModel`),
    channel: policyName(raw.channel, `${path}.channel`),
    checkIntervalMs: v.integerInRange(raw.checkIntervalMs ?? DEFAULT_UPDATE_CHECK_INTERVAL_MS, `${path}.checkIntervalMs`, 1000, 7 * 86_400_000, fail),
    jobsIntervalMs: v.integerInRange(raw.jobsIntervalMs ?? DEFAULT_JOBS_INTERVAL_MS, `${path}.jobsIntervalMs`, 500, 86_400_000, fail),
    requireProvenance: v.list(raw.requireProvenance ?? [], `${path}.requireProvenance`, 0, MAX_REQUIRED_PROVENANCE, fail).map((p, i) => policyName(p, `${path}.requireProvenance[${i}]`)),
    watch,
    selfTestTimeoutMs: v.integerInRange(raw.selfTestTimeoutMs ?? DEFAULT_SELF_TEST_TIMEOUT_MS, `${path}.selfTestTimeoutMs`, 1000, 3_600_000, fail),
    rootJson,
    fetchDeadlineMs: v.integerInRange(raw.fetchDeadlineMs ?? DEFAULT_UPDATE_FETCH_DEADLINE_MS, `${path}.fetchDeadlineMs`, 100, 300_000, fail),
  };
}

export function parseAgentConfig(input: unknown): AgentConfig {
  if (v.isMissing(input)) fail('config', 'required');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('config', 'must be an object');
  const raw = input as Raw;
  const thingName = v.thingName(raw.thingName, at('thingName'), fail);
  const servers = timeServers(raw.timeServers);
  const minSources = v.integerInRange(raw.minSources ?? DEFAULT_MIN_SOURCES, at('minSources'), 1, MAX_TIME_SERVERS, fail);
  if (minSources > servers.length) fail(at('minSources'), `must be at most the number of time servers (${servers.length})`);
  const dataEndpoint = v.endpoint(raw.dataEndpoint, at('dataEndpoint'), fail);
  return {
    thingName,
    region: v.region(raw.region, at('region'), fail),
    roleAlias: v.roleAlias(raw.roleAlias, at('roleAlias'), fail),
    dataEndpoint,
    credentialsEndpoint: v.endpoint(raw.credentialsEndpoint, at('credentialsEndpoint'), fail),
    timeServers: servers,
    transport: v.oneOf(raw.transport ?? 'https', at('transport'), ['https', 'mqtt'], fail),
    publishService: v.oneOf(raw.publishService ?? 'iotdata', at('publishService'), ['iotdata', 'iotdevicegateway'], fail),
    telemetryTopic: v.topic(raw.telemetryTopic ?? `dt/${thingName}/telemetry`, at('telemetryTopic'), fail),
    securityTopic: v.topic(raw.securityTopic ?? `dt/${thingName}/security`, at('securityTopic'), fail),
    sampleIntervalMs: v.numberInRange(raw.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS, at('sampleIntervalMs'), 10, 86_400_000, fail),
    healthIntervalMs: v.numberInRange(raw.healthIntervalMs ?? DEFAULT_AGENT_HEALTH_INTERVAL_MS, at('healthIntervalMs'), 0, 86_400_000, fail),
    buildTimeMs: v.numberInRange(raw.buildTimeMs, at('buildTimeMs'), 1_600_000_000_000, 4_102_444_800_000, fail),
    minSources,
    maxBoundMs: v.numberInRange(raw.maxBoundMs ?? 60_000, at('maxBoundMs'), 1, 300_000, fail),
    phiPpm: v.numberInRange(raw.phiPpm ?? 50, at('phiPpm'), 0, 100_000, fail),
    sleepPhiPpm: v.numberInRange(raw.sleepPhiPpm ?? 50_000, at('sleepPhiPpm'), 0, 1_000_000, fail),
    maxTickStepMs: v.numberInRange(raw.maxTickStepMs ?? Number.MAX_SAFE_INTEGER, at('maxTickStepMs'), 1, Number.MAX_SAFE_INTEGER, fail),
    securityBlocks: v.integerInRange(raw.securityBlocks ?? DEFAULT_SECURITY_BLOCKS, at('securityBlocks'), 2, 1024, fail),
    developmentMode: v.boolean(raw.developmentMode ?? false, at('developmentMode'), fail),
    update: updateConfig(raw.update, dataEndpoint),
  };
}
