// AWS IoT Core HTTPS publish (`POST /topics/<topic>?qos=1`) over an HttpPort,
// signed at send time with the credentials and time the gate approved.
import type { PublishTransport, RequestSigner, SendAuth, SendOutcome, TimeAuthority } from './deps.js';
import { classifyHttpAnswer } from './http-status.js';
import type { HttpPort } from '../ports.js';

export interface HttpsTransportOptions {
  http: HttpPort;
  signer: RequestSigner;
  /** IoT data endpoint host (as signed in Host). */
  host: string;
  /** Default 443. */
  port?: number;
  /** When given, each answer's Date header is offered to the clock as a vote. */
  clock?: TimeAuthority | null;
}

export class HttpsPublishTransport implements PublishTransport {
  private readonly options: HttpsTransportOptions;
  private generation = 0;

  constructor(options: HttpsTransportOptions) {
    this.options = options;
  }

  publish(topic: string, body: Uint8Array, length: number, auth: SendAuth, callback: (outcome: SendOutcome) => void): void {
    const { http, signer, host } = this.options;
    const view = body.subarray(0, length);
    let signed: { path: string; headers: Array<[string, string]> };
    try {
      signed = signer.signPublish(auth.credentials, topic, view, auth.timeMs);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      callback({ kind: 'permanent', reason: `sign-failed: ${typeof code === 'string' ? code : 'error'}` });
      return;
    }
    const clock = this.options.clock ?? null;
    const sent = clock !== null ? clock.monoNow() : 0;
    const generation = this.generation;
    http.request({ method: 'POST', host, port: this.options.port ?? 443, path: signed.path, headers: signed.headers, body: view }, (error, response) => {
      if (generation !== this.generation) return;
      if (error !== null || response === null) {
        callback({ kind: 'retry', reason: 'network' });
        return;
      }
      if (clock !== null) clock.addDateVote(`https:${host}`, response.headers, sent);
      if (clock !== null && response.status >= 200 && response.status < 300) clock.acceptedSignature(auth.timeMs);
      callback(classifyHttpAnswer(response.status, response.body));
    });
  }

  close(): void {
    this.generation++;
  }
}
