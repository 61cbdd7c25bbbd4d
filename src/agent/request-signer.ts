// Adapts the SigV4 signer to what the uploader asks for (RequestSigner):
// HTTPS publish and the presigned MQTT-over-WebSocket URL. One Signer per
// signing name, built once; rotated credentials are swapped in place.
import { IOT_DATA_SERVICE, IOT_GATEWAY_SERVICE, Signer, presignMqttUrl, signIotPublish } from '../sigv4/index.js';
import type { SignerLimits } from '../sigv4/index.js';
import type { AwsCredentials, RequestSigner } from '../telemetry/deps.js';
import type { HeaderList, Sha256Factory } from '../ports.js';

export interface IotRequestSignerOptions {
  /** IoT data endpoint as it appears in Host (`abc-ats.iot.us-east-1.amazonaws.com`, or `host:port`). */
  endpoint: string;
  region: string;
  /** Signing name for HTTPS publish: `iotdata` (service model, default) or `iotdevicegateway`. */
  publishService?: string;
  sha256?: Sha256Factory;
  limits?: Partial<SignerLimits>;
  /** X-Amz-Expires of the MQTT URL; 0 = none (as aws-crt). */
  mqttExpiresSeconds?: number;
}

export class IotRequestSigner implements RequestSigner {
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
    const common = { region: options.region, sha256: options.sha256, limits: options.limits, chunkedUploads: false };
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
