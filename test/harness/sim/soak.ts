// A soak of the real Agent in the simulated world: the agent is built exactly
// as a board builds it (ports + config), the world cycles through every fault
// the dev cloud can inject plus malformed input from every server, then the
// faults stop and the agent must drain. `check()` states the invariants; each
// violation names the invariant, the seed and the simulated time.
import { MAX_CREDENTIAL_FETCHES_PER_HOUR } from '../../../src/credentials/client.js';
import { Agent, type AgentStatus } from '../../../src/agent.js';
import { FlashRegion } from '../../../src/agent/flash-region.js';
import type { KeyValuePort } from '../../../src/ports.js';
import { MemoryFlash } from '../memory-flash.js';
import { PersistentQueue, RecordRef } from '../../../src/telemetry/queue.js';
import { SimCloud, type Faults } from './cloud.js';
import { SimRandom, SimScheduler, SimStrongRandom } from './scheduler.js';

/** The credentials client's named bound: no sliding simulated hour may see more fetches. */
export const CREDENTIAL_FETCH_BOUND_PER_HOUR = MAX_CREDENTIAL_FETCHES_PER_HOUR;
/** After the faults stop, the queue must have drained within this much simulated time. */
export const RECOVERY_BOUND_MS = 12 * 60_000;
/** A clean world must reach its first ack within this much simulated time. */
export const FIRST_ACK_BOUND_MS = 60_000;
/**
 * Queued data and no new ack for this long is a wedge. Room for the worst
 * designed wait: a cloud skew (about 1 min), then UDP 123 blocked (up to 6
 * min) while the time acquisition retry doubles (4 s ... 512 s), then the
 * uploader's and the credentials client's backoff caps (5 min).
 */
export const STALL_BOUND_MS = 15 * 60_000;
/** Garbage datagrams share of every SNTP query while faults run (rounds are rare: noise must be there when they happen). */
const BACKGROUND_NTP_GARBAGE = 0.3;
/** Phases kept for the report (a ring: the soak's own heap stays flat). */
const PHASE_LOG = 32;
/** Resource bounds a correct core keeps whatever the network does. */
export const MAX_OPEN_EXCHANGES = 4;
export const MAX_OPEN_SOCKETS = 8;
export const MAX_OPEN_LINKS = 2;
export const MAX_DEVICE_TIMERS = 64;

const EPOCH_MS = Date.UTC(2026, 0, 15, 8, 0, 0);
const THING = 'soak-device-1';
const TIME_SERVERS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const BLOCK_SIZE = 4096;
const BLOCK_COUNT = 48;
const SECURITY_BLOCKS = 4;
const STREAMS = ['telemetry', 'security'];

export interface SoakOptions {
  seed: number;
  transport: 'https' | 'mqtt';
  /** Stall bound: queued data and no ack for this long (outside a fault) is a wedge. Default STALL_BOUND_MS. */
  stallBoundMs?: number;
  /** Simulated minutes of cycling faults. */
  faultMinutes: number;
  /** Simulated minutes after the faults, to drain. */
  drainMinutes: number;
  /** Lifetime of issued credentials. Default 20 min: with the client refreshing 15 min ahead, one refresh every ~5 min of the soak. */
  credentialLifetimeMs?: number;
  /** 'cycle': the dev cloud's faults in phases; 'chaos': malformed input at a high rate all along (property test). */
  plan?: 'cycle' | 'chaos';
  /** Phases left out (triage: to see what else breaks behind a first wedge). */
  skipPhases?: readonly string[];
  /** Only for faults: a clean start of this long first. Default 2 min. */
  calmStartMs?: number;
}

export interface Violation {
  invariant: string;
  atMs: number;
  /** The fault phase running when the invariant broke. */
  phase: string;
  detail: string;
}

interface Phase {
  name: string;
  minMs: number;
  maxMs: number;
  apply(f: Faults, cloud: SimCloud): void;
  /**
   * What makes the device meet the fault while it lasts (it only fetches
   * credentials every few minutes and resyncs time every 17): 'revoke' expires
   * its credentials server-side and cuts WebSockets (so it refetches now),
   * 'skew' shifts the cloud clock for a few seconds (a skew answer makes it
   * resync now), 'cut' only cuts WebSockets (so it reconnects now).
   */
  provoke?: 'revoke' | 'skew' | 'cut';
}

/** How long a 'skew' provocation shifts the cloud clock. */
const SKEW_PULSE_MS = 8_000;

/** Every fault the dev cloud can inject (tools/devcloud), and what a broken network adds. */
export const PHASES: readonly Phase[] = [
  { name: 'publish-429', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.dataStatus = 429) },
  { name: 'publish-500', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.dataStatus = 500) },
  { name: 'publish-503', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.dataStatus = 503) },
  { name: 'publish-drop-before', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.dataDrop = 'before') },
  { name: 'publish-drop-after', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.dataDrop = 'after'), (f.pubackLost = 0.5)) },
  { name: 'gateway-refuse', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.dataMode = 'refuse'), (f.credsMode = 'refuse')), provoke: 'cut' },
  { name: 'gateway-hang', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.dataMode = 'hang'), provoke: 'cut' },
  { name: 'credentials-429', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.credsStatus = 429), (f.hitRate = 1)), provoke: 'revoke' },
  { name: 'credentials-500', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.credsStatus = 500), (f.hitRate = 1)), provoke: 'revoke' },
  { name: 'credentials-503', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.credsStatus = 503), (f.hitRate = 1)), provoke: 'revoke' },
  { name: 'credentials-drop-before', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.credsDrop = 'before'), provoke: 'revoke' },
  { name: 'credentials-drop-after', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.credsDrop = 'after'), provoke: 'revoke' },
  { name: 'credentials-hang', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.credsMode = 'hang'), provoke: 'revoke' },
  { name: 'credentials-expired', minMs: 40_000, maxMs: 60_000, apply: () => {}, provoke: 'revoke' },
  { name: 'cloud-clock-skew', minMs: 40_000, maxMs: 60_000, apply: (f, c) => (f.cloudShiftMs = (c.scheduler.nowMs % 2 === 0 ? 1 : -1) * 7 * 60_000) },
  { name: 'ntp-blocked', minMs: 5 * 60_000, maxMs: 6 * 60_000, apply: (f) => (f.ntpBlocked = true), provoke: 'skew' },
  { name: 'ntp-garbage', minMs: 100_000, maxMs: 120_000, apply: (f) => (f.ntpGarbage = 0.8), provoke: 'skew' },
  { name: 'malformed-date', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.badDate = 0.5), provoke: 'revoke' },
  { name: 'malformed-bodies', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.badCredsBody = 0.6), (f.badDataBody = 0.3)), provoke: 'revoke' },
  { name: 'random-answers', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.randomAnswer = 0.4), provoke: 'revoke' },
  { name: 'ws-handshake-503', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.wsHandshake = '503'), provoke: 'cut' },
  { name: 'ws-drop-before', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.wsHandshake = 'drop-before'), provoke: 'cut' },
  { name: 'ws-cut-after-upgrade', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.wsHandshake = 'cut-after'), (f.wsCut = 0.2)), provoke: 'cut' },
  { name: 'ws-hang', minMs: 40_000, maxMs: 60_000, apply: (f) => (f.wsHandshake = 'hang'), provoke: 'cut' },
  { name: 'ws-garbage-frames', minMs: 40_000, maxMs: 60_000, apply: (f) => ((f.wsGarbage = 0.5), (f.connackRefuse = 0.3)), provoke: 'cut' },
];

/** The property-test world: every server malformed at a high rate, all at once. */
function chaos(f: Faults): void {
  f.ntpGarbage = 0.9;
  f.badDate = 0.5;
  f.badCredsBody = 0.5;
  f.badDataBody = 0.5;
  f.randomAnswer = 0.5;
  f.wsGarbage = 0.5;
  f.connackRefuse = 0.2;
  f.wsCut = 0.1;
}

class MemoryKv implements KeyValuePort {
  private readonly map: Record<string, string> = {};
  get(key: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.map, key) ? this.map[key] : undefined;
  }
  set(key: string, value: string): void {
    this.map[key] = value;
  }
}

export function formatSimTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${String(Math.floor(ms % 1000) + 1000).slice(1)}`;
}

export class SoakWorld {
  readonly options: SoakOptions;
  readonly scheduler = new SimScheduler();
  readonly cloud: SimCloud;
  readonly flash = new MemoryFlash({ blockSize: BLOCK_SIZE, blockCount: BLOCK_COUNT });
  readonly agent: Agent;
  readonly faultsEndMs: number;
  readonly endMs: number;
  private readonly rng: SimRandom;
  readonly violations: Violation[] = [];
  private readonly seen: Record<string, boolean> = {};
  /** The last PHASE_LOG phases run (start time and name), a ring. */
  private readonly phaseRing: string[] = [];
  private phaseCount = 0;
  phase = 'calm';
  securityEvents = 0;
  logLines = 0;
  firstAckMs = -1;
  drainedAtMs = -1;
  private lastAcked = 0;
  private lastProgressMs = 0;
  private phaseAtProgress = 'calm';
  private started = false;

  constructor(options: SoakOptions) {
    this.options = options;
    this.rng = new SimRandom(options.seed);
    this.faultsEndMs = options.faultMinutes * 60_000;
    this.endMs = this.faultsEndMs + options.drainMinutes * 60_000;
    const topics = { telemetry: `dt/${THING}/telemetry`, security: `dt/${THING}/security` };
    this.cloud = new SimCloud({
      scheduler: this.scheduler,
      seed: options.seed,
      epochMs: EPOCH_MS,
      timeServers: TIME_SERVERS,
      credentialsHost: 'c2soak.credentials.iot.us-east-1.amazonaws.com',
      dataHost: 'asoak-ats.iot.us-east-1.amazonaws.com',
      thingName: THING,
      roleAlias: 'soak-role-alias',
      topics,
      credentialLifetimeMs: options.credentialLifetimeMs ?? 20 * 60_000,
      maxSeq: 1 << 15,
    });
    this.cloud.fetchBound = CREDENTIAL_FETCH_BOUND_PER_HOUR;
    const s = this.scheduler;
    this.agent = new Agent(
      {
        ticks: s,
        timers: s,
        random: new SimStrongRandom(options.seed ^ 0x7a11),
        udp: this.cloud.udp,
        http: this.cloud.http,
        websocket: this.cloud.websocket,
        flash: this.flash,
        kv: new MemoryKv(),
        // Counted, never kept: a soak must not grow the heap with log lines.
        log: () => {
          this.logLines++;
        },
        sample: () => ({ board: 'sim', phase: this.phase.length }),
      },
      {
        thingName: THING,
        region: 'us-east-1',
        roleAlias: 'soak-role-alias',
        dataEndpoint: { host: 'asoak-ats.iot.us-east-1.amazonaws.com', port: 443 },
        credentialsEndpoint: { host: 'c2soak.credentials.iot.us-east-1.amazonaws.com', port: 443 },
        timeServers: TIME_SERVERS,
        transport: options.transport,
        sampleIntervalMs: 1000,
        healthIntervalMs: 60_000,
        buildTimeMs: EPOCH_MS - 30 * 86_400_000,
        minSources: 2,
        securityBlocks: SECURITY_BLOCKS,
      },
    );
  }

  violate(invariant: string, detail: string): void {
    // One report per invariant (the first time it breaks): bounded, and the first is the useful one.
    if (this.seen[invariant] === true) return;
    this.seen[invariant] = true;
    this.violations.push({ invariant, atMs: this.scheduler.nowMs, phase: this.phase, detail });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.scheduler.guard('agent.start', () => this.agent.start());
    if ((this.options.plan ?? 'cycle') === 'chaos') {
      chaos(this.cloud.faults);
      this.phase = 'chaos';
    }
    else this.scheduler.post(this.options.calmStartMs ?? 120_000, () => this.nextPhase(0), 'phases');
    this.scheduler.post(1500, () => this.watch(), 'watch');
    // The application raises a security event now and then (its own stream, reject-new queue).
    this.scheduler.post(150_000, () => this.securityTick(), 'security');
  }

  private securityTick(): void {
    this.scheduler.guard('agent.securityEvent', () => {
      this.agent.securityEvent('soak-check', { n: this.securityEvents });
      this.securityEvents++;
    });
    this.scheduler.post(150_000 + this.rng.int(60_000), () => this.securityTick(), 'security');
  }

  private nextPhase(index: number): void {
    const f = this.cloud.faults;
    f.clear();
    if (this.scheduler.nowMs >= this.faultsEndMs) {
      this.phase = 'drain';
      return;
    }
    const skip = this.options.skipPhases ?? [];
    let p = PHASES[index % PHASES.length]!;
    for (let k = 0; k < PHASES.length && skip.indexOf(p.name) >= 0; k++) p = PHASES[++index % PHASES.length]!;
    this.phase = p.name;
    this.phaseRing[this.phaseCount++ % PHASE_LOG] = `${formatSimTime(this.scheduler.nowMs)} ${p.name}`;
    f.ntpGarbage = BACKGROUND_NTP_GARBAGE;
    p.apply(f, this.cloud);
    if (p.provoke === 'revoke') this.cloud.expireCredentials();
    if (p.provoke === 'revoke' || p.provoke === 'cut') this.cloud.cutConnections();
    if (p.provoke === 'skew') {
      f.cloudShiftMs = 7 * 60_000;
      this.cloud.cutConnections();
      this.scheduler.post(SKEW_PULSE_MS, () => (f.cloudShiftMs = 0), 'phases');
    }
    const length = p.minMs + this.rng.int(p.maxMs - p.minMs);
    const end = Math.min(this.faultsEndMs, this.scheduler.nowMs + length);
    this.scheduler.post(end - this.scheduler.nowMs, () => {
      f.clear();
      this.phase = 'calm';
      // A calm gap between faults, so that each fault starts from a working agent (or shows it did not recover).
      const gap = this.scheduler.nowMs >= this.faultsEndMs ? 0 : 10_000 + this.rng.int(10_000);
      this.scheduler.post(Math.min(gap, Math.max(0, this.faultsEndMs - this.scheduler.nowMs)), () => this.nextPhase(index + 1), 'phases');
    }, 'phases');
  }

  /** Once a simulated second: state consistency and resource bounds, every step of the way. */
  private watch(): void {
    let st: AgentStatus | null = null;
    this.scheduler.guard('agent.status', () => {
      st = this.agent.status();
    });
    const c = this.cloud.counters;
    const now = this.scheduler.nowMs;
    if (st !== null) {
      const h = (st as AgentStatus).health;
      const nums = [h.queueDepth, h.sent, h.acked, h.publishes, h.retried, h.deadLettered, h.dropped, h.rejected];
      if (!nums.every((n) => Number.isInteger(n) && n >= 0)) this.violate('health-counters-sane', `non-integer or negative counters ${JSON.stringify(nums)}`);
      if (h.acked < this.lastAcked) this.violate('acked-monotonic', `acked went from ${this.lastAcked} to ${h.acked}`);
      if (h.acked > h.sent) this.violate('acked-le-sent', `acked ${h.acked} > sent ${h.sent}`);
      if (h.acked > this.lastAcked || h.queueDepth === 0) {
        this.lastProgressMs = now;
        this.phaseAtProgress = this.phase;
      }
      this.lastAcked = h.acked;
      const stall = this.options.stallBoundMs ?? STALL_BOUND_MS;
      if (this.options.plan !== 'chaos' && now - this.lastProgressMs > stall) {
        this.violate(
          'no-wedge',
          `${h.queueDepth} records queued and no ack for ${Math.round((now - this.lastProgressMs) / 1000)} s: last progress at ${formatSimTime(this.lastProgressMs)} in phase ${this.phaseAtProgress}; uploader ${h.state}, time ${(st as AgentStatus).time.state}, held back for ${h.lastHeldBack}, last outcome ${h.lastOutcome}, credentials left ${h.credentialsLeftMs}`,
        );
      }
      if (h.acked > 0 && this.firstAckMs < 0) this.firstAckMs = now;
      if (now >= this.faultsEndMs && this.drainedAtMs < 0 && h.queueDepth <= 1 && (st as AgentStatus).time.state !== 'UNTRUSTED' && h.lastOutcome === 'ack') this.drainedAtMs = now;
    }
    if (c.openExchanges > MAX_OPEN_EXCHANGES) this.violate('http-exchanges-bounded', `${c.openExchanges} HTTP exchanges open at once (bound ${MAX_OPEN_EXCHANGES})`);
    if (c.openSockets > MAX_OPEN_SOCKETS) this.violate('udp-sockets-bounded', `${c.openSockets} UDP sockets open (bound ${MAX_OPEN_SOCKETS})`);
    if (c.openLinks > MAX_OPEN_LINKS) this.violate('ws-links-bounded', `${c.openLinks} WebSockets open (bound ${MAX_OPEN_LINKS})`);
    if (this.scheduler.deviceTimers > MAX_DEVICE_TIMERS) this.violate('timers-bounded', `${this.scheduler.deviceTimers} device timers pending (bound ${MAX_DEVICE_TIMERS})`);
    if (c.fetchBoundExceededAt >= 0) this.violate('credentials-fetch-bound', `more than ${CREDENTIAL_FETCH_BOUND_PER_HOUR} credential fetches within one simulated hour (first at ${formatSimTime(c.fetchBoundExceededAt)}; phase ${this.phase})`);
    if (this.scheduler.escapes > 0) {
      const e = this.scheduler.keptEscapes[0]!;
      this.violate('no-exception-escapes', `${e.where} threw at ${formatSimTime(e.atMs)} (phase ${this.phase}): ${e.error}`);
    }
    if (now < this.endMs) this.scheduler.post(1000, () => this.watch(), 'watch');
  }

  /** Runs the world to `untilMs` (simulated ms since start), or to its end. */
  run(untilMs: number = this.endMs): void {
    this.start();
    this.scheduler.runUntil(Math.min(untilMs, this.endMs));
  }

  /** The end-of-run invariants. Call after run() reached endMs. */
  check(): Violation[] {
    const st = this.agent.status();
    const h = st.health;
    const c = this.cloud.counters;
    if (this.options.plan !== 'chaos' && (this.firstAckMs < 0 || this.firstAckMs > FIRST_ACK_BOUND_MS)) {
      this.violate('first-ack', `no ack within ${FIRST_ACK_BOUND_MS / 1000} s of a clean start (first ack at ${this.firstAckMs < 0 ? 'never' : formatSimTime(this.firstAckMs)})`);
    }
    // The queues as a rebooted device would find them (a copy of the chip, recovery scan).
    const copy = new MemoryFlash({ blockSize: BLOCK_SIZE, blockCount: BLOCK_COUNT });
    copy.bytes.set(this.flash.bytes);
    const regions: Record<string, FlashRegion> = {
      telemetry: new FlashRegion(copy, 0, BLOCK_COUNT - SECURITY_BLOCKS),
      security: new FlashRegion(copy, BLOCK_COUNT - SECURITY_BLOCKS, SECURITY_BLOCKS),
    };
    let appended = 0;
    let live = 0;
    let lostUndelivered = 0;
    let deliveredTotal = 0;
    for (const name of STREAMS) {
      const q = new PersistentQueue(regions[name]!, { whenFull: name === 'security' ? 'reject-new' : 'drop-oldest' });
      const stats = q.stats();
      appended += stats.nextSeq;
      live += stats.depth;
      const liveSeqs = new Uint8Array(stats.nextSeq);
      const ref = new RecordRef();
      for (let ok = q.first(ref), n = 0; ok && n <= stats.depth; ok = q.next(ref), n++) liveSeqs[ref.seq] = 1;
      for (let seq = 0; seq < stats.nextSeq; seq++) {
        if (liveSeqs[seq] === 0 && !this.cloud.delivered(name, seq)) lostUndelivered++;
      }
      deliveredTotal += this.cloud.ledgers[name]!.unique;
      if (this.cloud.ledgers[name]!.unique > stats.nextSeq) this.violate('cloud-saw-only-real-records', `${name}: cloud holds ${this.cloud.ledgers[name]!.unique} records, the device wrote ${stats.nextSeq}`);
    }
    if (live !== h.queueDepth) this.violate('queue-depth-matches-flash', `agent reports depth ${h.queueDepth}, flash recovery finds ${live}`);
    // Every record ends acked, queued, dropped or dead-lettered: the counts add up exactly.
    const accounted = h.acked + live + h.dropped + h.deadLettered;
    if (accounted !== appended) {
      this.violate('every-record-accounted', `appended ${appended} (telemetry generated ${st.generated}, security ${this.securityEvents}, health records) but acked ${h.acked} + queued ${live} + dropped ${h.dropped} + dead-lettered ${h.deadLettered} = ${accounted}`);
    }
    // Nothing is acknowledged that the cloud did not receive: records gone from the queue without delivery are only the dropped and dead-lettered ones.
    if (lostUndelivered > h.dropped + h.deadLettered) {
      this.violate('no-ack-without-delivery', `${lostUndelivered} records left the queue without reaching the cloud, but only ${h.dropped} dropped + ${h.deadLettered} dead-lettered are counted`);
    }
    // A dead letter needs the server's permanent refusal: the device's own failures (signing, clock, credentials) hold data instead.
    if (h.deadLettered > c.permanentAnswers) {
      this.violate('dead-letter-only-on-server-refusal', `${h.deadLettered} records dead-lettered but the cloud sent only ${c.permanentAnswers} permanent refusals (last outcome: ${h.lastOutcome})`);
    }
    if (c.badEnvelopes > 0) this.violate('well-formed-publishes', `${c.badEnvelopes} publish bodies were not a valid envelope`);
    if (c.misrouted > 0) this.violate('records-on-their-topic', `${c.misrouted} publishes on the wrong topic`);
    if (c.callbacksAfterCancel > 0) this.violate('port-contract', `${c.callbacksAfterCancel} answers after an exchange was answered`);
    if (this.options.plan !== 'chaos') {
      if (this.drainedAtMs < 0 || this.drainedAtMs - this.faultsEndMs > RECOVERY_BOUND_MS) {
        this.violate(
          'recovers-after-faults',
          `queue not drained within ${RECOVERY_BOUND_MS / 60_000} simulated min after the faults stopped at ${formatSimTime(this.faultsEndMs)}: depth ${h.queueDepth}, state ${h.state}, time ${st.time.state}, held back for ${h.lastHeldBack}, last outcome ${h.lastOutcome}, credentials left ${h.credentialsLeftMs}`,
        );
      }
      if (h.queueDepth > 2) this.violate('drained-at-end', `${h.queueDepth} records still queued at the end (state ${h.state}, held back for ${h.lastHeldBack}, last outcome ${h.lastOutcome})`);
    }
    if (h.queueDepth > 0 && h.lastHeldBack === null && h.lastOutcome === null) this.violate('held-with-reason', `${h.queueDepth} records queued with no counted reason`);
    if (deliveredTotal < h.acked) this.violate('acked-le-delivered', `acked ${h.acked} > unique deliveries ${deliveredTotal}`);
    return this.violations;
  }

  /** The most recent phases, oldest first. */
  get phaseLog(): string[] {
    const out: string[] = [];
    for (let i = Math.max(0, this.phaseCount - PHASE_LOG); i < this.phaseCount; i++) out.push(this.phaseRing[i % PHASE_LOG]!);
    return out;
  }

  summary(): string {
    const st = this.agent.status();
    const h = st.health;
    const c = this.cloud.counters;
    return (
      `transport ${this.options.transport}, seed ${this.options.seed}, simulated ${formatSimTime(this.scheduler.nowMs)}: ` +
      `generated ${st.generated}, acked ${h.acked}, queued ${h.queueDepth}, dropped ${h.dropped}, dead-lettered ${h.deadLettered}, rejected ${h.rejected}, ` +
      `publishes ${h.publishes}, retried ${h.retried}, skew events ${h.skewEvents}; cloud: unique ${this.cloud.ledgers.telemetry!.unique}+${this.cloud.ledgers.security!.unique}, duplicates ${this.cloud.ledgers.telemetry!.duplicates}, ` +
      `credential fetches ${c.credentialFetches} (max ${c.maxFetchesInHour}/h), hung ${c.hungExchanges}, ws connects ${c.wsConnects}, ntp ${c.ntpAnswered}/${c.ntpQueries}, garbage datagrams ${c.garbageDatagrams}, frames ${c.garbageFrames}; ` +
      `escapes ${this.scheduler.escapes}; first ack ${this.firstAckMs < 0 ? 'never' : formatSimTime(this.firstAckMs)}, drained ${this.drainedAtMs < 0 ? 'never' : formatSimTime(this.drainedAtMs)}; time ${st.time.state}; events ${this.scheduler.eventsRun}`
    );
  }

  /** One line per violation: invariant, seed, simulated time, detail. */
  report(): string {
    return this.violations
      .map((v) => `[${v.invariant}] seed=${this.options.seed} transport=${this.options.transport} t=${formatSimTime(v.atMs)} (${v.atMs} ms) phase=${v.phase}: ${v.detail}`)
      .join('\n');
  }
}
