// Adapts the SigV4 signer to what the uploader asks for (telemetry's
// RequestSigner, matched structurally so sigv4 imports nothing above it):
// HTTPS publish and the presigned MQTT-over-WebSocket URL. One Signer per
// signing name, built once; rotated credentials are swapped in place.
import { IOT_DATA_SERVICE, IOT_GATEWAY_SERVICE, presignMqttUrl, signIotPublish } from './iot.js';
import { Signer } from './signer.js';
import type { SignerLimits } from './limits.js';
import type { AwsCredentials } from '../shared/contracts.js';
import type { HeaderList, Sha256Factory } from '../ports.js';
import { MAX_SESSION_TOKEN_CHARS, MAX_TOPIC_BYTES } from '../shared/aws-limits.js';

/** Room for everything of a presigned URL or an Authorization value except the session token (key id, scope, date, signature...). */
const SIGNED_OUTPUT_OVERHEAD_BYTES = 1024;
/** A percent-encoded byte takes at most 3 bytes (`%XX`). */
const MAX_ENCODED_PER_BYTE = 3;

/**
 * Signer limits sized from what config and the credentials parser accept, so
 * that everything the device accepts it can also sign: a session token of
 * MAX_SESSION_TOKEN_CHARS printable ASCII characters (1 byte each; appended
 * percent-encoded to the MQTT URL, each byte up to 3) and a topic of
 * MAX_TOPIC_BYTES that all percent-encode (`/topics/` + 3 bytes each on the
 * wire path).
 */
export const IOT_SIGNER_LIMITS: Readonly<Partial<SignerLimits>> = Object.freeze({
  maxTokenBytes: MAX_SESSION_TOKEN_CHARS,
  maxPathBytes: '/topics/'.length + MAX_ENCODED_PER_BYTE * MAX_TOPIC_BYTES,
  maxOutputBytes: SIGNED_OUTPUT_OVERHEAD_BYTES + MAX_ENCODED_PER_BYTE * MAX_SESSION_TOKEN_CHARS,
});

export interface IotRequestSignerOptions {
  /** IoT data endpoint as it appears in Host (`abc-ats.iot.us-east-1.amazonaws.com`, or `host:port`). */
  endpoint: string;
  region: string;
  /** Signing name for HTTPS publish: `iotdata` (service model, default) or `iotdevicegateway`. */
  publishService?: string;
  sha256?: Sha256Factory;
  /** Overrides of IOT_SIGNER_LIMITS (which fit every token and topic the device accepts). */
  limits?: Partial<SignerLimits>;
  /** X-Amz-Expires of the MQTT URL; 0 = none (as aws-crt). */
  mqttExpiresSeconds?: number;
}

export class IotRequestSigner {
  private readonly publishSigner: Signer;
  private readonly mqttSigner: Signer;
  private readonly endpoint: string;
  private readonly expires: number;
  private loaded: AwsCredentials | null = null;

  constructor(options: IotRequestSignerOptions) {
    this.endpoint = options.endpoint;
    this.expires = options.mqttExpiresSeconds ?? 0;
    // No credentials yet: the signers refuse to sign until load() gives them the first ones.
    // Neither publish nor the MQTT URL streams an upload: no chunk signer (about 1 KB each).
    const common = { region: options.region, sha256: options.sha256, limits: { ...IOT_SIGNER_LIMITS, ...(options.limits ?? {}) }, chunkedUploads: false };
    this.publishSigner = new Signer({ ...common, service: options.publishService ?? IOT_DATA_SERVICE });
    this.mqttSigner = new Signer({ ...common, service: IOT_GATEWAY_SERVICE });
  }

  private load(c: AwsCredentials): void {
    if (this.loaded === c) return;
    const next = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    this.publishSigner.setCredentials(next);
    this.mqttSigner.setCredentials(next);
    this.loaded = c;
  }

  signPublish(credentials: AwsCredentials, topic: string, body: Uint8Array, timeMs: number): { path: string; headers: HeaderList } {
    this.load(credentials);
    const r = signIotPublish(this.publishSigner, { endpoint: this.endpoint, topic, qos: 1, body, timeMs });
    return { path: r.path, headers: r.headers };
  }

  presignMqtt(credentials: AwsCredentials, timeMs: number): string {
    this.load(credentials);
    return presignMqttUrl(this.mqttSigner, { endpoint: this.endpoint, timeMs, expiresSeconds: this.expires || undefined });
  }
}
