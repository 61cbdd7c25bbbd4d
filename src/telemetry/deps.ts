// The narrow interfaces of the telemetry core's own: how it signs and how a
// transport reports a publish. Real implementations (src/sigv4
// IotRequestSigner, the HTTPS and MQTT transports) plug in; tests pass fakes.
// The clock's contract is in src/time/authority.ts, the credentials' in
// src/shared/contracts.ts, the WebSocket port in src/ports.ts.
import type { HeaderList } from '../ports.js';
import type { AwsCredentials } from '../shared/contracts.js';

/** Signs at send time. src/sigv4/iot-request-signer.ts implements it. */
export interface RequestSigner {
  /** AWS IoT HTTPS publish `POST /topics/<topic>?qos=1`: returns the wire path and every header to send. */
  signPublish(credentials: AwsCredentials, topic: string, body: Uint8Array, timeMs: number): { path: string; headers: HeaderList };
  /** `wss://<endpoint>/mqtt?...` presigned for MQTT over WebSocket. */
  presignMqtt(credentials: AwsCredentials, timeMs: number): string;
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

/** Credentials and signing time, decided by the hold check just before the send. */
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
