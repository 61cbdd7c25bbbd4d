// The narrow interfaces the telemetry core consumes. Real implementations
// (src/time SecureClock, src/sigv4 Signer, platform WebSocket/HTTP adapters)
// plug in directly or through a thin adapter; tests pass fakes.
import type { HeaderList } from '../ports.js';

/** A reading of the secure clock (epoch ms). SecureClock#now() returns one. */
export interface TimeReading {
  /** 'SYNCED' and 'FREE_RUNNING' are trusted; anything else is not. */
  state: string;
  earliest: number;
  latest: number;
  bound: number;
}

/** What the uploader and the credentials client need from the secure clock (src/time SecureClock fits as is). */
export interface TimeAuthority {
  now(): TimeReading;
  /** Evidence says our time is wrong (a skew answer): drop trust and resync. */
  markDisrupted(reason: string): void;
  /** Monotonic ms, to time a request's round trip. */
  monoNow(): number;
  /** Offers a response's Date header as a time vote; returns a verdict for logs. */
  addDateVote(source: string, headers: HeaderList, sentMonoMs: number): string;
  /**
   * The cloud accepted a request SigV4-signed at `signedAtMs` (a 2xx answer,
   * or CONNACK 0 on a presigned URL): authenticated evidence that true time
   * is at least signedAtMs - SIGV4_MAX_SKEW_MS. Raises the trusted floor.
   */
  acceptedSignature(signedAtMs: number): void;
}

/** Temporary AWS credentials. The secret and the token never appear in logs or errors. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Expiration, epoch ms. */
  readonly expirationMs: number;
}

/** What the uploader needs from credentials management (src/credentials CredentialsClient). */
export interface CredentialSource {
  /** The newest credentials held, or null. Freshness is judged by the gate. */
  current(): AwsCredentials | null;
  /** Ask for new credentials now (no-op while a request is in flight). */
  refresh(reason: string): void;
}

/** Signs at send time. src/agent/request-signer.ts adapts src/sigv4. */
export interface RequestSigner {
  /** AWS IoT HTTPS publish `POST /topics/<topic>?qos=1`: returns the wire path and every header to send. */
  signPublish(credentials: AwsCredentials, topic: string, body: Uint8Array, timeMs: number): { path: string; headers: HeaderList };
  /** `wss://<endpoint>/mqtt?...` presigned for MQTT over WebSocket. */
  presignMqtt(credentials: AwsCredentials, timeMs: number): string;
}

/** An open WebSocket (binary messages). */
export interface WebSocketLink {
  send(bytes: Uint8Array, start: number, end: number): void;
  close(): void;
}

export interface WebSocketHandlers {
  onOpen(): void;
  /** One binary message; `bytes` is valid only during the call. */
  onMessage(bytes: Uint8Array): void;
  /** Called once; error is null for a clean close. */
  onClose(error: Error | null): void;
}

/** Platform adapters implement this (Node: ws; Moddable: its WebSocket client over TLS). */
export interface WebSocketPort {
  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink;
}

/** How a publish ended, as far as the uploader cares. */
export type SendOutcome =
  | { kind: 'ack' }
  /** 429, 5xx, network or connection errors: back off and try again. */
  | { kind: 'retry'; reason: string }
  /** The server says our request time is off: mark the clock DISRUPTED. */
  | { kind: 'skew'; reason: string }
  /** The session token expired: refresh credentials. */
  | { kind: 'expired-token'; reason: string }
  /** Other authentication/authorization refusals: refresh credentials, back off. */
  | { kind: 'auth'; reason: string }
  /**
   * The device could not build the request itself (signer limits, credentials,
   * topic or client id from config): not the record's fault. The data is held
   * ('signing-failed') and retried after new credentials or a capped backoff.
   */
  | { kind: 'local'; reason: string }
  /** 413 and other permanent errors: the record goes to the dead letters. */
  | { kind: 'permanent'; reason: string };

/** Credentials and signing time, decided by the gate just before the send. */
export interface SendAuth {
  credentials: AwsCredentials;
  timeMs: number;
}

/** A way to deliver one message and learn whether the cloud accepted it. */
export interface PublishTransport {
  /** Largest body the transport can carry, when it has a fixed buffer; the uploader refuses a larger maxPublishBytes. */
  readonly maxBodyBytes?: number;
  publish(topic: string, body: Uint8Array, length: number, auth: SendAuth, callback: (outcome: SendOutcome) => void): void;
  /** Drop any connection. A publish in flight ends with 'retry' or is never answered (callers ignore late answers). */
  close(): void;
}
