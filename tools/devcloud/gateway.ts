// The TLS gateway: AWS IoT Core's data plane endpoint, locally.
//   POST /topics/<uri-encoded topic>?qos=0|1   HTTPS publish, header-signed
//   GET  /mqtt?X-Amz-...                        MQTT over WebSocket, presigned
//   /things/{thingName}/jobs...                 IoT Jobs data plane (jobs.ts), header-signed, service iot-jobs-data
//   GET  /tuf/metadata/<file>, /tuf/targets/<path>   the TUF repository (tuf-server.ts), no auth
// Every request is verified (sigv4-verifier.ts: aws-crt re-signs it) before
// anything reaches the broker. Faults (faults.ts) are applied here.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { MESSAGES, jsonAnswer, okAnswer, reject, rejectionAnswer, type Rejection, type RejectReason, type WireAnswer } from './aws-answers.js';
import { MAX_MQTT_PACKET_BYTES, type Broker } from './broker.js';
import type { ShiftableClock } from './clock.js';
import type { FaultPlan, FaultTarget, PauseMode } from './faults.js';
import { ConnectionTracker, closeServer, listen, readBody, sendAnswer, sendAnswerOnSocket } from './http-util.js';
import type { Observability } from './observability.js';
import type { SigV4Verifier, VerifyPolicy } from './sigv4-verifier.js';
import type { ServerPki } from './state-dir.js';
import { serverCertificateChain } from './state-dir.js';
import { MAX_TOPIC_BYTES, MAX_TOPIC_SLASHES } from '../../src/shared/aws-limits.js';
import { isTopic } from '../../src/shared/validate.js';
import { JobsError, MAX_JOBS_REQUEST_BYTES, checkRouteIds, jobsRoute, parseJobsBody, type JobStore, type JobsRoute } from './jobs.js';
import type { TufServer } from './tuf-server.js';

/** AWS IoT's limit on an HTTPS publish payload. */
export const MAX_PUBLISH_PAYLOAD_BYTES = 128 * 1024;
/** AWS IoT's limits on a topic name (UTF-8 bytes, slashes): src/shared/aws-limits.ts. */
export { MAX_TOPIC_BYTES, MAX_TOPIC_SLASHES };
/** Longest request line + headers the gateway reads (presigned URLs with 1000+ char tokens fit easily). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Idle keep-alive connections are closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 60_000;
/** Simultaneous connections (HTTPS and MQTT WebSocket) the gateway accepts. */
export const MAX_GATEWAY_CONNECTIONS = 1024;

export interface GatewayOptions {
  host: string;
  port: number;
  region: string;
  /** Signing names accepted for HTTPS publish. */
  publishServices: readonly string[];
  /** Signing names accepted for the MQTT WebSocket handshake. */
  mqttServices: readonly string[];
  /** Signing names accepted for the IoT Jobs data plane. */
  jobsServices: readonly string[];
}

export interface GatewayDeps {
  pki: ServerPki;
  clock: ShiftableClock;
  verifier: SigV4Verifier;
  broker: () => Broker;
  faults: FaultPlan;
  observe: Observability;
  tuf: TufServer;
  jobs: JobStore;
}

type Route =
  | { kind: 'publish'; topic: string; qosText: string | null }
  | { kind: 'mqtt' }
  | { kind: 'tuf'; rest: string }
  | { kind: 'jobs'; path: string; query: string }
  | { kind: 'none' };

function route(method: string, wirePath: string): Route | Rejection {
  const q = wirePath.indexOf('?');
  const path = q < 0 ? wirePath : wirePath.slice(0, q);
  if (path === '/mqtt') return { kind: 'mqtt' };
  if (path.startsWith('/tuf/')) return { kind: 'tuf', rest: path.slice('/tuf/'.length) };
  if (path.startsWith('/things/')) return { kind: 'jobs', path, query: q < 0 ? '' : wirePath.slice(q + 1) };
  if (!path.startsWith('/topics/')) return { kind: 'none' };
  if (method !== 'POST') return reject('method-not-allowed', `Method ${method} is not allowed on /topics; use POST.`);
  let topic: string;
  try {
    topic = decodeURIComponent(path.slice('/topics/'.length));
  } catch {
    return reject('bad-request', 'Topic has an invalid percent-encoding.');
  }
  let qosText: string | null = null;
  if (q >= 0) {
    for (const item of wirePath.slice(q + 1).split('&')) if (item.startsWith('qos=')) qosText = item.slice(4);
  }
  return { kind: 'publish', topic, qosText };
}

function topicProblem(topic: string): string | null {
  // The device's own validator decides; the messages below only say why, as AWS does.
  if (isTopic(topic)) return null;
  if (topic.length === 0) return 'Topic must not be empty.';
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return `Topic is longer than ${MAX_TOPIC_BYTES} bytes.`;
  if (topic.split('/').length - 1 > MAX_TOPIC_SLASHES) return `Topic has more than ${MAX_TOPIC_SLASHES} forward slashes.`;
  if (/[#+\u0000]/.test(topic)) return 'Topic must not contain wildcards (#, +) or NUL.';
  return 'Topic is not valid UTF-8.';
}

export class Gateway {
  private server: Server | null = null;
  private readonly tracker = new ConnectionTracker();
  private readonly held = new Set<Duplex>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    // One WebSocket message carries at most one MQTT packet's worth (ws would otherwise allow 100 MiB).
    maxPayload: MAX_MQTT_PACKET_BYTES,
    handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false),
  });
  private paused: PauseMode | null = null;
  private boundPort: number;

  constructor(
    private readonly options: GatewayOptions,
    private readonly deps: GatewayDeps,
  ) {
    this.boundPort = options.port;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer({
      key: this.deps.pki.server.keyPem,
      cert: serverCertificateChain(this.deps.pki),
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    });
    server.maxConnections = MAX_GATEWAY_CONNECTIONS;
    this.tracker.watch(server);
    // A bug or an aws-crt failure on one request must answer 500, not crash the dev cloud.
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.onRequest(req, res).catch(() => {
        if (!res.headersSent) sendAnswer(res, this.refuse(reject('internal-error', MESSAGES.internal)), true);
        else res.destroy();
      }),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head).catch(() => {
        if (socket.writable) sendAnswerOnSocket(socket, this.refuse(reject('internal-error', MESSAGES.internal)));
        else socket.destroy();
      }),
    );
    server.on('tlsClientError', () => {});
    this.server = server;
    this.boundPort = await listen(server, this.boundPort, this.options.host);
  }

  async stop(): Promise<void> {
    this.releaseHeld();
    this.tracker.cutAll();
    if (this.server) await closeServer(this.server);
    this.server = null;
    this.paused = null;
  }

  /** Cuts every open connection (HTTPS keep-alive and MQTT WebSocket sessions). */
  cutConnections(): number {
    const n = this.tracker.cutAll();
    for (let i = 0; i < n; i++) this.deps.observe.countDropped();
    return n;
  }

  async pause(mode: PauseMode): Promise<void> {
    if (this.paused !== null) await this.resume();
    this.paused = mode;
    if (mode === 'refuse' && this.server) {
      this.tracker.cutAll();
      await closeServer(this.server);
    }
  }

  async resume(): Promise<void> {
    const was = this.paused;
    this.paused = null;
    this.releaseHeld();
    if (was === 'refuse' && this.server) await listen(this.server, this.boundPort, this.options.host);
  }

  private releaseHeld(): void {
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  private hold(socket: Duplex): void {
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
  }

  private refuse(r: Rejection): WireAnswer {
    this.deps.observe.countRejected(r.reason);
    return rejectionAnswer(r, this.deps.clock.now());
  }

  /** Fault injection common to both routes. Returns 'drop', an answer, or null (proceed). */
  private injected(target: FaultTarget): 'drop' | WireAnswer | null {
    if (this.deps.faults.takeDrop(target, 'before')) {
      this.deps.observe.countDropped();
      return 'drop';
    }
    const status = this.deps.faults.takeFailure(target);
    if (status === null) return null;
    const message = status === 429 ? MESSAGES.throttled : status === 500 ? MESSAGES.internal : MESSAGES.unavailable;
    return this.refuse(reject(`injected-${status}` as RejectReason, message));
  }

  private policy(kind: 'publish' | 'mqtt' | 'jobs'): VerifyPolicy {
    if (kind === 'jobs') return { region: this.options.region, services: this.options.jobsServices };
    return kind === 'publish'
      ? { region: this.options.region, services: this.options.publishServices }
      : { region: this.options.region, services: this.options.mqttServices, emptyPayloadHash: true };
  }

  private onTuf(req: IncomingMessage, res: ServerResponse, rest: string): void {
    const fault = this.injected('tuf');
    if (fault === 'drop') return void req.socket.destroy();
    if (fault !== null) return sendAnswer(res, fault);
    // A GET carries no body; whatever came is drained, never read.
    req.resume();
    this.deps.tuf.handle(req, res, rest);
  }

  private async onJobs(req: IncomingMessage, res: ServerResponse, wirePath: string, path: string, query: string): Promise<void> {
    const method = req.method ?? 'GET';
    const jr = jobsRoute(method, path);
    if (jr === 'not-found') return sendAnswer(res, this.refuse(reject('not-found', 'Not Found')));
    if (jr === 'method-not-allowed') return sendAnswer(res, this.refuse(reject('method-not-allowed', `Method ${method} is not allowed on ${path}.`)));

    const fault = this.injected('jobs');
    if (fault === 'drop') return void req.socket.destroy();
    if (fault !== null) return sendAnswer(res, fault);

    const read = await readBody(req, MAX_JOBS_REQUEST_BYTES);
    if (!read.ok) {
      if (!read.tooLarge) return void req.socket.destroy();
      return sendAnswer(res, this.refuse(reject('payload-too-large', `Request body exceeds ${MAX_JOBS_REQUEST_BYTES} bytes.`)), true);
    }
    const verdict = await this.deps.verifier.verify({ method, wirePath, rawHeaders: req.rawHeaders, body: read.body }, this.policy('jobs'), this.deps.clock.now());
    if (!verdict.ok) return sendAnswer(res, this.refuse(verdict.rejection));
    // Role-alias credentials act for their own thing only (the usual ${credentials-iot:ThingName} policy).
    if (verdict.credentials.thingName !== jr.thingName) {
      const action = `iotjobsdata:${jr.op}`;
      return sendAnswer(res, this.refuse(reject('not-authorized', `User: ${verdict.credentials.accessKeyId} is not authorized to perform: ${action} on resource: thing/${jr.thingName}`)));
    }
    const now = this.deps.clock.now();
    let result: object;
    try {
      result = this.runJobs(jr, parseJobsBody(read.body), new URLSearchParams(query));
    } catch (e) {
      if (!(e instanceof JobsError)) throw e;
      const traceId = randomUUID();
      const body: Record<string, unknown> = { message: e.message };
      if (e.executionState !== undefined) body.executionState = e.executionState;
      return sendAnswer(res, jsonAnswer(e.status, body, now, { 'x-amzn-requestid': traceId, 'x-amzn-errortype': e.errorType }));
    }
    this.deps.observe.countAccepted('jobs');
    sendAnswer(res, jsonAnswer(200, result, now, { 'x-amzn-requestid': randomUUID() }));
  }

  private runJobs(r: JobsRoute, body: Record<string, unknown>, query: URLSearchParams): object {
    checkRouteIds(r);
    const jobs = this.deps.jobs;
    switch (r.op) {
      case 'StartNextPendingJobExecution':
        return jobs.startNext(r.thingName, body);
      case 'UpdateJobExecution':
        return jobs.update(r.thingName, r.jobId, body);
      case 'DescribeJobExecution':
        return jobs.describe(r.thingName, r.jobId, query);
      case 'GetPendingJobExecutions':
        return jobs.pending(r.thingName);
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.paused === 'hang') return this.hold(req.socket);
    const wirePath = req.url ?? '/';
    const r = route(req.method ?? 'GET', wirePath);
    if ('reason' in r) return sendAnswer(res, this.refuse(r));
    if (r.kind === 'none') return sendAnswer(res, this.refuse(reject('not-found', 'Not Found')));
    if (r.kind === 'tuf') return this.onTuf(req, res, r.rest);
    if (r.kind === 'jobs') return this.onJobs(req, res, wirePath, r.path, r.query);
    if (r.kind === 'mqtt') return sendAnswer(res, this.refuse(reject('bad-request', 'GET /mqtt must be a WebSocket upgrade (Sec-WebSocket-Protocol: mqtt).')));

    const fault = this.injected('publish');
    if (fault === 'drop') return void req.socket.destroy();
    if (fault !== null) return sendAnswer(res, fault);

    const read = await readBody(req, MAX_PUBLISH_PAYLOAD_BYTES);
    if (!read.ok) {
      if (!read.tooLarge) return void req.socket.destroy();
      return sendAnswer(res, this.refuse(reject('payload-too-large', `Payload exceeds the maximum size of ${MAX_PUBLISH_PAYLOAD_BYTES / 1024} KB.`)), true);
    }
    const verdict = await this.deps.verifier.verify({ method: req.method ?? 'POST', wirePath, rawHeaders: req.rawHeaders, body: read.body }, this.policy('publish'), this.deps.clock.now());
    if (!verdict.ok) return sendAnswer(res, this.refuse(verdict.rejection));

    const problem = topicProblem(r.topic);
    if (problem !== null) return sendAnswer(res, this.refuse(reject('bad-request', problem)));
    // AWS IoT: qos defaults to 0; only 0 and 1 are allowed.
    const qos = r.qosText === null ? 0 : r.qosText === '0' ? 0 : r.qosText === '1' ? 1 : -1;
    if (qos < 0) return sendAnswer(res, this.refuse(reject('bad-request', 'qos must be 0 or 1.')));

    try {
      await this.deps.broker().publish(r.topic, read.body, qos as 0 | 1);
    } catch {
      return sendAnswer(res, this.refuse(reject('broker-error', MESSAGES.internal)));
    }
    const now = this.deps.clock.now();
    this.deps.observe.recordMessage(now, 'https', r.topic, qos, read.body, verdict.credentials.thingName);
    this.deps.observe.countAccepted('https');
    if (this.deps.faults.takeDrop('publish', 'after')) {
      this.deps.observe.countDropped();
      return void req.socket.destroy();
    }
    sendAnswer(res, okAnswer(now));
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    if (this.paused === 'hang') return this.hold(socket);
    const wirePath = req.url ?? '/';
    const r = route(req.method ?? 'GET', wirePath);
    if ('reason' in r) return sendAnswerOnSocket(socket, this.refuse(r));
    if (r.kind !== 'mqtt' || req.method !== 'GET') return sendAnswerOnSocket(socket, this.refuse(reject('not-found', 'Not Found')));

    const fault = this.injected('mqtt');
    if (fault === 'drop') return void socket.destroy();
    if (fault !== null) return sendAnswerOnSocket(socket, fault);

    const verdict = await this.deps.verifier.verify({ method: 'GET', wirePath, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) }, this.policy('mqtt'), this.deps.clock.now());
    if (!verdict.ok) return sendAnswerOnSocket(socket, this.refuse(verdict.rejection));
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('mqtt')) return sendAnswerOnSocket(socket, this.refuse(reject('bad-request', 'Sec-WebSocket-Protocol must include mqtt.')));

    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.deps.observe.countAccepted('mqttConnections');
      if (this.deps.faults.takeDrop('mqtt', 'after')) {
        this.deps.observe.countDropped();
        ws.terminate();
        return;
      }
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      this.deps.broker().attach(stream, req);
    });
  }
}
