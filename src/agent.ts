// The device agent: secure time first, then credentials, then the uploader.
//
// Portable: it is built from ports only, so the same code runs on a board
// (src/platform/moddable/main-entry.ts with Moddable adapters), on the
// virtual device (XS engine with I/O bridged to Node) and in Node tests.
// Bring-up order and why:
//   1. time     SNTP rounds against several servers; until a majority agrees
//               the clock is UNTRUSTED and nothing is signed.
//   2. creds    the credentials provider uses mutual TLS (no SigV4), so it
//               works before time is trusted; its Date header is a time vote.
//               Except on a platform whose TLS checks certificate dates
//               against a system clock that starts at 1970 (boards: a
//               SystemClockPort with requiredBeforeTls): there the agent sets
//               that clock from the first SYNCED reading and only then starts
//               the credentials client and the uploader (no TLS before it).
//   3. uploader drains the flash queues, holding data back while it cannot sign (fail-closed).
// With a SystemClockPort, system time is set after every SNTP round that ends
// SYNCED (the secure clock's midpoint), so it follows resyncs.
// Telemetry is sampled into the queue from the start, whatever the state:
// data waits in flash until it can be signed and sent.
import { SecureClock, SntpClient, TimeSync, type ClockState, type SntpServer, type ClockReading } from './time/index.js';
import { CredentialsClient } from './credentials/index.js';
import { PersistentQueue } from './telemetry/queue.js';
import { QueueReopener } from './telemetry/queue-reopen.js';
import { Uploader, type UploaderHealth } from './telemetry/uploader.js';
import { HttpsPublishTransport } from './telemetry/https-transport.js';
import { MqttWsTransport } from './telemetry/mqtt-transport.js';
import type { PublishTransport } from './telemetry/deps.js';
import { FlashRegion, geometryChangeOf, migrateAgentFlash } from './agent/flash-region.js';
import { IotRequestSigner } from './sigv4/iot-request-signer.js';
import { AgentError } from './agent/errors.js';
import { parseAgentConfig, type AgentConfig } from './agent/config.js';
import { UpdateService, type UpdateHealth } from './agent/updates.js';
import { JobsClient } from './agent/jobs-client.js';
import { HttpRepositoryFetch } from './update/http-fetch.js';
import { parseConfigBundle, type CompiledLimits, type ConfigOverlay } from './update/config-bundle.js';
import { utf8Bytes } from './shared/utf8.js';
import type { SignatureVerifier } from './update/ports.js';
import { Sha256HashPort } from './update/hash-sha256.js';
import type { FirmwarePort, FlashPort, HttpPort, KeyValuePort, RandomPort, Sha256Factory, SystemClockPort, TickSource, TimerPort, UdpPort, WebSocketPort } from './ports.js';

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
  /** The platform clock TLS checks certificates against; set from the secure clock (see the bring-up order above). */
  systemClock?: SystemClockPort | null;
  /** A/B firmware slots and reboot (signed updates); without it the agent applies config bundles only. */
  firmware?: FirmwarePort | null;
  /** TUF signature verification (updates): required when the config has \`update\`. */
  signatureVerifier?: SignatureVerifier | null;
}

export interface AgentStatus {
  uptimeMs: number;
  generated: number;
  sampleErrors: number;
  /** Records telemetry()/securityEvent()/a sample could not queue (full, too large, queue failed): each returned -1. */
  appendRefused: number;
  /** Flash exceptions that failed a queue (any caller: agent, uploader). */
  queueErrors: number;
  /** Queues brought back by a reopen (recovery scan again) after a failure. */
  queueReopens: number;
  time: ClockReading;
  health: UploaderHealth;
  /** The config's development mode (a weak random port accepted): never true on a production device. */
  developmentMode: boolean;
  /** System clock sets that succeeded / threw (0 / 0 without a SystemClockPort). */
  systemClockSets: number;
  systemClockErrors: number;
  /** False while the agent waits for trusted time before its first TLS connection. */
  networkStarted: boolean;
  /** Signed updates (null when config.update is absent). */
  update: UpdateHealth | null;
}

const STREAM_TELEMETRY = 'telemetry';
const STREAM_SECURITY = 'security';
/** Longest telemetry payload the agent produces (a sample is a few hundred bytes). */
const MAX_SAMPLE_BYTES = 1024;

function compiledLimits(c: AgentConfig): CompiledLimits {
  return { sampleIntervalMs: c.sampleIntervalMs, healthIntervalMs: c.healthIntervalMs, minSources: c.minSources, maxBoundMs: c.maxBoundMs, phiPpm: c.phiPpm };
}

/**
 * The config with the applied bundle's overlay (kv), re-validated against
 * this firmware's compiled limits (a new firmware may have tightened them):
 * an overlay that no longer passes is ignored, the compiled config runs.
 */
function withStoredOverlay(raw: unknown, compiled: AgentConfig, kv: KeyValuePort, log: (line: string) => void): AgentConfig {
  if (compiled.update === null) return compiled;
  const overlay = UpdateService.storedOverlay(kv);
  if (overlay === null) return compiled;
  try {
    const checked = parseConfigBundle(utf8Bytes(JSON.stringify(overlay)), compiledLimits(compiled));
    return parseAgentConfig({ ...(raw as Record<string, unknown>), ...checked });
  } catch (e) {
    log(`update: stored config bundle ignored: ${(e as Error)?.message ?? 'invalid'}`);
    return compiled;
  }
}

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
  private appendRefused = 0;
  private readonly queues: Record<string, PersistentQueue>;
  private readonly reopener: QueueReopener;
  private lastState: ClockState | null = null;
  private lastHold: string | null = null;
  private running = false;
  private networkStarted = false;
  private systemClockSets = 0;
  private systemClockErrors = 0;
  /** The sampling interval now (a verified config bundle changes it at once). */
  private sampleIntervalMs: number;
  readonly updates: UpdateService | null = null;

  constructor(ports: AgentPorts, rawConfig: unknown) {
    const log = ports.log;
    const compiled = parseAgentConfig(rawConfig);
    const config = withStoredOverlay(rawConfig, compiled, ports.kv, log);
    // The SNTP nonce is the only defence against off-path time spoofing: a
    // predictable random source is accepted only when the build says so.
    const strong = ports.random.strong === true;
    if (!strong && !config.developmentMode) {
      throw new AgentError('weak-random', 'the random port is not cryptographically strong; set config.developmentMode to run anyway (never in production)');
    }
    if (config.developmentMode) {
      log(`agent: WARNING: DEVELOPMENT MODE: ${strong ? 'random port is strong, but' : 'random port is NOT cryptographically strong (SNTP nonces are predictable);'} not for production`);
    }
    this.config = config;
    this.ports = ports;
    this.sampleIntervalMs = config.sampleIntervalMs;

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
        this.updateSystemClock();
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
    // A firmware update may change the flash geometry: the adapter then keeps
    // the old image and offers it; its records move into the new layout
    // before the queues open (the old image stays until the copy is durable).
    const change = geometryChangeOf(ports.flash);
    if (change !== null) {
      log(`flash: geometry changed from ${change.from.blockCount} to ${blocks} blocks of ${change.from.blockSize} bytes: migrating the queues`);
      const moved = migrateAgentFlash(change.from, change.to, securityBlocks);
      change.commit();
      log(`flash: migrated: ${moved.map((m) => `${m.queue} ${m.live} live, ${m.deadLetters} dead letters, ${m.dropped} dropped (no room), ${m.corrupt} corrupt, next seq ${m.nextSeq}`).join('; ')}`);
    }
    // Failed queues come back with backoff; the agent's samples and the
    // uploader go on meanwhile (refusals are counted, nothing throws).
    this.reopener = new QueueReopener({
      queues: [],
      timer: ports.timers,
      random: ports.random,
      onAttempt: (i, ok) => {
        log(`queue: ${i === 0 ? STREAM_TELEMETRY : STREAM_SECURITY} reopen ${ok ? 'succeeded' : 'failed'}`);
        if (ok) this.uploader.kick();
      },
    });
    const onFailure = (): void => this.reopener.check();
    const telemetryQueue = new PersistentQueue(new FlashRegion(ports.flash, 0, blocks - securityBlocks), { whenFull: 'drop-oldest', onFailure });
    const securityQueue = new PersistentQueue(new FlashRegion(ports.flash, blocks - securityBlocks, securityBlocks), { whenFull: 'reject-new', onFailure });
    this.reopener.add(telemetryQueue);
    this.reopener.add(securityQueue);
    this.queues = { [STREAM_TELEMETRY]: telemetryQueue, [STREAM_SECURITY]: securityQueue };
    const dataHost = config.dataEndpoint.port === 443 ? config.dataEndpoint.host : `${config.dataEndpoint.host}:${config.dataEndpoint.port}`;
    const signer = new IotRequestSigner({ endpoint: dataHost, region: config.region, publishService: config.publishService, sha256: ports.sha256 });
    let transport: PublishTransport;
    if (config.transport === 'mqtt') {
      if (!ports.websocket) throw new AgentError('unsupported', 'transport mqtt needs a WebSocket port on this platform');
      transport = new MqttWsTransport({ ws: ports.websocket, timer: ports.timers, signer, clientId: config.thingName, clock: this.clock });
    } else {
      transport = new HttpsPublishTransport({ http: ports.http, signer, host: config.dataEndpoint.host, port: config.dataEndpoint.port, clock: this.clock, timer: ports.timers });
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
      timer: this.afterEachCallback(ports.timers, () => this.logHoldChange()),
      random: ports.random,
      maxBoundMs: config.maxBoundMs,
      healthIntervalMs: config.healthIntervalMs,
    });

    // 4. Signed updates (config bundles; firmware with a FirmwarePort).
    const u = config.update;
    if (u !== null) {
      const verifier = ports.signatureVerifier;
      if (!verifier) throw new AgentError('unsupported', 'config.update needs a signature verifier port on this platform');
      const fetch = new HttpRepositoryFetch({ http: ports.http, timer: ports.timers, host: u.repository.host, port: u.repository.port, deadlineMs: u.fetchDeadlineMs });
      const jobs =
        u.jobsEndpoint === null
          ? null
          : new JobsClient({ http: ports.http, timer: ports.timers, host: u.jobsEndpoint.host, port: u.jobsEndpoint.port, region: config.region, thingName: config.thingName, credentials: this.credentials, clock: this.clock, sha256: ports.sha256, maxBoundMs: config.maxBoundMs });
      this.updates = new UpdateService({
        config: u,
        thingName: config.thingName,
        kv: ports.kv,
        timer: ports.timers,
        random: ports.random,
        clock: this.clock,
        fetch,
        jobs,
        firmware: ports.firmware ?? null,
        compiled: compiledLimits(compiled),
        onConfig: (overlay) => this.applyOverlay(overlay),
        event: (kind, detail) => {
          this.securityEvent(kind, detail);
        },
        progress: () => {
          const t = this.clock.now();
          return { timeTrusted: t.state === 'SYNCED' || t.state === 'FREE_RUNNING', credentials: this.credentials.current() !== null, acked: this.uploader.health().acked };
        },
        log,
        sha256: ports.sha256,
        verifier,
        // The platform's SHA-256 when it has one (boards: native; @noble/hashes cannot run preloaded there).
        hash: ports.sha256 ? new Sha256HashPort(ports.sha256) : undefined,
      });
    }
  }

  /** A verified config bundle: sample and health intervals change now; clock limits at the next boot (merged at construction). */
  private applyOverlay(overlay: ConfigOverlay): void {
    if (overlay.sampleIntervalMs !== undefined && overlay.sampleIntervalMs !== this.sampleIntervalMs) {
      this.sampleIntervalMs = overlay.sampleIntervalMs;
      if (this.sampling) {
        if (this.sampleTimer !== null) this.ports.timers.clear(this.sampleTimer);
        this.sampleTimer = null;
        this.scheduleSample();
      }
    }
    if (overlay.healthIntervalMs !== undefined) this.uploader.setHealthIntervalMs(overlay.healthIntervalMs);
    this.ports.log(`update: config applied: ${JSON.stringify(overlay)}`);
  }

  start(): void {
    const c = this.config;
    this.ports.log(`agent: ${c.thingName} starting; time servers ${c.timeServers.map((s) => `${s.address}:${s.port}`).join(' ')}; ${c.transport} to ${c.dataEndpoint.host}:${c.dataEndpoint.port}`);
    this.logTimeState();
    this.running = true;
    this.sync.start();
    if (this.ports.systemClock?.requiredBeforeTls === true) this.ports.log('agent: waiting for trusted time before the first TLS connection (system clock)');
    else this.startNetwork();
    this.sampling = true;
    this.scheduleSample();
    this.updates?.start();
  }

  stop(): void {
    this.running = false;
    this.updates?.stop();
    this.stopSampling();
    this.reopener.stop();
    this.uploader.stop();
    this.credentials.stop();
    this.networkStarted = false;
    this.sync.stop();
  }

  /** Credentials and uploader: the TLS side of the agent. */
  private startNetwork(): void {
    if (this.networkStarted || !this.running) return;
    this.networkStarted = true;
    this.credentials.start();
    this.uploader.start();
    this.logHoldChange();
  }

  /** Sets system time from a SYNCED reading (never from an untrusted clock), then lets TLS start if it waited. */
  private updateSystemClock(): void {
    const port = this.ports.systemClock;
    if (!port) return;
    const t = this.clock.now();
    if (t.state !== 'SYNCED' || !Number.isFinite(t.earliest) || !Number.isFinite(t.latest)) return;
    try {
      port.set(Math.round((t.earliest + t.latest) / 2));
    } catch (e) {
      // Not the data's fault: counted, retried after the next round; TLS keeps waiting if it was.
      if (this.systemClockErrors++ === 0) this.ports.log(`time: system clock not set: ${(e as Error)?.message ?? 'error'}`);
      return;
    }
    if (this.systemClockSets++ === 0) this.ports.log('time: system clock set from the secure clock');
    this.startNetwork();
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

  /** Queues a security event (never dropped for telemetry: its queue rejects new records when full). Returns its sequence number, or -1 when refused (counted). */
  securityEvent(kind: string, detail: Metrics = {}): number {
    return this.append(STREAM_SECURITY, { event: kind, ...detail });
  }

  status(): AgentStatus {
    const health = this.uploader.health();
    this.logHoldChange(health);
    this.logTimeState();
    return {
      uptimeMs: this.clock.monoNow() - this.bootMono,
      generated: this.generated,
      sampleErrors: this.sampleErrors,
      appendRefused: this.appendRefused,
      queueErrors: this.queues[STREAM_TELEMETRY]!.stats().failures + this.queues[STREAM_SECURITY]!.stats().failures,
      queueReopens: this.queues[STREAM_TELEMETRY]!.stats().reopens + this.queues[STREAM_SECURITY]!.stats().reopens,
      time: this.clock.now(),
      health,
      developmentMode: this.config.developmentMode,
      systemClockSets: this.systemClockSets,
      systemClockErrors: this.systemClockErrors,
      networkStarted: this.networkStarted,
      update: this.updates?.health() ?? null,
    };
  }

  /**
   * Logs when the uploader starts holding data back (its fail-closed reason)
   * or stops. Runs after each of the uploader's timer callbacks, which is
   * where it re-checks held data, so no one has to poll status().
   */
  private logHoldChange(health: UploaderHealth = this.uploader.health()): void {
    const holding = health.state === 'holding' ? health.lastHeldBack : null;
    if (holding === this.lastHold) return;
    const was = this.lastHold;
    this.lastHold = holding;
    this.ports.log(holding !== null ? `uploader: holding data back: ${holding}` : `uploader: no longer holding data back (was: ${was})`);
  }

  /** The same timer port, running `after` once each callback has returned. */
  private afterEachCallback(timers: TimerPort, after: () => void): TimerPort {
    return {
      set: (callback, delayMs) =>
        timers.set(() => {
          callback();
          after();
        }, delayMs),
      clear: (handle) => timers.clear(handle),
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
      // Rescheduled whatever happens: one bad sample must not end sampling.
      try {
        this.sample();
      } catch {
        this.sampleErrors++;
      } finally {
        this.scheduleSample();
      }
    }, this.sampleIntervalMs);
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

  /** Never throws: a record that cannot be queued is counted and gets -1. */
  private append(stream: string, record: Metrics): number {
    let text: string;
    try {
      text = JSON.stringify(record);
    } catch {
      this.sampleErrors++; // a cycle or a BigInt in the caller's metrics
      return -1;
    }
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7e || n >= this.sampleBytes.length) {
        this.sampleErrors++;
        return -1; // metrics are ASCII by construction; anything else is a bug upstream, counted
      }
      this.sampleBytes[n++] = c;
    }
    const queue = this.queues[stream]!;
    let seq: number;
    try {
      seq = queue.append(this.sampleBytes, 0, n);
    } catch {
      // Full (reject-new), too large, or the queue failed on flash (the
      // failure is counted by the queue; the reopener brings it back).
      this.appendRefused++;
      this.reopener.check();
      return -1;
    }
    if (stream === STREAM_TELEMETRY) this.generated++;
    try {
      this.uploader.kick();
    } catch (e) {
      // The record is stored; the uploader will find it on its next pump.
      this.ports.log(`uploader: wake-up failed: ${(e as Error).message}`);
    }
    return seq;
  }
}
