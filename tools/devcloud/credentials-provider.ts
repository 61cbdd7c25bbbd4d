// AWS IoT credentials provider, locally: mutual TLS (device certificate from
// the local CA, CN = thing name), `GET /role-aliases/<alias>/credentials`,
// optional `x-amzn-iot-thingname` header (must match the certificate),
// answer {"credentials":{accessKeyId,secretAccessKey,sessionToken,expiration}}
// with a `Date` header. Not SigV4-signed: it works before the device trusts
// its clock, and the Date header is a time sample from an authenticated server.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { MESSAGES, jsonAnswer, reject, rejectionAnswer, type Rejection, type RejectReason } from './aws-answers.js';
import { formatIsoSeconds } from './amz-date.js';
import type { ShiftableClock } from './clock.js';
import type { CredentialStore } from './credential-store.js';
import type { FaultPlan } from './faults.js';
import { ConnectionTracker, closeServer, listen, sendAnswer } from './http-util.js';
import type { Observability } from './observability.js';
import type { ServerPki } from './state-dir.js';
import { serverCertificateChain } from './state-dir.js';

/** AWS lets a role alias issue credentials for 900 s to 43200 s; the dev cloud also allows shorter ones for tests. */
export const MIN_CREDENTIAL_LIFETIME_SECONDS = 1;
export const MAX_CREDENTIAL_LIFETIME_SECONDS = 43200;
export const DEFAULT_CREDENTIAL_LIFETIME_SECONDS = 3600;
/** Simultaneous connections to the credentials provider. */
export const MAX_PROVIDER_CONNECTIONS = 256;

export interface CredentialsProviderOptions {
  host: string;
  port: number;
  roleAlias: string;
  lifetimeSeconds: number;
}

export interface CredentialsProviderDeps {
  pki: ServerPki;
  clock: ShiftableClock;
  store: CredentialStore;
  faults: FaultPlan;
  observe: Observability;
}

export function checkLifetime(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < MIN_CREDENTIAL_LIFETIME_SECONDS || seconds > MAX_CREDENTIAL_LIFETIME_SECONDS) {
    throw new RangeError(`credential lifetime must be an integer number of seconds in [${MIN_CREDENTIAL_LIFETIME_SECONDS}, ${MAX_CREDENTIAL_LIFETIME_SECONDS}]`);
  }
}

const PATH = /^\/role-aliases\/([^/?]+)\/credentials(?:\?.*)?$/;

export class CredentialsProvider {
  private server: Server | null = null;
  private readonly tracker = new ConnectionTracker();
  private boundPort: number;
  lifetimeSeconds: number;

  constructor(
    private readonly options: CredentialsProviderOptions,
    private readonly deps: CredentialsProviderDeps,
  ) {
    checkLifetime(options.lifetimeSeconds);
    this.lifetimeSeconds = options.lifetimeSeconds;
    this.boundPort = options.port;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer({
      key: this.deps.pki.server.keyPem,
      cert: serverCertificateChain(this.deps.pki),
      // Devices are signed by the intermediate; the root anchors it.
      ca: [this.deps.pki.ca.certPem, this.deps.pki.intermediate.certPem],
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.maxConnections = MAX_PROVIDER_CONNECTIONS;
    this.tracker.watch(server);
    server.on('request', (req, res) => this.onRequest(req, res));
    // A handshake without a certificate from our CA never becomes a request.
    server.on('tlsClientError', () => this.deps.observe.countRejected('client-cert'));
    this.server = server;
    this.boundPort = await listen(server, this.boundPort, this.options.host);
  }

  async stop(): Promise<void> {
    this.tracker.cutAll();
    if (this.server) await closeServer(this.server);
    this.server = null;
  }

  private answerRejection(res: ServerResponse, r: Rejection): void {
    this.deps.observe.countRejected(r.reason);
    sendAnswer(res, rejectionAnswer(r, this.deps.clock.now()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.deps.faults.takeDrop('credentials', 'before')) {
      this.deps.observe.countDropped();
      return void req.socket.destroy();
    }
    const status = this.deps.faults.takeFailure('credentials');
    if (status !== null) {
      const message = status === 429 ? MESSAGES.throttled : status === 500 ? MESSAGES.internal : MESSAGES.unavailable;
      return this.answerRejection(res, reject(`injected-${status}` as RejectReason, message));
    }
    const m = PATH.exec(req.url ?? '');
    if (req.method !== 'GET' || m === null) return this.answerRejection(res, reject('not-found', 'Not Found'));
    let alias: string;
    try {
      alias = decodeURIComponent(m[1]!);
    } catch {
      return this.answerRejection(res, reject('bad-request', 'Role alias has an invalid percent-encoding.'));
    }
    if (alias !== this.options.roleAlias) return this.answerRejection(res, reject('unknown-role-alias', 'Role alias does not exist'));
    const cert = (req.socket as TLSSocket).getPeerCertificate();
    const cn = cert?.subject?.CN;
    const thing = Array.isArray(cn) ? cn[0] : cn;
    if (typeof thing !== 'string' || thing.length === 0) return this.answerRejection(res, reject('client-cert', 'Access Denied'));
    const claimed = req.headers['x-amzn-iot-thingname'];
    if (claimed !== undefined && claimed !== thing) return this.answerRejection(res, reject('thing-mismatch', 'Invalid thing name passed'));

    const now = this.deps.clock.now();
    const c = this.deps.store.issue(thing, now, this.lifetimeSeconds);
    this.deps.observe.countAccepted('credentials');
    if (this.deps.faults.takeDrop('credentials', 'after')) {
      this.deps.observe.countDropped();
      return void req.socket.destroy();
    }
    sendAnswer(
      res,
      jsonAnswer(200, { credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: formatIsoSeconds(c.expirationMs) } }, now),
    );
  }
}
