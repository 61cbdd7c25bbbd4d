// MQTT 3.1.1 over WebSocket as a PublishTransport: QoS 1, one publish in
// flight, the record batch leaves the queue only after its PUBACK. The
// connection is opened on demand with a freshly presigned URL (signed with
// the credentials and time the hold check approved for this send), and after any
// failure the next publish reconnects with a new URL. Every wait is bounded
// by a timer (WebSocket upgrade + CONNACK, PUBACK, keep-alive), every
// publish() gets exactly one outcome, and no exception leaves a WebSocket or
// timer callback: a throwing port or malformed input drops the connection
// (counted in `faults`) and the publish in flight ends with 'retry'.
import type { PublishTransport, RequestSigner, SendAuth, SendOutcome } from './deps.js';
import type { TimeAuthority } from '../time/authority.js';
import { ConfigError, MqttError } from './errors.js';
import {
  CONNACK,
  IOT_MAX_MESSAGE_BYTES,
  MqttDecoder,
  PINGRESP,
  PUBACK,
  PUBLISH,
  encodeConnect,
  encodeDisconnect,
  encodePingreq,
  encodePuback,
  encodePublish,
  type MqttPacket,
} from './mqtt-codec.js';
import type { TimerPort, WebSocketLink, WebSocketPort } from '../ports.js';

export interface MqttTransportOptions {
  ws: WebSocketPort;
  timer: TimerPort;
  /** Presigns `wss://<endpoint>/mqtt` per connection; null: use `url` as is (local broker, tests). */
  signer: RequestSigner | null;
  url?: string;
  clientId: string;
  /** AWS IoT accepts 30..1200 s. Default 60. */
  keepAliveSeconds?: number;
  /** Default 10 s each. */
  connectTimeoutMs?: number;
  pubackTimeoutMs?: number;
  /** Largest publish body; sizes the encode buffer. Default 4096, at most 128 KiB. */
  maxPublishBytes?: number;
  /** Largest incoming packet accepted. Default 1024 (we expect only acks and pings). */
  maxIncomingBytes?: number;
  /** When given, a CONNACK 0 on a presigned URL tells it the signature was accepted. */
  clock?: TimeAuthority | null;
}

export const DEFAULT_KEEPALIVE_SECONDS = 60;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_PUBACK_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_INCOMING_BYTES = 1024;
/** Longest connect or PUBACK wait accepted (a longer one is a wedge by another name). */
export const MAX_MQTT_WAIT_MS = 300_000;
/** Topic + fixed/variable header room on top of the body in the encode buffer. */
const PUBLISH_OVERHEAD_BYTES = 512;
export const MQTT_SUBPROTOCOL = 'mqtt';

/** What went wrong inside the transport, for health and tests. */
export interface MqttTransportFaults {
  /** A WebSocket handler, link.send/close or ws.connect threw (the connection was dropped). */
  portErrors: number;
  /** The caller's outcome callback threw (swallowed: it must not reach the port). */
  callbackErrors: number;
}

interface Pending {
  topic: string;
  body: Uint8Array;
  callback: (outcome: SendOutcome) => void;
}

export class MqttWsTransport implements PublishTransport {
  private readonly o: MqttTransportOptions;
  private readonly out: Uint8Array;
  private readonly small = new Uint8Array(8);
  private readonly decoder: MqttDecoder;
  private readonly keepAliveSeconds: number;
  private link: WebSocketLink | null = null;
  private state: 'closed' | 'connecting' | 'connected' = 'closed';
  private pending: Pending | null = null;
  private packetId = 0;
  private awaitingId = 0;
  private waitTimer: unknown = null;
  private pingTimer: unknown = null;
  private awaitingPong = false;
  /** Identifies the current connection; handlers of older ones are ignored. */
  private connectionId = 0;
  /** Signing time of the current connection's presigned URL; null without a signer. */
  private presignedAtMs: number | null = null;
  /** Connections opened (each with a fresh URL). */
  connects = 0;
  readonly maxBodyBytes: number;
  readonly faults: MqttTransportFaults = { portErrors: 0, callbackErrors: 0 };
  private readonly connectTimeoutMs: number;
  private readonly pubackTimeoutMs: number;

  constructor(options: MqttTransportOptions) {
    if (options.signer === null && typeof options.url !== 'string') throw new ConfigError('bad-config', 'url required without a signer');
    this.keepAliveSeconds = options.keepAliveSeconds ?? DEFAULT_KEEPALIVE_SECONDS;
    if (!(Number.isInteger(this.keepAliveSeconds) && this.keepAliveSeconds >= 1 && this.keepAliveSeconds <= 0xffff)) {
      throw new ConfigError('bad-config', 'keepAliveSeconds must be in [1, 65535]');
    }
    const maxBody = options.maxPublishBytes ?? 4096;
    if (!(Number.isInteger(maxBody) && maxBody >= 1 && maxBody <= IOT_MAX_MESSAGE_BYTES)) throw new ConfigError('bad-config', 'maxPublishBytes must be in [1, 131072]');
    this.connectTimeoutMs = waitOption('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    this.pubackTimeoutMs = waitOption('pubackTimeoutMs', options.pubackTimeoutMs ?? DEFAULT_PUBACK_TIMEOUT_MS);
    this.o = options;
    this.maxBodyBytes = maxBody;
    this.out = new Uint8Array(maxBody + PUBLISH_OVERHEAD_BYTES);
    this.decoder = new MqttDecoder(options.maxIncomingBytes ?? DEFAULT_MAX_INCOMING_BYTES);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  publish(topic: string, body: Uint8Array, length: number, auth: SendAuth, callback: (outcome: SendOutcome) => void): void {
    if (this.pending !== null) {
      callback({ kind: 'retry', reason: 'busy' });
      return;
    }
    this.pending = { topic, body: body.subarray(0, length), callback };
    if (this.state === 'connected') this.sendPending();
    else if (this.state === 'closed') this.open(auth);
  }

  close(): void {
    if (this.state === 'connected' && this.link !== null) {
      try {
        this.link.send(this.small, 0, encodeDisconnect(this.small));
      } catch {
        // closing anyway
      }
    }
    this.teardown('closed');
  }

  private open(auth: SendAuth): void {
    let url: string;
    try {
      url = this.o.signer === null ? this.o.url! : this.o.signer.presignMqtt(auth.credentials, auth.timeMs);
      this.presignedAtMs = this.o.signer === null ? null : auth.timeMs;
    } catch (e) {
      // The device's own limits or credentials: not the record's fault.
      const code = (e as { code?: unknown } | null)?.code;
      this.finish({ kind: 'local', reason: `presign-failed: ${typeof code === 'string' ? code : 'error'}` });
      return;
    }
    this.state = 'connecting';
    this.decoder.reset();
    this.connects++;
    const id = ++this.connectionId;
    const handlers = {
      onOpen: () => {
        if (this.connectionId !== id || this.link === null) return;
        this.guard(id, 'send-failed', () => {
          const n = encodeConnect(this.out, { clientId: this.o.clientId, keepAliveSeconds: this.keepAliveSeconds, cleanSession: true });
          this.link!.send(this.out, 0, n);
        });
      },
      onMessage: (bytes: Uint8Array) => {
        if (this.connectionId !== id) return;
        try {
          if (!(bytes instanceof Uint8Array)) throw new MqttError('malformed-packet', 'message is not binary');
          // A packet after one that dropped the connection (same message) belongs to no connection.
          this.decoder.push(bytes, 0, bytes.length, (p) => {
            if (this.connectionId === id) this.onPacket(p);
          });
        } catch (e) {
          if (this.connectionId !== id) return;
          if (e instanceof MqttError) this.teardown(`protocol: ${e.code}`);
          else {
            this.faults.portErrors++;
            this.teardown('internal-error');
          }
        }
      },
      onClose: (error: Error | null, upgradeStatus?: number) => {
        if (this.connectionId !== id) return;
        this.link = null;
        this.guard(id, 'connection-error', () => {
          // A refused upgrade of a presigned URL is the credentials' or the signature's fault:
          // say so, so the uploader refreshes them instead of retrying the same URL.
          if (this.state === 'connecting' && (upgradeStatus === 401 || upgradeStatus === 403)) this.finish({ kind: 'auth', reason: `upgrade-${upgradeStatus}` });
          this.teardown(error === null ? 'connection-closed' : 'connection-error');
        });
      },
    };
    // Bounds the WebSocket upgrade and the CONNACK together.
    this.setWait(this.connectTimeoutMs, 'connack-timeout');
    // Ports call the handlers asynchronously (after connect() returns).
    let link: WebSocketLink;
    try {
      link = this.o.ws.connect(url, MQTT_SUBPROTOCOL, handlers);
    } catch {
      this.faults.portErrors++;
      if (this.connectionId === id) this.teardown('connect-failed');
      return;
    }
    if (this.connectionId === id) this.link = link;
    else safeClose(link); // dropped already (a handler ran inside connect())
  }

  /** Runs `fn` for connection `id`; if it throws, that connection is dropped with `reason`. */
  private guard(id: number, reason: string, fn: () => void): void {
    try {
      fn();
    } catch {
      this.faults.portErrors++;
      if (this.connectionId === id) this.teardown(reason);
    }
  }

  private onPacket(p: MqttPacket): void {
    switch (p.type) {
      case CONNACK:
        if (this.state !== 'connecting') return this.teardown('protocol: unexpected CONNACK');
        if (p.returnCode !== 0) {
          // 4: bad user name or password, 5: not authorized -> credentials; others: server side.
          const outcome: SendOutcome = p.returnCode === 4 || p.returnCode === 5 ? { kind: 'auth', reason: `connack-${p.returnCode}` } : { kind: 'retry', reason: `connack-${p.returnCode}` };
          this.finish(outcome);
          return this.teardown('refused');
        }
        this.state = 'connected';
        this.clearWait();
        if (this.presignedAtMs !== null && this.o.clock) this.o.clock.acceptedSignature(this.presignedAtMs);
        this.schedulePing();
        if (this.pending !== null) this.sendPending();
        return;
      case PUBACK:
        if (this.awaitingId === 0 || p.packetId !== this.awaitingId) return this.teardown('protocol: unexpected PUBACK');
        this.awaitingId = 0;
        this.clearWait();
        this.finish({ kind: 'ack' });
        return;
      case PINGRESP:
        this.awaitingPong = false;
        return;
      case PUBLISH:
        // Not subscribed to anything; acknowledge QoS 1 so the broker does not resend.
        if (p.qos === 1 && this.link !== null) this.link.send(this.small, 0, encodePuback(this.small, p.packetId));
        return;
      default:
        return this.teardown('protocol: unexpected packet');
    }
  }

  private sendPending(): void {
    const p = this.pending!;
    this.packetId = this.packetId >= 0xffff ? 1 : this.packetId + 1;
    let n: number;
    try {
      n = encodePublish(this.out, { topic: p.topic, qos: 1, packetId: this.packetId }, p.body);
    } catch (e) {
      // The topic (config) or the body size (config) cannot be encoded: the device's own state.
      const code = (e as { code?: unknown } | null)?.code;
      this.finish({ kind: 'local', reason: `encode: ${typeof code === 'string' ? code : 'error'}` });
      return;
    }
    this.awaitingId = this.packetId;
    this.setWait(this.pubackTimeoutMs, 'puback-timeout');
    this.guard(this.connectionId, 'send-failed', () => this.link!.send(this.out, 0, n));
  }

  private schedulePing(): void {
    this.pingTimer = this.o.timer.set(() => {
      this.pingTimer = null;
      if (this.state !== 'connected' || this.link === null) return;
      if (this.awaitingPong) return this.teardown('keepalive-timeout');
      this.awaitingPong = true;
      const id = this.connectionId;
      this.guard(id, 'send-failed', () => this.link!.send(this.small, 0, encodePingreq(this.small)));
      if (this.connectionId === id) this.schedulePing();
    }, this.keepAliveSeconds * 1000);
  }

  private setWait(ms: number, reason: string): void {
    this.clearWait();
    this.waitTimer = this.o.timer.set(() => {
      this.waitTimer = null;
      this.teardown(reason);
    }, ms);
  }

  private clearWait(): void {
    if (this.waitTimer !== null) this.o.timer.clear(this.waitTimer);
    this.waitTimer = null;
  }

  private finish(outcome: SendOutcome): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) return;
    try {
      p.callback(outcome);
    } catch {
      this.faults.callbackErrors++;
    }
  }

  /** Drops the connection; a publish in flight ends with 'retry' (it may have arrived: at-least-once). */
  private teardown(reason: string): void {
    this.clearWait();
    if (this.pingTimer !== null) this.o.timer.clear(this.pingTimer);
    this.pingTimer = null;
    this.awaitingPong = false;
    this.awaitingId = 0;
    this.state = 'closed';
    this.connectionId++;
    const link = this.link;
    this.link = null;
    if (link !== null && !safeClose(link)) this.faults.portErrors++;
    this.finish({ kind: 'retry', reason });
  }
}

/** Closes a link whose port may throw; false when it did. */
function safeClose(link: WebSocketLink): boolean {
  try {
    link.close();
    return true;
  } catch {
    return false;
  }
}

function waitOption(name: string, ms: number): number {
  if (!(typeof ms === 'number' && ms > 0 && ms <= MAX_MQTT_WAIT_MS)) throw new ConfigError('bad-config', `${name} must be in (0, ${MAX_MQTT_WAIT_MS}] ms`);
  return ms;
}
