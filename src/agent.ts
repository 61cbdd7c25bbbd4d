// The device agent: secure time first, then credentials, then the uploader.
//
// Portable: it is built from ports only, so the same code runs on a board
// (src/main.ts with Moddable adapters), on the virtual device (XS engine with
// I/O bridged to Node) and in Node tests. Bring-up order and why:
//   1. time     SNTP rounds against several servers; until a majority agrees
//               the clock is UNTRUSTED and nothing is signed.
//   2. creds    the credentials provider uses mutual TLS (no SigV4), so it
//               works before time is trusted; its Date header is a time vote.
//   3. uploader drains the flash queues through the fail-closed gate.
// Telemetry is sampled into the queue from the start, whatever the state:
// data waits in flash until it can be signed and sent.
import { SecureClock, SntpClient, TimeSync, type ClockState, type SntpServer, type TimeReading } from './time/index.js';
import { CredentialsClient } from './credentials/index.js';
import { PersistentQueue } from './telemetry/queue.js';
import { Uploader, type UploaderHealth } from './telemetry/uploader.js';
import { HttpsPublishTransport } from './telemetry/https-transport.js';
import { MqttWsTransport } from './telemetry/mqtt-transport.js';
import type { PublishTransport, WebSocketPort } from './telemetry/deps.js';
import { FlashRegion } from './agent/flash-region.js';
import { IotRequestSigner } from './agent/request-signer.js';
import { AgentError } from './agent/errors.js';
import { parseAgentConfig, type AgentConfig } from './agent/config.js';
import type { FlashPort, HttpPort, KeyValuePort, RandomPort, Sha256Factory, TickSource, TimerPort, UdpPort } from './ports.js';

export { AgentError, parseAgentConfig, type AgentConfig };

export type Metrics = Record<string, number | string | boolean | null>;

export interface AgentPorts {
  ticks: TickSource;
  timers: TimerPort;
  random: RandomPort;
  udp: UdpPort;
  http: HttpPort;
  websocket?: WebSocketPort | null;
  flash: FlashPort;
  kv: KeyValuePort;
  sha256?: Sha256Factory;
  /** The device log (trace on a board). Never receives secrets. */
  log: (line: string) => void;
  /** Board sensors or internal metrics (heap, RSSI); uptime is added by the agent. */
  sample?: () => Metrics;
}

export interface AgentStatus {
  uptimeMs: number;
  generated: number;
  sampleErrors: number;
  time: TimeReading;
  health: UploaderHealth;
}

const STREAM_TELEMETRY = 'telemetry';
const STREAM_SECURITY = 'security';
/** Longest telemetry payload the agent produces (a sample is a few hundred bytes). */
const MAX_SAMPLE_BYTES = 1024;

export class Agent {
  readonly config: AgentConfig;
  private readonly ports: AgentPorts;
  readonly clock: SecureClock;
  private readonly sync: TimeSync;
  readonly credentials: CredentialsClient;
  readonly uploader: Uploader;
  private readonly sampleBytes = new Uint8Array(MAX_SAMPLE_BYTES);
  private readonly bootMono: number;
  private sampleTimer: unknown = null;
  private sampling = false;
  private generated = 0;
  private sampleErrors = 0;
  private lastState: ClockState | null = null;
  private lastGate: string | null = null;

  constructor(ports: AgentPorts, rawConfig: unknown) {
    const config = parseAgentConfig(rawConfig);
    this.config = config;
    this.ports = ports;
    const log = ports.log;

    // 1. Secure time.
    let resync = (): void => {};
    this.clock = new SecureClock({
      ticks: ports.ticks,
      buildTimeMs: config.buildTimeMs,
      store: ports.kv,
      phiPpm: config.phiPpm,
      sleepPhiPpm: config.sleepPhiPpm,
      minSources: config.minSources,
      maxBoundMs: config.maxBoundMs,
      maxTickStepMs: config.maxTickStepMs,
      onResyncNeeded: (reason) => {
        log(`time: resync needed (${reason})`);
        resync();
      },
    });
    this.bootMono = this.clock.monoNow();
    const servers: SntpServer[] = config.timeServers;
    const sntp = new SntpClient({ udp: ports.udp, timers: ports.timers, random: ports.random, clock: this.clock, servers });
    this.sync = new TimeSync({
      sntp,
      timers: ports.timers,
      random: ports.random,
      onRound: (outcomes) => {
        const bad = outcomes.filter((o) => o.verdict !== 'accepted').map((o) => `${o.server} ${o.verdict} ${o.reason}`);
        if (bad.length) log(`time: round: ${bad.join('; ')}`);
        this.logTimeState();
      },
    });
    resync = () => this.sync.resync();

    // 2. Credentials (mutual TLS, no signature).
    this.credentials = new CredentialsClient({
      http: ports.http,
      host: config.credentialsEndpoint.host,
      port: config.credentialsEndpoint.port,
      roleAlias: config.roleAlias,
      thingName: config.thingName,
      clock: this.clock,
      timer: ports.timers,
      random: ports.random,
      onEvent: (e) => log(`credentials: ${JSON.stringify(e)}`),
    });

    // 3. Queues on disjoint flash regions, and the uploader.
    const blocks = ports.flash.blockCount;
    const securityBlocks = config.securityBlocks;
    if (blocks < securityBlocks + 2) throw new AgentError('bad-config', `flash has ${blocks} blocks; need at least ${securityBlocks + 2}`);
    const telemetryQueue = new PersistentQueue(new FlashRegion(ports.flash, 0, blocks - securityBlocks), { whenFull: 'drop-oldest' });
    const securityQueue = new PersistentQueue(new FlashRegion(ports.flash, blocks - securityBlocks, securityBlocks), { whenFull: 'reject-new' });
    const dataHost = config.dataEndpoint.port === 443 ? config.dataEndpoint.host : `${config.dataEndpoint.host}:${config.dataEndpoint.port}`;
    const signer = new IotRequestSigner({ endpoint: dataHost, region: config.region, publishService: config.publishService, sha256: ports.sha256 });
    let transport: PublishTransport;
    if (config.transport === 'mqtt') {
      if (!ports.websocket) throw new AgentError('unsupported', 'transport mqtt needs a WebSocket port on this platform');
      transport = new MqttWsTransport({ ws: ports.websocket, timer: ports.timers, signer, clientId: config.thingName, clock: this.clock });
    } else {
      transport = new HttpsPublishTransport({ http: ports.http, signer, host: config.dataEndpoint.host, port: config.dataEndpoint.port, clock: this.clock });
    }
    this.uploader = new Uploader({
      deviceId: config.thingName,
      streams: [
        // Security events first: they are rare and must not wait behind telemetry.
        { name: STREAM_SECURITY, queue: securityQueue, topic: config.securityTopic },
        { name: STREAM_TELEMETRY, queue: telemetryQueue, topic: config.telemetryTopic },
      ],
      healthStream: STREAM_TELEMETRY,
      transport,
      clock: this.clock,
      credentials: this.credentials,
      timer: ports.timers,
      random: ports.random,
      maxBoundMs: config.maxBoundMs,
      healthIntervalMs: config.healthIntervalMs,
    });
  }

  start(): void {
    const c = this.config;
    this.ports.log(`agent: ${c.thingName} starting; time servers ${c.timeServers.map((s) => `${s.address}:${s.port}`).join(' ')}; ${c.transport} to ${c.dataEndpoint.host}:${c.dataEndpoint.port}`);
    this.logTimeState();
    this.sync.start();
    this.credentials.start();
    this.uploader.start();
    this.sampling = true;
    this.scheduleSample();
  }

  stop(): void {
    this.stopSampling();
    this.uploader.stop();
    this.credentials.stop();
    this.sync.stop();
  }

  stopSampling(): void {
    this.sampling = false;
    if (this.sampleTimer !== null) this.ports.timers.clear(this.sampleTimer);
    this.sampleTimer = null;
  }

  /** Queues a telemetry record now (besides the periodic samples). Returns its sequence number, or -1 when refused (counted). */
  telemetry(metrics: Metrics): number {
    return this.append(STREAM_TELEMETRY, metrics);
  }

  /** Queues a security event (never dropped for telemetry: its queue rejects new records when full, counted). */
  securityEvent(kind: string, detail: Metrics = {}): number {
    return this.append(STREAM_SECURITY, { event: kind, ...detail });
  }

  status(): AgentStatus {
    const health = this.uploader.health();
    if (health.lastFailClosed !== this.lastGate) {
      this.lastGate = health.lastFailClosed;
      if (this.lastGate !== null) this.ports.log(`uploader: holding data back: ${this.lastGate}`);
    }
    this.logTimeState();
    return {
      uptimeMs: this.clock.monoNow() - this.bootMono,
      generated: this.generated,
      sampleErrors: this.sampleErrors,
      time: this.clock.now(),
      health,
    };
  }

  private logTimeState(): void {
    const t = this.clock.now();
    if (t.state !== this.lastState) {
      this.lastState = t.state;
      this.ports.log(`time: ${t.state}${Number.isFinite(t.bound) ? ` ±${Math.round(t.bound)} ms` : ''}`);
    }
  }

  private scheduleSample(): void {
    if (!this.sampling) return;
    this.sampleTimer = this.ports.timers.set(() => {
      this.sampleTimer = null;
      this.sample();
      this.scheduleSample();
    }, this.config.sampleIntervalMs);
  }

  private sample(): void {
    const t = this.clock.now();
    const trusted = t.state === 'SYNCED' || t.state === 'FREE_RUNNING';
    let metrics: Metrics = {};
    try {
      metrics = this.ports.sample ? this.ports.sample() : {};
    } catch {
      this.sampleErrors++;
    }
    // The sample's time is the secure clock's interval, or none: never a guess.
    this.append(STREAM_TELEMETRY, {
      uptimeMs: this.clock.monoNow() - this.bootMono,
      timeEarliest: trusted ? Math.floor(t.earliest) : null,
      timeLatest: trusted ? Math.ceil(t.latest) : null,
      ...metrics,
    });
  }

  private append(stream: string, record: Metrics): number {
    const text = JSON.stringify(record);
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7e || n >= this.sampleBytes.length) {
        this.sampleErrors++;
        return -1; // metrics are ASCII by construction; anything else is a bug upstream, counted
      }
      this.sampleBytes[n++] = c;
    }
    const seq = this.uploader.append(stream, this.sampleBytes.subarray(0, n));
    if (stream === STREAM_TELEMETRY) this.generated++;
    return seq;
  }
}
