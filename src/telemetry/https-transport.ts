// AWS IoT Core HTTPS publish (`POST /topics/<topic>?qos=1`) over an HttpPort,
// signed at send time with the credentials and time the hold check approved.
// Each exchange has a deadline kept by the core's timer (cancelled at the
// port when it passes); every publish() gets exactly one outcome, and no
// exception leaves the port's callback: a malformed answer or a throwing
// clock is counted and classified, never thrown.
import type { PublishTransport, RequestSigner, SendAuth, SendOutcome } from './deps.js';
import type { TimeAuthority } from '../time/authority.js';
import { classifyHttpAnswer } from './http-status.js';
import type { HttpExchange, HttpPort, HttpResponse, TimerPort } from '../ports.js';
import { DEFAULT_HTTP_DEADLINE_MS, MAX_HTTP_DEADLINE_MS, requestWithDeadline } from '../shared/http-deadline.js';
import { ConfigError } from './errors.js';

/** Default deadline of one publish exchange (request sent to answer read). */
export const DEFAULT_PUBLISH_DEADLINE_MS = DEFAULT_HTTP_DEADLINE_MS;

export interface HttpsTransportOptions {
  http: HttpPort;
  signer: RequestSigner;
  /** IoT data endpoint host (as signed in Host). */
  host: string;
  /** Default 443. */
  port?: number;
  /** When given, each answer's Date header is offered to the clock as a vote. */
  clock?: TimeAuthority | null;
  /** Keeps each exchange's deadline. */
  timer: TimerPort;
  /** Deadline of one exchange, ms (at most MAX_HTTP_DEADLINE_MS). Default DEFAULT_PUBLISH_DEADLINE_MS. */
  deadlineMs?: number;
}

/** What went wrong inside the transport, for health and tests. */
export interface HttpsTransportFaults {
  /** Answers that were not a well-formed response (status, headers, body). */
  malformedAnswers: number;
  /** The clock threw while taking a Date vote (the answer was still classified). */
  clockErrors: number;
  /** The caller's outcome callback threw (swallowed: it must not reach the port). */
  callbackErrors: number;
  /** Exchanges that hit their deadline. */
  deadlines: number;
}

export class HttpsPublishTransport implements PublishTransport {
  private readonly options: HttpsTransportOptions;
  private readonly deadlineMs: number;
  private generation = 0;
  private exchange: HttpExchange | null = null;
  readonly faults: HttpsTransportFaults = { malformedAnswers: 0, clockErrors: 0, callbackErrors: 0, deadlines: 0 };

  constructor(options: HttpsTransportOptions) {
    this.options = options;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_PUBLISH_DEADLINE_MS;
    if (options.timer === undefined || options.timer === null) throw new ConfigError('bad-config', 'a timer is required (it keeps the publish deadline)');
    if (!(this.deadlineMs > 0 && this.deadlineMs <= MAX_HTTP_DEADLINE_MS)) throw new ConfigError('bad-config', `deadlineMs must be in (0, ${MAX_HTTP_DEADLINE_MS}]`);
  }

  publish(topic: string, body: Uint8Array, length: number, auth: SendAuth, callback: (outcome: SendOutcome) => void): void {
    const { http, signer, host } = this.options;
    let done = false;
    const answer = (outcome: SendOutcome): void => {
      if (done) return;
      done = true;
      try {
        callback(outcome);
      } catch {
        this.faults.callbackErrors++;
      }
    };
    const view = body.subarray(0, length);
    let signed: { path: string; headers: Array<[string, string]> };
    try {
      signed = signer.signPublish(auth.credentials, topic, view, auth.timeMs);
    } catch (e) {
      // The device's own limits, credentials or topic: not the record's fault.
      const code = (e as { code?: unknown } | null)?.code;
      answer({ kind: 'local', reason: `sign-failed: ${typeof code === 'string' ? code : 'error'}` });
      return;
    }
    const clock = this.options.clock ?? null;
    let sent = 0;
    if (clock !== null) {
      try {
        sent = clock.monoNow();
      } catch {
        this.faults.clockErrors++;
      }
    }
    const generation = this.generation;
    const request = { method: 'POST', host, port: this.options.port ?? 443, path: signed.path, headers: signed.headers, body: view };
    let exchange: HttpExchange | null = null;
    const started = requestWithDeadline(http, this.options.timer, request, this.deadlineMs, (error, response) => {
      if (exchange !== null && this.exchange === exchange) this.exchange = null;
      if (generation !== this.generation) return;
      if (error !== null || response === null) {
        if ((error as { code?: unknown } | null)?.code === 'deadline') {
          this.faults.deadlines++;
          answer({ kind: 'retry', reason: 'deadline' });
        } else answer({ kind: 'retry', reason: 'network' });
        return;
      }
      answer(this.classify(response, clock, sent, auth.timeMs));
    });
    // Still pending unless it was answered synchronously.
    if (!done) {
      exchange = started;
      this.exchange = started;
    }
  }

  /** Classifies an answer; anything malformed in it is counted, never thrown. */
  private classify(response: HttpResponse, clock: TimeAuthority | null, sent: number, signedAtMs: number): SendOutcome {
    let status: unknown;
    let headers: unknown;
    let body: unknown;
    try {
      status = response.status;
      headers = response.headers;
      body = response.body;
    } catch {
      status = undefined;
    }
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      this.faults.malformedAnswers++;
      return { kind: 'retry', reason: 'http-malformed' };
    }
    if (clock !== null && Array.isArray(headers)) {
      try {
        clock.addDateVote(`https:${this.options.host}`, headers as HttpResponse['headers'], sent);
      } catch {
        // A bad Date (or a clock bug) costs the vote, not the answer.
        this.faults.clockErrors++;
      }
    } else if (!Array.isArray(headers)) this.faults.malformedAnswers++;
    if (!(body instanceof Uint8Array)) {
      if (body !== undefined && body !== null) this.faults.malformedAnswers++;
      body = new Uint8Array(0);
    }
    if (clock !== null && status >= 200 && status <= 299) {
      // The cloud accepted a request signed at signedAtMs: authenticated time evidence.
      try {
        clock.acceptedSignature(signedAtMs);
      } catch {
        this.faults.clockErrors++;
      }
    }
    return classifyHttpAnswer(status, body as Uint8Array);
  }

  /** Abandons the exchange in flight (cancelled at the port); its publish is never answered. */
  close(): void {
    this.generation++;
    const x = this.exchange;
    this.exchange = null;
    if (x !== null) x.cancel();
  }
}
