// startDevCloud(options): the whole local cloud in one call, for `npm start`,
// tests and the CLI. Owns the clock, credential store, fault plan and
// observability; restart() stops and starts the servers on the same ports and
// keeps all of those (and the CA).
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { ShiftableClock } from './clock.js';
import { CredentialStore, DEFAULT_SESSION_TOKEN_BYTES, DEFAULT_STORE_CAPACITY, type IssuedCredentials } from './credential-store.js';
import { AedesBroker } from './aedes-broker.js';
import { MosquittoBroker } from './mosquitto-broker.js';
import type { Broker, BrokerKind, BrokerMessageListener } from './broker.js';
import { CredentialsProvider, DEFAULT_CREDENTIAL_LIFETIME_SECONDS, checkLifetime } from './credentials-provider.js';
import { DevCloudError } from './errors.js';
import { FaultPlan, type DropWhen, type FaultTarget, type InjectedStatus, type PauseMode } from './faults.js';
import { Gateway } from './gateway.js';
import { Observability, type CounterSnapshot, type LoggedMessage } from './observability.js';
import { SigV4Verifier } from './sigv4-verifier.js';
import { DEFAULT_STATE_DIR, ensureServerPki, provisionDevice, type ProvisionedDevice, type ServerPki } from './state-dir.js';
import type { KeyType } from './pki.js';
import { AdminApi } from './admin-api.js';
import { isRegion, isRoleAlias } from '../../src/shared/validate.js';
import { JobStore, type JobExecution } from './jobs.js';
import { TufServer, ensureOwnTufRepo, type ServedRepo, type TufRequestRecord } from './tuf-server.js';

import { DEFAULT_JOBS_SERVICES, DEFAULT_MQTT_SERVICES, DEFAULT_PUBLISH_SERVICES, DEFAULT_REGION, DEFAULT_ROLE_ALIAS } from './defaults.js';

export { DEFAULT_MQTT_SERVICES, DEFAULT_PUBLISH_SERVICES, DEFAULT_REGION, DEFAULT_ROLE_ALIAS };

export interface DevCloudOptions {
  /** Bind address of the gateway, credentials provider and broker. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Extra host names/addresses the server certificate must cover (e.g. the LAN address a board uses). */
  hostnames?: string[];
  /** Ports; 0 (default) = ephemeral. */
  gatewayPort?: number;
  credentialsPort?: number;
  brokerPort?: number;
  /** Admin API port (always bound to 127.0.0.1); null = no admin API (default for the programmatic API). */
  adminPort?: number | null;
  stateDir?: string;
  region?: string;
  roleAlias?: string;
  publishServices?: string[];
  mqttServices?: string[];
  credentialLifetimeSeconds?: number;
  broker?: BrokerKind;
  keyType?: KeyType;
  sessionTokenBytes?: number;
  credentialStoreCapacity?: number;
  /** Epoch-ms source under the shiftable clock (tests); default Date.now. */
  timeSource?: () => number;
  /**
   * TUF repository directory (tools/tuf-repo layout) the gateway serves under /tuf/.
   * Default: the dev cloud's own, created in <stateDir>/tuf/repo (keys in <stateDir>/tuf/keys).
   */
  tufRepoDir?: string;
  /** Keys directory of tufRepoDir, if the dev cloud may add and publish targets there. */
  tufKeysDir?: string;
}

export interface DevCloudEndpoints {
  host: string;
  gatewayPort: number;
  credentialsPort: number;
  brokerPort: number;
  adminPort: number | null;
  /** `https://127.0.0.1:<port>` style URLs for clients on this machine. */
  gatewayUrl: string;
  mqttWebSocketUrl: string;
  credentialsUrl: string;
  brokerUrl: string;
  adminUrl: string | null;
  caFile: string;
  region: string;
  roleAlias: string;
  /** `https://127.0.0.1:<gateway>/tuf/metadata/` and `.../tuf/targets/`. */
  tufMetadataUrl: string;
  tufTargetsUrl: string;
  /** The served TUF repository, and its first root (what a device is provisioned with). */
  tufRepoDir: string;
  tufRootFile: string;
  /** IoT Jobs data plane: same host and port as the gateway, signing name iot-jobs-data. */
  jobsUrl: string;
}

function localHost(bindHost: string): string {
  return bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
}

export class DevCloud {
  readonly clock: ShiftableClock;
  readonly store: CredentialStore;
  readonly faults = new FaultPlan();
  readonly observe = new Observability();
  readonly jobs: JobStore;
  readonly tuf: TufServer;
  /** Unshifted time for what the repository writer signs (a clock shift simulates skew, not a new date of signing). */
  private readonly signingNow: () => Date;
  private broker: Broker | null = null;
  private gateway: Gateway;
  private provider: CredentialsProvider;
  private admin: AdminApi | null = null;
  private brokerPort: number;
  private state: 'running' | 'stopped' = 'stopped';
  private readonly host: string;

  /** Use startDevCloud(). */
  constructor(
    readonly options: Required<Omit<DevCloudOptions, 'timeSource' | 'adminPort' | 'tufRepoDir' | 'tufKeysDir'>> & { adminPort: number | null },
    readonly pki: ServerPki,
    timeSource: () => number,
    tufRepo: ServedRepo,
  ) {
    this.host = options.host;
    this.clock = new ShiftableClock(timeSource);
    this.signingNow = () => new Date(timeSource());
    this.jobs = new JobStore(() => this.clock.now());
    this.tuf = new TufServer(tufRepo, this.faults.tuf, () => this.clock.now());
    this.store = new CredentialStore({ capacity: options.credentialStoreCapacity, sessionTokenBytes: options.sessionTokenBytes });
    const verifier = new SigV4Verifier(this.store);
    this.brokerPort = options.brokerPort;
    this.gateway = new Gateway(
      {
        host: options.host,
        port: options.gatewayPort,
        region: options.region,
        publishServices: options.publishServices,
        mqttServices: options.mqttServices,
        jobsServices: DEFAULT_JOBS_SERVICES,
      },
      { pki, clock: this.clock, verifier, broker: () => this.requireBroker(), faults: this.faults, observe: this.observe, tuf: this.tuf, jobs: this.jobs },
    );
    this.provider = new CredentialsProvider(
      { host: options.host, port: options.credentialsPort, roleAlias: options.roleAlias, lifetimeSeconds: options.credentialLifetimeSeconds },
      { pki, clock: this.clock, store: this.store, faults: this.faults, observe: this.observe },
    );
  }

  private requireBroker(): Broker {
    if (this.broker === null) throw new DevCloudError('NOT_RUNNING', 'the broker is not running');
    return this.broker;
  }

  private readonly onBrokerMessage: BrokerMessageListener = (topic, qos, payload, clientId, via) => {
    this.observe.recordMessage(this.clock.now(), via, topic, qos, payload, clientId);
  };

  /** Starts broker, gateway and credentials provider (and the admin API the first time). */
  async startServers(): Promise<void> {
    const brokerOptions = { host: this.host, port: this.brokerPort, onMessage: this.onBrokerMessage };
    this.broker = this.options.broker === 'mosquitto' ? await MosquittoBroker.start(brokerOptions) : await AedesBroker.start(brokerOptions);
    this.brokerPort = this.broker.port;
    await this.gateway.start();
    await this.provider.start();
    if (this.options.adminPort !== null && this.admin === null) {
      this.admin = new AdminApi(this);
      await this.admin.start(this.options.adminPort);
    }
    this.state = 'running';
  }

  private async stopServers(): Promise<void> {
    await this.gateway.stop();
    await this.provider.stop();
    if (this.broker) await this.broker.stop();
    this.broker = null;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  endpoints(): DevCloudEndpoints {
    const h = localHost(this.host);
    const adminPort = this.admin?.port ?? null;
    return {
      host: this.host,
      gatewayPort: this.gateway.port,
      credentialsPort: this.provider.port,
      brokerPort: this.brokerPort,
      adminPort,
      gatewayUrl: `https://${h}:${this.gateway.port}`,
      mqttWebSocketUrl: `wss://${h}:${this.gateway.port}/mqtt`,
      credentialsUrl: `https://${h}:${this.provider.port}/role-aliases/${encodeURIComponent(this.options.roleAlias)}/credentials`,
      brokerUrl: `mqtt://${h}:${this.brokerPort}`,
      adminUrl: adminPort === null ? null : `http://127.0.0.1:${adminPort}`,
      caFile: this.pki.caFile,
      region: this.options.region,
      roleAlias: this.options.roleAlias,
      tufMetadataUrl: `https://${h}:${this.gateway.port}/tuf/metadata/`,
      tufTargetsUrl: `https://${h}:${this.gateway.port}/tuf/targets/`,
      tufRepoDir: this.tuf.repo.dir,
      tufRootFile: this.tuf.rootFile(),
      jobsUrl: `https://${h}:${this.gateway.port}`,
    };
  }

  // ---- TUF repository --------------------------------------------------

  /** Serve another repository directory (e.g. one the release tool publishes into); keysDir lets addTufTarget() sign there. */
  serveTufRepo(dir: string, keysDir: string | null = null): void {
    this.tuf.serve({ dir, keysDir });
  }

  /** Stages a target with custom fields in the served repository and (by default) publishes: new targets, snapshot, timestamp. */
  addTufTarget(
    name: string,
    content: Uint8Array,
    custom?: Record<string, unknown>,
    publish = true,
  ): { name: string; length: number; sha256: string; versions: Record<'targets' | 'snapshot' | 'timestamp', number> | null } {
    const repo = this.tuf.writer(this.signingNow);
    const staged = repo.addTarget(name, content, custom);
    const versions = publish ? repo.publish() : null;
    return { name, length: staged.length, sha256: staged.sha256, versions };
  }

  /** Publishes the served repository (new timestamp always; targets and snapshot when changed, or when bumped). */
  publishTuf(bump: Array<'targets' | 'snapshot'> = []): Record<'targets' | 'snapshot' | 'timestamp', number> {
    return this.tuf.writer(this.signingNow).publish({ bump });
  }

  /** Captures the timestamp.json served now, for setTufFault({ kind: 'replay-timestamp' }) later. Returns its version. */
  captureTimestamp(): number {
    return this.tuf.captureTimestamp();
  }

  /** Arms one TUF fault (until clearFaults() / clearTufFaults()). */
  setTufFault(
    f:
      | { kind: 'tamper-target'; match?: string }
      | { kind: 'withhold-snapshot' }
      | { kind: 'replay-timestamp' }
      | { kind: 'endless'; match?: string }
      | { kind: 'slow'; bytesPerSecond: number; match?: string },
  ): void {
    const t = this.faults.tuf;
    switch (f.kind) {
      case 'tamper-target':
        return t.setTamperTarget(f.match);
      case 'withhold-snapshot':
        return t.setWithholdSnapshot(true);
      case 'replay-timestamp':
        return t.setReplayTimestamp(true);
      case 'endless':
        return t.setEndless(f.match);
      case 'slow':
        return t.setSlow(f.bytesPerSecond, f.match);
      default:
        throw new RangeError(`unknown TUF fault ${JSON.stringify((f as { kind: unknown }).kind)}`);
    }
  }

  clearTufFaults(): void {
    this.faults.tuf.clear();
  }

  /** Requests to /tuf/ with index >= since (path, range, status, fault). */
  tufRequests(since = 0): TufRequestRecord[] {
    return this.tuf.requests(since);
  }

  // ---- IoT Jobs ----------------------------------------------------------

  /** Queues a job for one thing. An object document is sent as its JSON text (AWS keeps documents as strings). */
  createJob(thingName: string, document: string | object, jobId?: string): JobExecution {
    return this.jobs.create(thingName, typeof document === 'string' ? document : JSON.stringify(document), jobId);
  }

  jobExecution(thingName: string, jobId: string): JobExecution | undefined {
    return this.jobs.get(thingName, jobId);
  }

  jobExecutions(thingName?: string): JobExecution[] {
    return this.jobs.list(thingName);
  }

  /** Writes a device certificate, key and provisioning JSON (see state-dir.ts). */
  provision(thingName: string, endpoint = localHost(this.host)): Promise<ProvisionedDevice> {
    return provisionDevice(
      this.options.stateDir,
      {
        thingName,
        region: this.options.region,
        roleAlias: this.options.roleAlias,
        endpoint,
        gatewayPort: this.gateway.port,
        credentialsPort: this.provider.port,
        publishService: this.options.publishServices[0] ?? 'iotdata',
      },
      this.options.keyType,
    );
  }

  // ---- fault injection -------------------------------------------------

  failNext(status: InjectedStatus, count: number, target: FaultTarget | 'any' = 'publish'): void {
    this.faults.failNext(status, count, target);
  }

  dropNext(count: number, when: DropWhen = 'before', target: FaultTarget | 'any' = 'publish'): void {
    this.faults.dropNext(count, when, target);
  }

  /** Cuts every open gateway connection now (MQTT sessions included). */
  cutConnections(): number {
    return this.gateway.cutConnections();
  }

  pause(mode: PauseMode = 'refuse'): Promise<void> {
    if (mode !== 'refuse' && mode !== 'hang') throw new RangeError("pause mode must be 'refuse' or 'hang'");
    return this.gateway.pause(mode);
  }

  resume(): Promise<void> {
    return this.gateway.resume();
  }

  /** Stops and starts broker, gateway and provider on the same ports; CA, credentials, counters and log survive. */
  async restart(): Promise<void> {
    if (this.state !== 'running') throw new DevCloudError('NOT_RUNNING', 'restart() needs a running dev cloud');
    await this.stopServers();
    await this.startServers();
  }

  /** The gateway's and provider's clock = host clock + shiftMs (simulates device/cloud skew). */
  shiftClock(shiftMs: number): void {
    this.clock.setShiftMs(shiftMs);
  }

  /** Expires one access key (or all) now. Returns how many were still valid. */
  expireCredentials(accessKeyId?: string): number {
    return this.store.expire(this.clock.now(), accessKeyId);
  }

  /** Lifetime of credentials issued from now on. */
  setCredentialLifetime(seconds: number): void {
    checkLifetime(seconds);
    this.provider.lifetimeSeconds = seconds;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  // ---- observability ---------------------------------------------------

  counters(): CounterSnapshot {
    return this.observe.counters();
  }

  messages(since = 0): LoggedMessage[] {
    return this.observe.messages(since);
  }

  credentials(accessKeyId: string): IssuedCredentials | undefined {
    return this.store.get(accessKeyId);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' && this.admin === null) return;
    this.state = 'stopped';
    if (this.admin) await this.admin.stop();
    this.admin = null;
    await this.stopServers();
  }
}

function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') out.push(a.address);
  return out;
}

function nonEmptyList(name: string, v: string[]): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || !/^[a-z0-9-]{1,64}$/.test(s))) {
    throw new DevCloudError('BAD_OPTION', `${name} must be a non-empty list of lower-case signing names`);
  }
  return v;
}

function port(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new DevCloudError('BAD_OPTION', `${name} must be an integer port in [0, 65535]`);
  return v;
}

/** Starts the dev cloud. Everything binds to `host` (default 127.0.0.1) on ephemeral ports unless told otherwise. */
export async function startDevCloud(options: DevCloudOptions = {}): Promise<DevCloud> {
  const broker = options.broker ?? 'aedes';
  if (broker !== 'aedes' && broker !== 'mosquitto') throw new DevCloudError('BAD_OPTION', "broker must be 'aedes' or 'mosquitto'");
  const keyType = options.keyType ?? 'rsa';
  if (keyType !== 'rsa' && keyType !== 'ec') throw new DevCloudError('BAD_OPTION', "keyType must be 'rsa' or 'ec'");
  const lifetime = options.credentialLifetimeSeconds ?? DEFAULT_CREDENTIAL_LIFETIME_SECONDS;
  try {
    checkLifetime(lifetime);
  } catch (e) {
    throw new DevCloudError('BAD_OPTION', (e as Error).message);
  }
  const resolved = {
    host: options.host ?? '127.0.0.1',
    hostnames: options.hostnames ?? [],
    gatewayPort: port('gatewayPort', options.gatewayPort ?? 0),
    credentialsPort: port('credentialsPort', options.credentialsPort ?? 0),
    brokerPort: port('brokerPort', options.brokerPort ?? 0),
    adminPort: options.adminPort === undefined || options.adminPort === null ? null : port('adminPort', options.adminPort),
    stateDir: resolve(options.stateDir ?? DEFAULT_STATE_DIR),
    region: options.region ?? DEFAULT_REGION,
    roleAlias: options.roleAlias ?? DEFAULT_ROLE_ALIAS,
    publishServices: nonEmptyList('publishServices', options.publishServices ?? [...DEFAULT_PUBLISH_SERVICES]),
    mqttServices: nonEmptyList('mqttServices', options.mqttServices ?? [...DEFAULT_MQTT_SERVICES]),
    credentialLifetimeSeconds: lifetime,
    broker,
    keyType,
    sessionTokenBytes: options.sessionTokenBytes ?? DEFAULT_SESSION_TOKEN_BYTES,
    credentialStoreCapacity: options.credentialStoreCapacity ?? DEFAULT_STORE_CAPACITY,
  };
  if (!isRegion(resolved.region)) throw new DevCloudError('BAD_OPTION', `region ${JSON.stringify(resolved.region)} is not an AWS region name`);
  if (!isRoleAlias(resolved.roleAlias)) throw new DevCloudError('BAD_OPTION', `roleAlias ${JSON.stringify(resolved.roleAlias)} must be 1..128 characters of [A-Za-z0-9_=,@-]`);
  // Bound to all interfaces: the certificate also covers this machine's LAN addresses, so a board can use them.
  const allInterfaces = resolved.host === '0.0.0.0' || resolved.host === '::';
  const extraHosts = allInterfaces ? [...lanAddresses(), ...resolved.hostnames] : resolved.host === '127.0.0.1' ? resolved.hostnames : [resolved.host, ...resolved.hostnames];
  const pki = await ensureServerPki(resolved.stateDir, extraHosts, keyType);
  const timeSource = options.timeSource ?? Date.now;
  const tufRepo: ServedRepo =
    options.tufRepoDir === undefined
      ? ensureOwnTufRepo(resolved.stateDir, () => new Date(timeSource()))
      : { dir: resolve(options.tufRepoDir), keysDir: options.tufKeysDir === undefined ? null : resolve(options.tufKeysDir) };
  const cloud = new DevCloud(resolved, pki, timeSource, tufRepo);
  try {
    await cloud.startServers();
  } catch (e) {
    await cloud.stop().catch(() => {});
    throw e;
  }
  return cloud;
}
