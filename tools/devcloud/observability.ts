// What tests and the virtual device summary read: counters of accepted and
// rejected requests by reason, and a bounded log of accepted messages.
import type { RejectReason } from './aws-answers.js';

/** Messages kept in the log; older ones are dropped (and counted). */
export const DEFAULT_MESSAGE_LOG_CAPACITY = 10_000;
/** (device id, sequence) pairs remembered to flag redeliveries. */
export const DEFAULT_DEDUP_WINDOW = 100_000;

export type MessageVia = 'https' | 'mqtt' | 'broker';

export interface LoggedMessage {
  /** Position in the log since start (monotonic, survives trimming). */
  index: number;
  /** Dev cloud clock, epoch ms. */
  atMs: number;
  via: MessageVia;
  topic: string;
  qos: number;
  /** Payload as UTF-8 text (lossy for binary payloads; see payloadBase64). */
  payload: string;
  payloadBase64: string;
  /** From a JSON payload's `deviceId`/`device`/`thingName` and `seq`/`sequence`, when present. */
  deviceId: string | null;
  seq: number | null;
  /** True when this (deviceId, seq) was already logged: an at-least-once redelivery. */
  duplicate: boolean;
  /** Thing whose credentials signed the request, or the MQTT client id. */
  sender: string | null;
}

/** Rejections that are not the gateway's verdict on the request (they are faults we injected). */
const INJECTED: ReadonlySet<RejectReason> = new Set(['injected-429', 'injected-500', 'injected-503']);

export interface CounterSnapshot {
  accepted: { https: number; mqttConnections: number; mqttMessages: number; credentials: number; jobs: number };
  rejected: Partial<Record<RejectReason, number>>;
  /** Requests the gateway refused on their merits (auth, bad request); excludes injected faults and provider refusals. */
  gatewayRejected: number;
  /** Answers forced by fault injection (429/500/503) plus dropped or cut connections. */
  injectedFaults: number;
  droppedConnections: number;
  messagesLogged: number;
  messagesTrimmed: number;
  duplicates: number;
}

function identity(payload: Buffer): { deviceId: string | null; seq: number | null } {
  // Cheap guard: only objects are parsed; the payload size is already bounded by the gateway/broker.
  if (payload.length === 0 || payload[0] !== 0x7b) return { deviceId: null, seq: null };
  try {
    const v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    const id = v.deviceId ?? v.device ?? v.thingName;
    const seq = v.seq ?? v.sequence;
    return { deviceId: typeof id === 'string' ? id : null, seq: typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : null };
  } catch {
    return { deviceId: null, seq: null };
  }
}

export class Observability {
  private readonly log: LoggedMessage[] = [];
  private readonly seen = new Set<string>();
  private next = 0;
  private trimmed = 0;
  private dups = 0;
  private readonly accepted = { https: 0, mqttConnections: 0, mqttMessages: 0, credentials: 0, jobs: 0 };
  private readonly rejected = new Map<RejectReason, number>();
  private dropped = 0;

  constructor(
    readonly logCapacity = DEFAULT_MESSAGE_LOG_CAPACITY,
    readonly dedupWindow = DEFAULT_DEDUP_WINDOW,
  ) {}

  countAccepted(kind: 'https' | 'mqttConnections' | 'credentials' | 'jobs'): void {
    this.accepted[kind]++;
  }

  countRejected(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  countDropped(): void {
    this.dropped++;
  }

  recordMessage(atMs: number, via: MessageVia, topic: string, qos: number, payload: Buffer, sender: string | null): LoggedMessage {
    const { deviceId, seq } = identity(payload);
    let duplicate = false;
    if (deviceId !== null && seq !== null) {
      const key = `${deviceId}\u0000${seq}`;
      duplicate = this.seen.has(key);
      if (duplicate) this.dups++;
      else {
        if (this.seen.size >= this.dedupWindow) this.seen.delete(this.seen.values().next().value as string);
        this.seen.add(key);
      }
    }
    if (via === 'mqtt') this.accepted.mqttMessages++;
    const m: LoggedMessage = {
      index: this.next++,
      atMs,
      via,
      topic,
      qos,
      payload: payload.toString('utf8'),
      payloadBase64: payload.toString('base64'),
      deviceId,
      seq,
      duplicate,
      sender,
    };
    this.log.push(m);
    if (this.log.length > this.logCapacity) {
      this.log.shift();
      this.trimmed++;
    }
    return m;
  }

  /** Logged messages with index >= `since`. */
  messages(since = 0): LoggedMessage[] {
    return this.log.filter((m) => m.index >= since);
  }

  counters(): CounterSnapshot {
    let gatewayRejected = 0;
    let injected = 0;
    const rejected: Partial<Record<RejectReason, number>> = {};
    for (const [reason, n] of this.rejected) {
      rejected[reason] = n;
      if (INJECTED.has(reason)) injected += n;
      else if (reason !== 'client-cert' && reason !== 'thing-mismatch' && reason !== 'unknown-role-alias') gatewayRejected += n;
    }
    return {
      accepted: { ...this.accepted },
      rejected,
      gatewayRejected,
      injectedFaults: injected + this.dropped,
      droppedConnections: this.dropped,
      messagesLogged: this.next,
      messagesTrimmed: this.trimmed,
      duplicates: this.dups,
    };
  }

  /** Forget counters and messages (between test phases). */
  reset(): void {
    this.log.length = 0;
    this.seen.clear();
    this.trimmed = 0;
    this.dups = 0;
    this.accepted.https = this.accepted.mqttConnections = this.accepted.mqttMessages = this.accepted.credentials = this.accepted.jobs = 0;
    this.rejected.clear();
    this.dropped = 0;
  }
}
