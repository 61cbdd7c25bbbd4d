// RequestSigner backed by the project's SigV4 signer (src/sigv4): one Signer
// per signing name, credentials swapped in when the source hands out a new
// credentials object. Signing time is always the gate's, never a clock read.
import { Signer, IOT_DATA_SERVICE, IOT_GATEWAY_SERVICE, presignMqttUrl, signIotPublish } from '../sigv4/index.js';
import type { AwsCredentials, RequestSigner } from './deps.js';
import type { HeaderList } from '../ports.js';

export interface Sigv4AdapterOptions {
  region: string;
  /** IoT data endpoint host (`<prefix>-ats.iot.<region>.amazonaws.com`, or `host:port` locally). */
  endpoint: string;
  /** Signing name for HTTPS publish. Default 'iotdata' (some AWS samples use 'iotdevicegateway'). */
  publishService?: string;
  /** X-Amz-Expires of the presigned MQTT URL; 0 or absent: none. */
  mqttExpiresSeconds?: number;
}

export class Sigv4RequestSigner implements RequestSigner {
  private readonly options: Sigv4AdapterOptions;
  private publishSigner: Signer | null = null;
  private mqttSigner: Signer | null = null;
  private publishFor: AwsCredentials | null = null;
  private mqttFor: AwsCredentials | null = null;

  constructor(options: Sigv4AdapterOptions) {
    this.options = options;
  }

  signPublish(credentials: AwsCredentials, topic: string, body: Uint8Array, timeMs: number): { path: string; headers: HeaderList } {
    const signer = this.publish(credentials);
    const r = signIotPublish(signer, { endpoint: this.options.endpoint, topic, qos: 1, body, timeMs });
    return { path: r.path, headers: r.headers };
  }

  presignMqtt(credentials: AwsCredentials, timeMs: number): string {
    return presignMqttUrl(this.mqtt(credentials), { endpoint: this.options.endpoint, timeMs, expiresSeconds: this.options.mqttExpiresSeconds });
  }

  /** Wipes key material held by the signers. */
  wipe(): void {
    if (this.publishSigner !== null) this.publishSigner.wipe();
    if (this.mqttSigner !== null) this.mqttSigner.wipe();
    this.publishFor = null;
    this.mqttFor = null;
  }

  private publish(c: AwsCredentials): Signer {
    if (this.publishSigner === null) {
      this.publishSigner = new Signer({ credentials: plain(c), region: this.options.region, service: this.options.publishService ?? IOT_DATA_SERVICE });
    } else if (this.publishFor !== c) this.publishSigner.setCredentials(plain(c));
    this.publishFor = c;
    return this.publishSigner;
  }

  private mqtt(c: AwsCredentials): Signer {
    if (this.mqttSigner === null) {
      this.mqttSigner = new Signer({ credentials: plain(c), region: this.options.region, service: IOT_GATEWAY_SERVICE, omitSessionToken: true });
    } else if (this.mqttFor !== c) this.mqttSigner.setCredentials(plain(c));
    this.mqttFor = c;
    return this.mqttSigner;
  }
}

function plain(c: AwsCredentials): { accessKeyId: string; secretAccessKey: string; sessionToken: string } {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
}
