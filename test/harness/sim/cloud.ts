// The simulated cloud around one device: SNTP servers (UDP 123), the AWS IoT
// credentials provider and the IoT data endpoint (HTTPS publish), and a
// WebSocket port with a minimal MQTT 3.1.1 broker. Every server answers from
// simulated TRUE time (the gateway and provider from their own, possibly
// skewed, clock) and consults one `Faults` object, which the soak changes in
// phases. Everything that calls into the device goes through the scheduler's
// guard: an exception escaping a device callback is recorded, never lost.
//
// Fault model (tools/devcloud: faults.ts, gateway.ts, credentials-provider.ts,
// the brokers), plus what a hostile or broken network adds:
//   status 429/500/503, drop before processing, drop after processing (the
//   answer is lost after delivery), refuse, hang (accept, never answer: a
//   half-open connection, which stays so until the device cancels), WebSocket
//   handshake 503 / drop before / cut after upgrade, a skewed gateway clock,
//   credentials expired server-side; malformed Date headers, malformed,
//   oversized, truncated and binary bodies, random status codes and header
//   lists, garbage NTP datagrams and garbage WebSocket frames.
import type { HeaderList, HttpExchange, HttpPort, HttpRequest, HttpResponse, UdpPort, UdpSocket, WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../../src/ports.js';
import { decodeUtf8 } from '../../../src/shared/utf8.js';
import { buildReply } from '../fakes.js';
import { SimRandom, type SimScheduler } from './scheduler.js';
import { AWS_MESSAGES, asciiBytes, asciiText, httpDate, isoSeconds, parseAmzDate, percentDecode, skewMessage } from './wire.js';

export type Mode = 'ok' | 'refuse' | 'hang';
export type Drop = 'none' | 'before' | 'after';
export type WsHandshake = 'ok' | '503' | 'drop-before' | 'cut-after' | 'hang';

/** What is wrong with the world right now. Probabilities are per request/datagram/frame. */
export class Faults {
  ntpBlocked = false;
  ntpGarbage = 0;
  dataMode: Mode = 'ok';
  dataStatus: 0 | 429 | 500 | 503 = 0;
  dataDrop: Drop = 'none';
  credsMode: Mode = 'ok';
  credsStatus: 0 | 429 | 500 | 503 = 0;
  credsDrop: Drop = 'none';
  /** Share of requests a status/drop/mode fault hits (the rest are served). */
  hitRate = 0.7;
  /** Gateway and provider clock minus true time (the dev cloud shifts both). */
  cloudShiftMs = 0;
  badDate = 0;
  badCredsBody = 0;
  badDataBody = 0;
  randomAnswer = 0;
  wsHandshake: WsHandshake = 'ok';
  wsGarbage = 0;
  pubackLost = 0;
  connackRefuse = 0;
  wsCut = 0;

  clear(): void {
    const fresh = new Faults();
    Object.assign(this, fresh);
  }
}

export interface CloudOptions {
  scheduler: SimScheduler;
  seed: number;
  /** True time at simulated ms 0 (epoch ms). */
  epochMs: number;
  timeServers: string[];
  credentialsHost: string;
  dataHost: string;
  thingName: string;
  roleAlias: string;
  topics: Record<string, string>;
  credentialLifetimeMs: number;
  /** Highest sequence number tracked per stream (bitmap size). */
  maxSeq: number;
}

/** Fetches older than this leave the window of the fetch-rate bound. */
const HOUR_MS = 3_600_000;
/** Ring of fetch times kept for the hourly count (a count above it saturates). */
const FETCH_RING = 4096;
/** Tokens the provider remembers (older ones read as invalid, as after a key rotation). */
const TOKEN_RING = 256;
const SKEW_WINDOW_MS = 5 * 60_000;
/** Largest frame the simulated broker accepts from the device (AWS IoT: 128 KiB message). */
const MAX_DEVICE_FRAME = 132 * 1024;

/** Unique deliveries of one stream, as the cloud saw them (a bitmap: flat heap). */
export class StreamLedger {
  readonly seen: Uint8Array;
  unique = 0;
  duplicates = 0;
  constructor(maxSeq: number) {
    this.seen = new Uint8Array(maxSeq);
  }
  has(seq: number): boolean {
    return seq >= 0 && seq < this.seen.length && this.seen[seq] === 1;
  }
  mark(seq: number): boolean {
    if (!(Number.isInteger(seq) && seq >= 0 && seq < this.seen.length)) return false;
    if (this.seen[seq] === 1) this.duplicates++;
    else {
      this.seen[seq] = 1;
      this.unique++;
    }
    return true;
  }
}

export class CloudCounters {
  credentialFetches = 0;
  credentialsIssued = 0;
  maxFetchesInHour = 0;
  /** First simulated ms at which the hourly fetch count went above `fetchBound`, or -1. */
  fetchBoundExceededAt = -1;
  publishRequests = 0;
  publishAccepted = 0;
  skewRefusals = 0;
  tokenRefusals = 0;
  /** Answers with a permanent status (4xx but 401/403/408/429) handed to the device: what may justify a dead letter. */
  permanentAnswers = 0;
  /** Bodies from the device the cloud could not read as an envelope: the device's bug. */
  badEnvelopes = 0;
  misrouted = 0;
  wsConnects = 0;
  mqttPublishes = 0;
  mqttProtocolErrors = 0;
  ntpQueries = 0;
  ntpAnswered = 0;
  garbageDatagrams = 0;
  garbageFrames = 0;
  hungExchanges = 0;
  openExchanges = 0;
  maxOpenExchanges = 0;
  openSockets = 0;
  maxOpenSockets = 0;
  openLinks = 0;
  maxOpenLinks = 0;
  callbacksAfterCancel = 0;
}

class SimExchange implements HttpExchange {
  cancelled = false;
  answered = false;
  constructor(
    private readonly http: SimHttp,
    readonly callback: (error: Error | null, response: HttpResponse | null) => void,
  ) {}
  cancel(): void {
    if (this.cancelled || this.answered) return;
    this.cancelled = true;
    this.http.closeExchange();
  }
}

class SimSocket implements UdpSocket {
  onReceive: ((bytes: Uint8Array, address: string, port: number) => void) | null = null;
  closed = false;
  constructor(private readonly cloud: SimCloud) {}
  send(bytes: Uint8Array, address: string, port: number): void {
    if (this.closed) throw new Error('send on a closed socket');
    this.cloud.ntpRequest(this, bytes.slice(0, bytes.length), address, port);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cloud.counters.openSockets--;
  }
  deliver(bytes: Uint8Array, address: string, port: number): void {
    if (this.closed) return;
    const f = this.onReceive;
    if (f === null) return;
    this.cloud.scheduler.guard('udp.onReceive', () => f(bytes, address, port));
  }
}

class SimUdp implements UdpPort {
  constructor(private readonly cloud: SimCloud) {}
  open(): UdpSocket {
    const c = this.cloud.counters;
    c.openSockets++;
    if (c.openSockets > c.maxOpenSockets) c.maxOpenSockets = c.openSockets;
    return new SimSocket(this.cloud);
  }
}

class SimHttp implements HttpPort {
  constructor(private readonly cloud: SimCloud) {}
  request(req: HttpRequest, callback: (error: Error | null, response: HttpResponse | null) => void): HttpExchange {
    const c = this.cloud.counters;
    c.openExchanges++;
    if (c.openExchanges > c.maxOpenExchanges) c.maxOpenExchanges = c.openExchanges;
    const x = new SimExchange(this, callback);
    this.cloud.httpRequest(x, req);
    return x;
  }
  closeExchange(): void {
    this.cloud.counters.openExchanges--;
  }
}

class SimLink implements WebSocketLink {
  closed = false;
  opened = false;
  /** CONNECT received and accepted. */
  session = false;
  constructor(
    private readonly cloud: SimCloud,
    readonly handlers: WebSocketHandlers,
  ) {}
  send(bytes: Uint8Array, start: number, end: number): void {
    if (this.closed) throw new Error('send on a closed WebSocket');
    if (!this.opened) throw new Error('send before the WebSocket is open');
    const frame = bytes.slice(start, end);
    this.cloud.scheduler.post(this.cloud.latency() / 2, () => this.cloud.brokerReceive(this, frame), 'broker');
  }
  close(): void {
    if (this.closed) return;
    this.cloud.shutLink(this, null);
  }
}

class SimWebSockets implements WebSocketPort {
  constructor(private readonly cloud: SimCloud) {}
  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    return this.cloud.wsConnect(url, protocol, handlers);
  }
}

export class SimCloud {
  readonly scheduler: SimScheduler;
  readonly faults = new Faults();
  readonly counters = new CloudCounters();
  readonly ledgers: Record<string, StreamLedger> = {};
  readonly udp: UdpPort;
  readonly http: HttpPort;
  readonly websocket: WebSocketPort;
  /** The named bound the fetch rate is checked against (per simulated hour). */
  fetchBound = Infinity;
  private readonly o: CloudOptions;
  private readonly rng: SimRandom;
  private readonly fetchTimes = new Float64Array(FETCH_RING);
  private fetchWindowStart = 0;
  private readonly tokenExpiry = new Float64Array(TOKEN_RING);
  private tokenSerial = 0;
  /** Tokens with a serial below this were revoked (credentials expired server-side). */
  private revokedBelow = 0;
  private readonly ntpHosts: Record<string, boolean> = {};
  /** Open WebSockets (bounded: the soak checks openLinks). */
  private readonly links: SimLink[] = [];

  constructor(options: CloudOptions) {
    this.o = options;
    this.scheduler = options.scheduler;
    this.rng = new SimRandom(options.seed ^ 0x51c10d);
    for (const s of options.timeServers) this.ntpHosts[s] = true;
    for (const name of Object.keys(options.topics)) this.ledgers[name] = new StreamLedger(options.maxSeq);
    this.udp = new SimUdp(this);
    this.http = new SimHttp(this);
    this.websocket = new SimWebSockets(this);
  }

  trueNow(): number {
    return this.o.epochMs + this.scheduler.nowMs;
  }

  cloudNow(): number {
    return this.trueNow() + this.faults.cloudShiftMs;
  }

  latency(): number {
    return 20 + this.rng.int(100);
  }

  /** Cuts every open WebSocket (dev cloud cutConnections). */
  cutConnections(): void {
    for (const link of this.links.slice(0, this.links.length)) this.shutLink(link, new Error('closed 1006'));
  }

  /** Revokes every credential issued so far (dev cloud POST /credentials/expire). */
  expireCredentials(): void {
    this.revokedBelow = this.tokenSerial;
  }

  // ---------------- SNTP ----------------

  ntpRequest(socket: SimSocket, request: Uint8Array, address: string, port: number): void {
    const c = this.counters;
    const f = this.faults;
    c.ntpQueries++;
    if (this.rng.chance(f.ntpGarbage)) this.garbageDatagrams(socket, request, address, port);
    if (f.ntpBlocked || port !== 123 || this.ntpHosts[address] !== true) return; // filtered: silence
    const oneWay = this.latency() / 2;
    this.scheduler.post(
      oneWay,
      () => {
        const received = this.trueNow();
        const reply = buildReply(request, { receiveMs: received, transmitMs: received + 0.05, rootDispersionMs: 2, rootDelayMs: 1 });
        this.scheduler.post(
          oneWay,
          () => {
            c.ntpAnswered++;
            socket.deliver(reply, address, port);
          },
          'ntp',
        );
      },
      'ntp',
    );
  }

  private garbageDatagrams(socket: SimSocket, request: Uint8Array, address: string, port: number): void {
    const r = this.rng;
    const kind = r.int(8);
    let bytes: Uint8Array;
    let fromAddress = address;
    let fromPort = port;
    const t = this.trueNow();
    switch (kind) {
      case 0:
        bytes = new Uint8Array(r.int(120));
        r.fill(bytes);
        break;
      case 1:
        bytes = buildReply(request, { receiveMs: t, transmitMs: t }).subarray(0, r.int(48));
        break;
      case 2:
        bytes = new Uint8Array(48 + 1 + r.int(200));
        bytes.set(buildReply(request, { receiveMs: t, transmitMs: t }), 0);
        break;
      case 3:
        // A spoofed answer with a believable time but a wrong origin: an off-path liar.
        bytes = buildReply(request, { receiveMs: t + 3_600_000, transmitMs: t + 3_600_000, origin: new Uint8Array(8).fill(7) });
        break;
      case 4:
        bytes = buildReply(request, { receiveMs: t - 86_400_000, transmitMs: t - 86_400_000 });
        fromPort = port + 1;
        break;
      case 5:
        bytes = buildReply(request, { receiveMs: t, transmitMs: t, mode: r.pick([0, 1, 2, 3, 5, 6, 7]), version: r.pick([0, 1, 2, 5, 7]) });
        break;
      case 6:
        // On-path noise that echoes the nonce: unsynchronised or broken servers end the query without a sample.
        bytes = r.chance(0.5)
          ? buildReply(request, { receiveMs: t, transmitMs: t, leap: 3, stratum: 0, refId: '\u0000\u0000\u0000\u0000' })
          : buildReply(request, { receiveMs: t + 5, transmitMs: t, stratum: r.pick([0, 16, 255]) });
        break;
      default:
        bytes = buildReply(request, { receiveMs: t, transmitMs: t, refId: 'RATE', stratum: 0 });
        fromAddress = '10.66.66.66';
    }
    this.counters.garbageDatagrams++;
    const copy = bytes.slice(0, bytes.length);
    this.scheduler.post(this.rng.int(40), () => socket.deliver(copy, fromAddress, fromPort), 'ntp-garbage');
  }

  // ---------------- HTTP: credentials provider and data endpoint ----------------

  httpRequest(x: SimExchange, req: HttpRequest): void {
    const isCreds = req.host === this.o.credentialsHost;
    const isData = req.host === this.o.dataHost;
    if (isCreds) this.countFetch();
    const f = this.faults;
    const mode = isCreds ? f.credsMode : isData ? f.dataMode : 'refuse';
    if (mode === 'refuse' && (!(isCreds || isData) || this.rng.chance(f.hitRate))) return this.fail(x, 'ECONNREFUSED', 1 + this.rng.int(5));
    if (mode === 'hang' && this.rng.chance(f.hitRate)) {
      this.counters.hungExchanges++;
      return; // accepted and never answered: only the device's own deadline ends this
    }
    const drop = isCreds ? f.credsDrop : f.dataDrop;
    if (drop === 'before' && this.rng.chance(f.hitRate)) return this.fail(x, 'ECONNRESET', this.latency());
    const status = isCreds ? f.credsStatus : f.dataStatus;
    const lat = this.latency();
    if (status !== 0 && this.rng.chance(f.hitRate)) {
      const message = status === 429 ? AWS_MESSAGES.throttled : status === 500 ? AWS_MESSAGES.internal : AWS_MESSAGES.unavailable;
      return this.answer(x, status, this.jsonBody({ message }), lat, isData);
    }
    if (this.rng.chance(f.randomAnswer)) return this.randomAnswer(x, req, isData, lat);
    // Processing happens at arrival (half the latency), as on a real server.
    this.scheduler.post(
      lat / 2,
      () => {
        const served = isCreds ? this.serveCredentials(req) : this.servePublish(req);
        if (drop === 'after' && this.rng.chance(f.hitRate)) return this.fail(x, 'ECONNRESET', lat / 2);
        this.answer(x, served.status, served.body, lat / 2, isData);
      },
      'http-server',
    );
  }

  private countFetch(): void {
    const c = this.counters;
    const now = this.scheduler.nowMs;
    this.fetchTimes[c.credentialFetches % FETCH_RING] = now;
    c.credentialFetches++;
    while (this.fetchWindowStart < c.credentialFetches && c.credentialFetches - this.fetchWindowStart <= FETCH_RING && this.fetchTimes[this.fetchWindowStart % FETCH_RING]! <= now - HOUR_MS) {
      this.fetchWindowStart++;
    }
    if (c.credentialFetches - this.fetchWindowStart > FETCH_RING) this.fetchWindowStart = c.credentialFetches - FETCH_RING;
    const inHour = c.credentialFetches - this.fetchWindowStart;
    if (inHour > c.maxFetchesInHour) c.maxFetchesInHour = inHour;
    if (inHour > this.fetchBound && c.fetchBoundExceededAt < 0) c.fetchBoundExceededAt = now;
  }

  private jsonBody(doc: unknown): Uint8Array {
    return asciiBytes(JSON.stringify(doc));
  }

  private fail(x: SimExchange, code: string, delayMs: number): void {
    this.scheduler.post(delayMs, () => this.deliver(x, new Error(code), null, false), 'http-error');
  }

  private answer(x: SimExchange, status: number, body: Uint8Array, delayMs: number, isData: boolean, headers?: HeaderList): void {
    this.scheduler.post(
      delayMs,
      () => {
        const h: HeaderList = headers ?? this.answerHeaders(body.length);
        this.deliver(x, null, { status, headers: h, body }, isData);
      },
      'http-answer',
    );
  }

  private deliver(x: SimExchange, error: Error | null, response: HttpResponse | null, isData: boolean): void {
    if (x.cancelled) return;
    if (x.answered) {
      this.counters.callbacksAfterCancel++;
      return;
    }
    x.answered = true;
    this.counters.openExchanges--;
    if (isData && response !== null) {
      const s = response.status;
      if (s >= 400 && s <= 499 && s !== 401 && s !== 403 && s !== 408 && s !== 429) this.counters.permanentAnswers++;
    }
    this.scheduler.guard('http.callback', () => x.callback(error, response));
  }

  private answerHeaders(length: number): HeaderList {
    const h: HeaderList = [['Date', this.dateHeader()], ['Content-Type', 'application/json'], ['Content-Length', String(length)], ['x-amzn-RequestId', `req-${this.rng.u32()}`]];
    return h;
  }

  private dateHeader(): string {
    if (!this.rng.chance(this.faults.badDate)) return httpDate(this.cloudNow());
    const good = httpDate(this.cloudNow());
    const r = this.rng;
    switch (r.int(10)) {
      case 0:
        return '';
      case 1:
        return 'yesterday';
      case 2:
        return good.replace('GMT', 'UTC');
      case 3:
        return `Xyz${good.slice(3)}`; // wrong day name
      case 4:
        return good.slice(0, 5) + '32' + good.slice(7);
      case 5:
        return `${good} ${'x'.repeat(r.int(5000))}`;
      case 6:
        return good.replace(/\d/g, '\u0661');
      case 7:
        return 'Sun, 06 Nov 1994 08:49:37 GMT';
      case 8:
        return 'Thu, 01 Jan 1970 00:00:00 GMT';
      default:
        return String.fromCharCode(r.int(256), r.int(256), r.int(256)) + good;
    }
  }

  private randomHeaders(): HeaderList {
    const r = this.rng;
    const names = ['Date', 'date', 'DATE', 'Age', 'Content-Length', 'Content-Type', 'Transfer-Encoding', '', ' ', 'X-\u0000', 'x-amzn-ErrorType', 'Set-Cookie', 'Connection'];
    const h: HeaderList = [];
    const n = r.int(12);
    for (let i = 0; i < n; i++) {
      const name = r.pick(names);
      const value = name.toLowerCase() === 'date' ? this.dateHeader() : r.chance(0.3) ? httpDate(this.cloudNow() + r.range(-1e9, 1e9)) : String(r.u32());
      h.push([name, value]);
    }
    return h;
  }

  private randomBody(): Uint8Array {
    const r = this.rng;
    switch (r.int(7)) {
      case 0:
        return new Uint8Array(0);
      case 1: {
        const b = new Uint8Array(r.int(2048));
        r.fill(b);
        return b;
      }
      case 2:
        return asciiBytes('{"credentials":{"accessKeyId":"ASIA'.slice(0, r.int(40)));
      case 3:
        return new Uint8Array(9000 + r.int(60_000)).fill(0x7b);
      case 4:
        return asciiBytes(JSON.stringify({ message: r.pick([AWS_MESSAGES.expiredToken, 'Signature expired: soon', AWS_MESSAGES.invalidToken, 'x']) }));
      case 5:
        return asciiBytes('null');
      default:
        return asciiBytes('\u00ff\u00fe{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[');
    }
  }

  private randomAnswer(x: SimExchange, req: HttpRequest, isData: boolean, lat: number): void {
    const r = this.rng;
    const statuses = [0, 1, 100, 101, 199, 200, 201, 204, 299, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 418, 429, 431, 499, 500, 502, 503, 504, 599, 600, 999, -1, 65536, 1.5, NaN];
    const status = r.pick(statuses);
    this.scheduler.post(
      lat / 2,
      () => {
        // A 2xx from the data endpoint is an ack: the cloud must really have taken the data then.
        if (isData && status >= 200 && status <= 299) {
          const served = this.servePublish(req);
          if (served.status !== 200) return this.answer(x, served.status, served.body, lat / 2, isData);
        }
        // A 2xx from the provider carries whatever body: it may be a valid one.
        const body = !isData && status === 200 && r.chance(0.3) ? this.serveCredentials(req).body : this.randomBody();
        this.answer(x, status, body, lat / 2, isData, this.randomHeaders());
      },
      'http-server',
    );
  }

  private serveCredentials(req: HttpRequest): { status: number; body: Uint8Array } {
    const path = `/role-aliases/${this.o.roleAlias}/credentials`;
    let thing = '';
    for (const [k, v] of req.headers) if (k.toLowerCase() === 'x-amzn-iot-thingname') thing = v;
    if (req.method !== 'GET' || req.path !== path) return { status: 404, body: this.jsonBody({ message: 'Not Found' }) };
    if (thing !== this.o.thingName) return { status: 403, body: this.jsonBody({ message: 'Invalid thing name passed' }) };
    const now = this.cloudNow();
    const serial = ++this.tokenSerial;
    const expiration = now + this.o.credentialLifetimeMs;
    this.tokenExpiry[serial % TOKEN_RING] = expiration;
    this.counters.credentialsIssued++;
    let id = String(serial);
    while (id.length < 12) id = `0${id}`;
    const creds = { accessKeyId: `ASIASIM${id}`, secretAccessKey: `simSecret/${serial}/wJalrXUtnFEMIK7MDENG`, sessionToken: `SimToken-${serial}-IQoJb3JpZ2luX2Vj`, expiration: isoSeconds(expiration) };
    if (this.rng.chance(this.faults.badCredsBody)) return { status: 200, body: this.malformedCredentials(creds) };
    return { status: 200, body: this.jsonBody({ credentials: creds }) };
  }

  private malformedCredentials(c: Record<string, string>): Uint8Array {
    const r = this.rng;
    const good = JSON.stringify({ credentials: c });
    switch (r.int(9)) {
      case 0:
        return asciiBytes(good.slice(0, r.int(good.length)));
      case 1: {
        const b = new Uint8Array(r.int(600));
        r.fill(b);
        return b;
      }
      case 2:
        return asciiBytes(good + ' '.repeat(9000));
      case 3:
        return asciiBytes(JSON.stringify({ credentials: { ...c, expiration: r.pick(['2026-13-01T00:00:00Z', 'tomorrow', '', '1970-01-01T00:00:00Z']) } }));
      case 4:
        return asciiBytes(JSON.stringify({ credentials: { ...c, accessKeyId: r.pick(['', 'short', 'asia lower case key', 7]) } }));
      case 5:
        return asciiBytes(JSON.stringify({ credentials: { ...c, sessionToken: 'x'.repeat(5000) } }));
      case 6:
        return asciiBytes(JSON.stringify({ credentials: [c] }));
      case 7:
        // Valid JSON, credentials already expired (a provider with a broken clock).
        return asciiBytes(JSON.stringify({ credentials: { ...c, expiration: isoSeconds(this.trueNow() - 60_000) } }));
      default: {
        const b = asciiBytes(good);
        b[r.int(b.length)] = 0x80 + r.int(128);
        return b;
      }
    }
  }

  /** Validates X-Amz-Date against the gateway clock and the session token; null when both pass. */
  private authProblem(amz: string | null, token: string | null): { status: number; body: Uint8Array } | null {
    const now = this.cloudNow();
    if (amz === null || token === null) return { status: 403, body: this.jsonBody({ message: AWS_MESSAGES.missingAuth }) };
    const t = parseAmzDate(amz);
    if (!Number.isFinite(t)) return { status: 400, body: this.jsonBody({ message: 'X-Amz-Date is malformed' }) };
    if (Math.abs(t - now) > SKEW_WINDOW_MS) {
      this.counters.skewRefusals++;
      return { status: 403, body: this.jsonBody({ message: skewMessage(t, now) }) };
    }
    const m = /^SimToken-(\d+)-/.exec(token);
    const serial = m === null ? -1 : Number(m[1]);
    if (!(serial > 0 && serial <= this.tokenSerial && serial > this.tokenSerial - TOKEN_RING)) {
      this.counters.tokenRefusals++;
      return { status: 403, body: this.jsonBody({ message: AWS_MESSAGES.invalidToken }) };
    }
    if (serial <= this.revokedBelow || this.tokenExpiry[serial % TOKEN_RING]! <= now) {
      this.counters.tokenRefusals++;
      return { status: 403, body: this.jsonBody({ message: AWS_MESSAGES.expiredToken }) };
    }
    return null;
  }

  private servePublish(req: HttpRequest): { status: number; body: Uint8Array } {
    const c = this.counters;
    c.publishRequests++;
    let amz: string | null = null;
    let token: string | null = null;
    let auth = false;
    for (const [k, v] of req.headers) {
      const n = k.toLowerCase();
      if (n === 'x-amz-date') amz = v;
      else if (n === 'x-amz-security-token') token = v;
      else if (n === 'authorization') auth = v.startsWith('AWS4-HMAC-SHA256 ');
    }
    if (!auth) return { status: 403, body: this.jsonBody({ message: AWS_MESSAGES.missingAuth }) };
    const problem = this.authProblem(amz, token);
    if (problem !== null) return problem;
    const q = req.path.indexOf('?');
    const path = q < 0 ? req.path : req.path.slice(0, q);
    if (req.method !== 'POST' || !path.startsWith('/topics/') || req.path.slice(q + 1) !== 'qos=1') return { status: 400, body: this.jsonBody({ message: 'bad publish request' }) };
    const topic = percentDecode(path.slice('/topics/'.length));
    const body = req.body ?? new Uint8Array(0);
    if (topic === null || !this.record(topic, body, 0, body.length)) return { status: 400, body: this.jsonBody({ message: 'bad publish body' }) };
    if (this.rng.chance(this.faults.badDataBody)) return { status: 200, body: this.randomBody() };
    c.publishAccepted++;
    return { status: 200, body: this.jsonBody({ message: 'OK', traceId: `t-${this.rng.u32()}` }) };
  }

  /** Reads a publish body as the device's envelope and records its records. False: not an envelope (counted). */
  private record(topic: string, body: Uint8Array, start: number, end: number): boolean {
    const text = decodeUtf8(body, start, end, 'refuse');
    type Envelope = { device?: unknown; stream?: unknown; records?: unknown };
    let doc: Envelope | null = null;
    try {
      doc = text === null ? null : (JSON.parse(text) as Envelope | null);
    } catch {
      doc = null;
    }
    const stream = doc !== null && typeof doc === 'object' && typeof doc.stream === 'string' ? doc.stream : '';
    const ledger = this.ledgers[stream];
    if (doc === null || doc.device !== this.o.thingName || ledger === undefined || !Array.isArray(doc.records) || doc.records.length === 0) {
      this.counters.badEnvelopes++;
      return false;
    }
    if (this.o.topics[stream] !== topic) this.counters.misrouted++;
    for (const rec of doc.records as Array<{ seq?: unknown; data?: unknown }>) {
      if (rec === null || typeof rec !== 'object' || typeof rec.seq !== 'number' || typeof rec.data !== 'object' || !ledger.mark(rec.seq)) {
        this.counters.badEnvelopes++;
        return false;
      }
    }
    return true;
  }

  // ---------------- WebSocket + MQTT broker ----------------

  wsConnect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    const c = this.counters;
    c.wsConnects++;
    c.openLinks++;
    if (c.openLinks > c.maxOpenLinks) c.maxOpenLinks = c.openLinks;
    const link = new SimLink(this, handlers);
    this.links.push(link);
    const f = this.faults;
    const lat = this.latency();
    const hit = this.rng.chance(f.hitRate);
    this.scheduler.post(
      lat,
      () => {
        if (link.closed) return;
        const host = `wss://${this.o.dataHost}/mqtt?`;
        if (f.dataMode === 'refuse' && hit) return this.shutLink(link, new Error('connect ECONNREFUSED'));
        if ((f.dataMode === 'hang' || f.wsHandshake === 'hang') && hit) {
          c.hungExchanges++;
          return; // TCP accepted, upgrade never answered
        }
        if (f.wsHandshake === 'drop-before' && hit) return this.shutLink(link, new Error('socket hang up'));
        if (f.wsHandshake === '503' && hit) return this.shutLink(link, new Error('Unexpected server response: 503'));
        if (protocol !== 'mqtt' || !url.startsWith(host)) return this.shutLink(link, new Error('Unexpected server response: 404'));
        let amz: string | null = null;
        let token: string | null = null;
        for (const item of url.slice(host.length).split('&')) {
          const eq = item.indexOf('=');
          const k = item.slice(0, eq);
          if (k === 'X-Amz-Date') amz = percentDecode(item.slice(eq + 1));
          if (k === 'X-Amz-Security-Token') token = percentDecode(item.slice(eq + 1));
        }
        if (this.authProblem(amz, token) !== null) return this.shutLink(link, new Error('Unexpected server response: 403'), 403);
        link.opened = true;
        this.scheduler.guard('ws.onOpen', () => link.handlers.onOpen());
        if (f.wsHandshake === 'cut-after' && hit) this.scheduler.post(this.rng.int(50), () => this.shutLink(link, new Error('closed 1006')), 'ws');
      },
      'ws-handshake',
    );
    return link;
  }

  shutLink(link: SimLink, error: Error | null, upgradeStatus?: number): void {
    if (link.closed) return;
    link.closed = true;
    link.session = false;
    this.counters.openLinks--;
    const i = this.links.indexOf(link);
    if (i >= 0) this.links.splice(i, 1);
    // The port reports the close once, asynchronously, as ws does.
    this.scheduler.post(1, () => this.scheduler.guard('ws.onClose', () => link.handlers.onClose(error, upgradeStatus)), 'ws');
  }

  private toDevice(link: SimLink, bytes: Uint8Array): void {
    this.scheduler.post(
      this.latency() / 2,
      () => {
        if (link.closed) return;
        this.scheduler.guard('ws.onMessage', () => link.handlers.onMessage(bytes));
      },
      'ws',
    );
  }

  brokerReceive(link: SimLink, frame: Uint8Array): void {
    if (link.closed) return;
    const c = this.counters;
    const f = this.faults;
    const r = this.rng;
    if (r.chance(f.wsCut)) return this.shutLink(link, new Error('closed 1006'));
    if (r.chance(f.wsGarbage)) this.garbageFrame(link);
    // One MQTT packet per WebSocket message (what the transport sends); parsed here from the spec.
    if (frame.length < 2 || frame.length > MAX_DEVICE_FRAME) return this.protocolError(link);
    let remaining = 0;
    let mult = 1;
    let k = 1;
    for (; k < 5 && k < frame.length; k++) {
      remaining += (frame[k]! & 0x7f) * mult;
      mult *= 128;
      if ((frame[k]! & 0x80) === 0) break;
    }
    const at = k + 1;
    if (at + remaining !== frame.length) return this.protocolError(link);
    const type = frame[0]! >> 4;
    if (type === 1) {
      // CONNECT: "MQTT", level 4.
      if (link.session || asciiText(frame, at + 2, at + 6) !== 'MQTT' || frame[at + 6] !== 4) return this.protocolError(link);
      if (r.chance(f.connackRefuse)) {
        this.toDevice(link, new Uint8Array([0x20, 2, 0, 1 + r.int(5)]));
        this.scheduler.post(this.latency(), () => this.shutLink(link, null), 'broker');
        return;
      }
      link.session = true;
      this.toDevice(link, new Uint8Array([0x20, 2, 0, 0]));
      return;
    }
    if (!link.session) return this.protocolError(link);
    if (type === 3) {
      const qos = (frame[0]! >> 1) & 3;
      const topicLen = (frame[at]! << 8) | frame[at + 1]!;
      const topic = asciiText(frame, at + 2, at + 2 + topicLen);
      const idAt = at + 2 + topicLen;
      if (qos !== 1 || idAt + 2 > frame.length) return this.protocolError(link);
      const id = (frame[idAt]! << 8) | frame[idAt + 1]!;
      c.mqttPublishes++;
      if (!this.record(topic, frame, idAt + 2, frame.length)) return this.protocolError(link);
      if (r.chance(f.pubackLost)) return; // delivered; the acknowledgement is lost
      this.toDevice(link, r.chance(f.wsGarbage) ? new Uint8Array([0x40, 2, (id + 1) >> 8 & 0xff, (id + 1) & 0xff]) : new Uint8Array([0x40, 2, id >> 8, id & 0xff]));
      return;
    }
    if (type === 12) return this.toDevice(link, new Uint8Array([0xd0, 0]));
    if (type === 14) return this.shutLink(link, null);
    if (type === 4) return; // PUBACK of a broker publish
    return this.protocolError(link);
  }

  private protocolError(link: SimLink): void {
    this.counters.mqttProtocolErrors++;
    this.shutLink(link, new Error('protocol error'));
  }

  private garbageFrame(link: SimLink): void {
    const r = this.rng;
    this.counters.garbageFrames++;
    let b: Uint8Array;
    switch (r.int(8)) {
      case 0:
        b = new Uint8Array(r.int(64));
        r.fill(b);
        break;
      case 1:
        b = new Uint8Array(2048 + r.int(4096));
        r.fill(b);
        b[0] = 0x30;
        break;
      case 2:
        b = new Uint8Array([0x20, 2, 0, 0]); // a second CONNACK
        break;
      case 3:
        b = new Uint8Array([0x30, 0x7f, 0, 3, 0x61, 0x2f, 0x62]); // truncated PUBLISH
        break;
      case 4:
        b = new Uint8Array([0x32, 9, 0, 3, 0x61, 0x2f, 0x62, 0, 1, 0x7b, 0x7d]); // a broker PUBLISH qos 1
        break;
      case 5:
        b = new Uint8Array([0xf0, 0]); // reserved type
        break;
      case 6:
        b = new Uint8Array([0x40, 0xff, 0xff, 0xff, 0xff, 0x7f]); // remaining length too long
        break;
      default:
        b = new Uint8Array(0);
    }
    this.toDevice(link, b);
  }

  // ---------------- ledger queries ----------------

  delivered(stream: string, seq: number): boolean {
    const l = this.ledgers[stream];
    return l !== undefined && l.has(seq);
  }
}
