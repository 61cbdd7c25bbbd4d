// The fail-closed telemetry uploader: drains persistent queues through a
// publish transport, one publish in flight at a time.
//
// Before every send holdReason() (hold.ts) must find no reason to hold;
// otherwise nothing is signed, the data stays queued, the reason is counted
// and it is checked again after holdRetryMs. Credentials and signing time are taken at
// send time only. Outcomes:
//   ack            records acknowledged in the queue (then, and only then)
//   retry          429/5xx/network: full-jitter backoff (base 0.5 s, cap 5 min)
//   skew           clock marked DISRUPTED (it resyncs), data stays queued
//   expired-token  credentials refreshed, data stays queued
//   auth           credentials refreshed, backoff
//   local          the device could not sign/encode the request (its own
//                  limits, credentials or config): data held, counted as
//                  heldBack['signing-failed'], retried when the credentials
//                  change or after a capped backoff (never dead-lettered)
//   permanent      a batch is retried one record at a time; a single record
//                  refused permanently (413, 400...) goes to the dead letters
// A queue call that throws (a flash error) is not the record's fault either:
// nothing is acked or dead-lettered for it, it is counted (queueErrors,
// heldBack['queue-unavailable']) and the pump tries again after a capped
// backoff. No exception leaves a timer or transport callback.
// Nothing is dropped silently: every path has a counter in health().
import { Backoff, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_CAP_MS } from '../shared/backoff.js';
import { BatchWriter, checkName } from './batch.js';
import type { PublishTransport, SendOutcome } from './deps.js';
import { DEFAULT_CREDENTIAL_MARGIN_MS, type AwsCredentials, type CredentialSource } from '../shared/contracts.js';
import type { TimeAuthority } from '../time/authority.js';
import { ConfigError, QueueError } from './errors.js';
import { DEFAULT_MAX_BOUND_MS, HOLD_REASONS, holdReason, signingTime, type HoldReason } from './hold.js';
import { IOT_MAX_MESSAGE_BYTES } from './mqtt-codec.js';
import { RecordRef, type PersistentQueue } from './queue.js';
import { utf8Bytes } from '../shared/utf8.js';
import type { RandomPort, TimerPort } from '../ports.js';

export interface UploadStream {
  /** Name in the envelope and in health ('telemetry', 'security'); [A-Za-z0-9_.:-]. */
  name: string;
  queue: PersistentQueue;
  topic: string;
}

export interface UploaderOptions {
  deviceId: string;
  /** Served in priority order: the first stream with records goes first. */
  streams: UploadStream[];
  transport: PublishTransport;
  clock: TimeAuthority;
  credentials: CredentialSource;
  timer: TimerPort;
  random: RandomPort;
  /** Publish body buffer (allocated once). Default 4096, at most 128 KiB (IoT Core message limit). */
  maxPublishBytes?: number;
  /** Records per publish. Default 32, at most MAX_RECORDS_PER_PUBLISH. */
  maxRecordsPerPublish?: number;
  /** Spacing between publishes. Default 10 ms: IoT Core allows 100 publishes/s per connection. */
  minPublishIntervalMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** E_max for the hold decision. Default 60 s. */
  maxBoundMs?: number;
  /** Credentials must outlive latest(now) by more than this. Default 5 min. */
  credentialMarginMs?: number;
  /** How soon held data is checked again. Default 1 s. */
  holdRetryMs?: number;
  /** Backoff after a local failure (signing) or a queue error: base and cap. Default 1 s and 5 min. */
  holdRetryBaseMs?: number;
  holdRetryCapMs?: number;
  /** Period of the health record; 0 disables. Default 60 s. */
  healthIntervalMs?: number;
  /** Stream the health record is appended to. Default: the first stream. */
  healthStream?: string;
}

export const DEFAULT_MAX_PUBLISH_BYTES = 4096;
export const DEFAULT_MAX_RECORDS_PER_PUBLISH = 32;
export const MAX_RECORDS_PER_PUBLISH = 1024;
export const DEFAULT_MIN_PUBLISH_INTERVAL_MS = 10;
export const DEFAULT_HOLD_RETRY_MS = 1000;
export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;
/** First retry after a local failure or a queue error is within this (full jitter, doubling). */
export const DEFAULT_HOLD_RETRY_BASE_MS = 1000;
/** Longest wait between retries after a local failure or a queue error. */
export const DEFAULT_HOLD_RETRY_CAP_MS = 5 * 60_000;

export interface UploaderHealth {
  state: 'stopped' | 'idle' | 'sending' | 'waiting' | 'holding';
  timeState: string;
  timeBoundMs: number;
  /** expiration - latest(now), or null without credentials / trusted time. */
  credentialsLeftMs: number | null;
  queueDepth: number;
  /** Records put into publishes (resends included). */
  sent: number;
  acked: number;
  publishes: number;
  retried: number;
  deadLettered: number;
  dropped: number;
  rejected: number;
  skewEvents: number;
  credentialRefreshes: number;
  /** Queue calls that threw (flash errors); the data stays where it was. */
  queueErrors: number;
  heldBack: Record<HoldReason, number>;
  lastHeldBack: HoldReason | null;
  lastOutcome: string | null;
}

interface Counters {
  sent: number;
  acked: number;
  publishes: number;
  retried: number;
  deadLettered: number;
  skewEvents: number;
  credentialRefreshes: number;
  queueErrors: number;
}

export class Uploader {
  readonly deviceId: string;
  private readonly streams: UploadStream[];
  private readonly writers: BatchWriter[];
  private readonly transport: PublishTransport;
  private readonly clock: TimeAuthority;
  private readonly credentials: CredentialSource;
  private readonly timer: TimerPort;
  private readonly backoff: Backoff;
  /** Retries after local failures ('signing-failed'). */
  private readonly localBackoff: Backoff;
  /** Retries after queue errors ('queue-unavailable'). */
  private readonly queueBackoff: Backoff;
  private readonly maxRecords: number;
  private readonly minIntervalMs: number;
  private readonly maxBoundMs: number;
  private readonly marginMs: number;
  private readonly holdRetryMs: number;
  private healthIntervalMs: number;
  private readonly healthStream: UploadStream;
  private readonly refs: RecordRef[] = [];
  private readonly cursor = new RecordRef();
  private readonly heldBack: Record<HoldReason, number>;
  private readonly counters: Counters = { sent: 0, acked: 0, publishes: 0, retried: 0, deadLettered: 0, skewEvents: 0, credentialRefreshes: 0, queueErrors: 0 };
  private state: UploaderHealth['state'] = 'stopped';
  private pumpTimer: unknown = null;
  private healthTimer: unknown = null;
  private inFlight = 0;
  /** After a permanent refusal of a batch: send this many records one at a time. */
  private singleRemaining = 0;
  private lastHeldBack: HoldReason | null = null;
  private lastOutcome: string | null = null;
  /** Bumped by stop(): callbacks from an older generation are ignored. */
  private generation = 0;
  /** After a local failure: the credentials it happened with, and when (monotonic ms) to try again anyway. */
  private heldCredentials: AwsCredentials | null = null;
  private holdUntilMono: number | null = null;

  constructor(options: UploaderOptions) {
    checkName('deviceId', options.deviceId);
    if (!Array.isArray(options.streams) || options.streams.length === 0) throw new ConfigError('bad-config', 'at least one stream');
    const bytes = options.maxPublishBytes ?? DEFAULT_MAX_PUBLISH_BYTES;
    if (!(Number.isInteger(bytes) && bytes >= 256 && bytes <= IOT_MAX_MESSAGE_BYTES)) throw new ConfigError('bad-config', 'maxPublishBytes must be in [256, 131072]');
    this.maxRecords = options.maxRecordsPerPublish ?? DEFAULT_MAX_RECORDS_PER_PUBLISH;
    if (!(Number.isInteger(this.maxRecords) && this.maxRecords >= 1 && this.maxRecords <= MAX_RECORDS_PER_PUBLISH)) {
      throw new ConfigError('bad-config', `maxRecordsPerPublish must be in [1, ${MAX_RECORDS_PER_PUBLISH}]`);
    }
    this.minIntervalMs = nonNegative('minPublishIntervalMs', options.minPublishIntervalMs ?? DEFAULT_MIN_PUBLISH_INTERVAL_MS);
    this.maxBoundMs = nonNegative('maxBoundMs', options.maxBoundMs ?? DEFAULT_MAX_BOUND_MS);
    this.marginMs = nonNegative('credentialMarginMs', options.credentialMarginMs ?? DEFAULT_CREDENTIAL_MARGIN_MS);
    this.holdRetryMs = nonNegative('holdRetryMs', options.holdRetryMs ?? DEFAULT_HOLD_RETRY_MS);
    this.healthIntervalMs = nonNegative('healthIntervalMs', options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS);
    this.deviceId = options.deviceId;
    this.streams = options.streams.slice();
    const buf = new Uint8Array(bytes);
    this.writers = this.streams.map((s) => new BatchWriter(buf, options.deviceId, s.name));
    const health = options.healthStream === undefined ? this.streams[0] : this.streams.find((s) => s.name === options.healthStream);
    if (health === undefined) throw new ConfigError('bad-config', 'healthStream names no stream');
    this.healthStream = health;
    this.transport = options.transport;
    const carry = options.transport.maxBodyBytes;
    if (carry !== undefined && bytes > carry) {
      // Otherwise every full batch would fail to encode and end in the dead letters.
      throw new ConfigError('bad-config', `maxPublishBytes ${bytes} exceeds the transport's ${carry}`);
    }
    this.clock = options.clock;
    this.credentials = options.credentials;
    this.timer = options.timer;
    this.backoff = new Backoff(options.random, options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, options.backoffCapMs ?? DEFAULT_BACKOFF_CAP_MS);
    const holdBase = options.holdRetryBaseMs ?? DEFAULT_HOLD_RETRY_BASE_MS;
    const holdCap = options.holdRetryCapMs ?? DEFAULT_HOLD_RETRY_CAP_MS;
    this.localBackoff = new Backoff(options.random, holdBase, holdCap);
    this.queueBackoff = new Backoff(options.random, holdBase, holdCap);
    for (let i = 0; i < this.maxRecords; i++) this.refs.push(new RecordRef());
    const fc = {} as Record<HoldReason, number>;
    for (const r of HOLD_REASONS) fc[r] = 0;
    this.heldBack = fc;
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.state = 'idle';
    if (this.healthIntervalMs > 0) this.scheduleHealth();
    this.pump();
  }

  /** Changes the health record interval now (a verified config bundle); 0 stops health records. */
  setHealthIntervalMs(ms: number): void {
    this.healthIntervalMs = nonNegative('healthIntervalMs', ms);
    if (this.healthTimer !== null) this.timer.clear(this.healthTimer);
    this.healthTimer = null;
    if (this.state !== 'stopped' && this.healthIntervalMs > 0) this.scheduleHealth();
  }

  stop(): void {
    this.generation++;
    this.state = 'stopped';
    this.clearPump();
    if (this.healthTimer !== null) this.timer.clear(this.healthTimer);
    this.healthTimer = null;
    this.inFlight = 0;
    this.transport.close();
  }

  /**
   * Appends a record (a JSON text) to a stream's queue and wakes the uploader.
   * Returns its sequence number, or -1 when the queue refused or failed to
   * store it (a full reject-new queue counts it in `rejected`; any other
   * refusal or flash error in `queueErrors`).
   */
  append(stream: string, payload: Uint8Array): number {
    const s = this.streams.find((x) => x.name === stream);
    if (s === undefined) throw new ConfigError('bad-config', `no stream ${stream}`);
    let seq = -1;
    try {
      seq = s.queue.append(payload);
    } catch (e) {
      if (!(e instanceof QueueError && e.code === 'queue-full')) this.counters.queueErrors++;
    }
    this.kick();
    return seq;
  }

  /** Wake up now if idle (after records were appended directly to a queue). */
  kick(): void {
    if (this.state === 'idle') this.guarded(() => this.pump());
  }

  health(): UploaderHealth {
    const r = this.clock.now();
    const c = this.credentials.current();
    let depth = 0;
    let dropped = 0;
    let rejected = 0;
    for (const s of this.streams) {
      try {
        const st = s.queue.stats();
        depth += st.depth;
        dropped += st.dropped;
        rejected += st.rejected;
      } catch {
        // A failed queue's figures are unknown; the failure itself is counted.
        this.counters.queueErrors++;
      }
    }
    const fc = {} as Record<HoldReason, number>;
    for (const k of HOLD_REASONS) fc[k] = this.heldBack[k];
    return {
      state: this.state,
      timeState: r.state,
      timeBoundMs: r.bound,
      credentialsLeftMs: c !== null && Number.isFinite(r.latest) ? c.expirationMs - r.latest : null,
      queueDepth: depth,
      ...this.counters,
      dropped,
      rejected,
      heldBack: fc,
      lastHeldBack: this.lastHeldBack,
      lastOutcome: this.lastOutcome,
    };
  }

  // ---- the pump ----

  private pump(): void {
    if (this.state === 'stopped' || this.inFlight > 0 || this.pumpTimer !== null) return;
    let index = -1;
    try {
      for (let i = 0; i < this.streams.length; i++) {
        if (this.streams[i]!.queue.depth > 0) {
          index = i;
          break;
        }
      }
    } catch (e) {
      this.queueFault(e);
      return;
    }
    if (index < 0) {
      this.state = 'idle';
      return;
    }
    const reading = this.clock.now();
    const creds = this.credentials.current();
    const reason = holdReason(reading, creds, { maxBoundMs: this.maxBoundMs, credentialMarginMs: this.marginMs });
    if (reason !== null) {
      this.hold(reason, this.holdRetryMs);
      if (reason === 'credentials-missing' || reason === 'credentials-expiring') this.refreshCredentials(reason);
      return;
    }
    if (this.holdUntilMono !== null) {
      // Held after a local failure: try again once the credentials changed or the backoff ran out.
      const left = this.holdUntilMono - this.clock.monoNow();
      if (sameCredentials(creds, this.heldCredentials) && left > 0) {
        this.state = 'holding';
        this.schedule(Math.min(left, this.holdRetryMs));
        return;
      }
      this.holdUntilMono = null;
      this.heldCredentials = null;
    }
    const stream = this.streams[index]!;
    let count: number;
    try {
      count = this.buildBatch(index);
    } catch (e) {
      this.queueFault(e);
      return;
    }
    if (count === 0) {
      // Everything looked at was dead-lettered: look again soon.
      this.schedule(0);
      return;
    }
    const writer = this.writers[index]!;
    const length = writer.finish();
    this.inFlight = count;
    this.state = 'sending';
    this.counters.sent += count;
    this.counters.publishes++;
    const generation = this.generation;
    let called = false;
    // Signing happens inside publish(), now, with these credentials and time.
    const onOutcome = (outcome: SendOutcome): void => {
      if (called || generation !== this.generation) return;
      called = true;
      this.settle(stream, count, outcome, creds);
    };
    try {
      this.transport.publish(stream.topic, writer.buf, length, { credentials: creds!, timeMs: signingTime(reading) }, onOutcome);
    } catch (e) {
      // A transport must answer, not throw; if it does, this send ends here as a retry.
      onOutcome({ kind: 'retry', reason: `transport-threw: ${codeOf(e)}` });
    }
  }

  /** Fills the writer with up to maxRecords live records of one stream; returns how many. */
  private buildBatch(index: number): number {
    const stream = this.streams[index]!;
    const writer = this.writers[index]!;
    const q = stream.queue;
    const limit = this.singleRemaining > 0 ? 1 : this.maxRecords;
    writer.begin();
    let n = 0;
    const cursor = this.cursor;
    let ok = q.first(cursor);
    // Bound: at most limit records taken plus at most queue depth skipped.
    for (let steps = 0; ok && n < limit && steps <= limit + q.depth; steps++) {
      if (!writer.fits(cursor.seq, cursor.length)) {
        if (n > 0) break;
        // Can never fit in a publish: a permanent error for this record.
        this.deadLetter(q, cursor, 'too-large-for-publish');
        ok = q.next(cursor);
        continue;
      }
      const at = writer.beginRecord(cursor.seq);
      try {
        q.read(cursor, writer.buf, at);
      } catch (e) {
        // Only a record that is itself bad (or already gone) is dead-lettered; a
        // failing queue or flash is thrown on to queueFault(), the record kept.
        if (!(e instanceof QueueError && (e.code === 'record-corrupt' || e.code === 'record-gone'))) throw e;
        writer.abandonRecord(at, cursor.seq);
        this.deadLetter(q, cursor, e.code);
        ok = q.next(cursor);
        continue;
      }
      writer.endRecord(cursor.length);
      copyRef(cursor, this.refs[n]!);
      n++;
      ok = q.next(cursor);
    }
    return n;
  }

  private settle(stream: UploadStream, count: number, outcome: SendOutcome, creds: AwsCredentials | null): void {
    this.inFlight = 0;
    try {
      this.apply(stream, count, outcome, creds);
      // Every queue call of this send worked: the queue is healthy again.
      this.queueBackoff.reset();
    } catch (e) {
      // ack()/deadLetter() failed: whatever was not acked is sent again later (at-least-once).
      this.queueFault(e);
    }
  }

  private apply(stream: UploadStream, count: number, outcome: SendOutcome, creds: AwsCredentials | null): void {
    if (outcome === null || typeof outcome !== 'object') outcome = { kind: 'retry', reason: 'no-outcome' };
    this.lastOutcome = outcome.kind === 'ack' ? 'ack' : `${String(outcome.kind)}: ${String((outcome as { reason?: unknown }).reason)}`;
    switch (outcome.kind) {
      case 'ack':
        for (let i = 0; i < count; i++) if (stream.queue.ack(this.refs[i]!)) this.counters.acked++;
        if (this.singleRemaining > 0) this.singleRemaining--;
        this.backoff.reset();
        this.localBackoff.reset();
        this.schedule(this.minIntervalMs);
        return;
      case 'retry':
        this.counters.retried++;
        this.schedule(this.backoff.next());
        return;
      case 'skew':
        this.counters.retried++;
        this.counters.skewEvents++;
        this.clock.markDisrupted(`server-skew: ${outcome.reason}`);
        this.schedule(this.holdRetryMs);
        return;
      case 'expired-token':
        this.counters.retried++;
        this.refreshCredentials('expired-token');
        this.schedule(this.holdRetryMs);
        return;
      case 'auth':
        this.counters.retried++;
        this.refreshCredentials('auth');
        this.schedule(this.backoff.next());
        return;
      case 'local': {
        // The device's own state: hold the data, never dead-letter it.
        const delay = this.localBackoff.next();
        this.heldCredentials = creds;
        this.holdUntilMono = this.clock.monoNow() + delay;
        this.hold('signing-failed', Math.min(delay, this.holdRetryMs));
        return;
      }
      case 'permanent':
        if (count > 1) {
          // Find the offending record: resend this batch one record at a time.
          this.counters.retried++;
          this.singleRemaining = count;
        } else {
          this.deadLetter(stream.queue, this.refs[0]!, outcome.reason);
          if (this.singleRemaining > 0) this.singleRemaining--;
        }
        this.schedule(this.minIntervalMs);
        return;
      default:
        // Not an outcome a transport may give: keep the data, try again later.
        this.counters.retried++;
        this.schedule(this.backoff.next());
        return;
    }
  }

  /** Holds the data back for `reason` (counted) and looks again after delayMs. */
  private hold(reason: HoldReason, delayMs: number): void {
    this.heldBack[reason]++;
    this.lastHeldBack = reason;
    this.state = 'holding';
    this.schedule(delayMs);
  }

  /** A queue call threw: nothing was acked or dead-lettered for it; count, hold, retry after a capped backoff. */
  private queueFault(e: unknown): void {
    this.inFlight = 0;
    this.counters.queueErrors++;
    this.lastOutcome = `queue-error: ${codeOf(e)}`;
    this.hold('queue-unavailable', this.queueBackoff.next());
  }

  private deadLetter(q: PersistentQueue, ref: RecordRef, reason: string): void {
    if (q.deadLetter(ref)) this.counters.deadLettered++;
    this.lastOutcome = `dead-letter: ${reason}`;
  }

  private refreshCredentials(reason: string): void {
    this.counters.credentialRefreshes++;
    this.credentials.refresh(reason);
  }

  private schedule(delayMs: number): void {
    this.clearPump();
    if (this.state === 'stopped') return;
    if (this.state !== 'holding') this.state = 'waiting';
    this.pumpTimer = this.timer.set(() => {
      this.pumpTimer = null;
      this.guarded(() => this.pump());
    }, delayMs);
  }

  private clearPump(): void {
    if (this.pumpTimer !== null) this.timer.clear(this.pumpTimer);
    this.pumpTimer = null;
  }

  private scheduleHealth(): void {
    this.healthTimer = this.timer.set(() => {
      this.healthTimer = null;
      if (this.state === 'stopped') return;
      this.scheduleHealth();
      this.appendHealth();
    }, this.healthIntervalMs);
  }

  /**
   * Runs a timer callback's work; an unexpected exception (a bug, a clock or
   * credentials port throwing) must not escape into the timer port nor leave
   * the pump without a timer: it is counted and the pump retried later.
   */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.inFlight = 0;
      this.lastOutcome = `internal-error: ${codeOf(e)}`;
      if (this.state !== 'stopped' && this.pumpTimer === null) this.schedule(this.queueBackoff.next());
    }
  }

  /** Appends the health snapshot as a record (JSON) to the health stream. Never throws. */
  appendHealth(): void {
    this.guarded(() => this.appendHealthRecord());
  }

  private appendHealthRecord(): void {
    const h = this.health();
    const record = {
      kind: 'health',
      timeState: h.timeState,
      timeBoundMs: Number.isFinite(h.timeBoundMs) ? h.timeBoundMs : null,
      credentialsLeftMs: h.credentialsLeftMs,
      queueDepth: h.queueDepth,
      sent: h.sent,
      acked: h.acked,
      retried: h.retried,
      deadLettered: h.deadLettered,
      dropped: h.dropped,
      rejected: h.rejected,
      queueErrors: h.queueErrors,
      heldBack: h.heldBack,
    };
    try {
      this.healthStream.queue.append(utf8Bytes(JSON.stringify(record)));
    } catch (e) {
      // A full reject-new queue refuses it (counted there); anything else is a queue error.
      if (!(e instanceof QueueError && e.code === 'queue-full')) this.counters.queueErrors++;
    }
    this.kick();
  }
}

/** Equal credentials (a source may hand out a new object for the same ones). */
function sameCredentials(a: AwsCredentials | null, b: AwsCredentials | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.accessKeyId === b.accessKeyId && a.expirationMs === b.expirationMs && a.sessionToken === b.sessionToken;
}

/** An error's code for health and logs (never its message: it might quote data). */
function codeOf(e: unknown): string {
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.length <= 40 ? code : 'error';
}

function copyRef(from: RecordRef, to: RecordRef): RecordRef {
  to.block = from.block;
  to.blockSeq = from.blockSeq;
  to.offset = from.offset;
  to.length = from.length;
  to.seq = from.seq;
  to.crc = from.crc;
  return to;
}

function nonNegative(name: string, v: number): number {
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new ConfigError('bad-config', `${name} must be a finite number >= 0`);
  return v;
}
