// Fail closed on the device's own state (hardening issue, defects 3 and 6):
// - what the credentials parser and config accept, the signer can sign: the
//   largest token the parser takes (MAX_SESSION_TOKEN_CHARS, every character
//   one that percent-encodes) and the largest topic (MAX_TOPIC_BYTES, every
//   byte percent-encoded), on HTTPS publish and on the MQTT presigned URL;
// - a request the device cannot sign holds the data (no dead letters), is
//   counted, retried with a capped backoff and sent once the credentials change;
// - a queue that throws (flash errors) never lets an exception out of the
//   uploader and loses no record;
// - the HTTPS publish has a deadline kept by the core's timer, cancelled at the port.
import type { Check, PortableSuite } from '../harness/portable.js';
import { FakeClock, FakeCredentials, FixedRandom, ManualTimer } from '../harness/fakes.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { PersistentQueue, type RecordRef, type QueueStats } from '../../src/telemetry/queue.js';
import { QueueError } from '../../src/telemetry/errors.js';
import { Uploader } from '../../src/telemetry/uploader.js';
import { HttpsPublishTransport } from '../../src/telemetry/https-transport.js';
// The transport's default deadline (DEFAULT_PUBLISH_DEADLINE_MS) is the shared one.
import { DEFAULT_HTTP_DEADLINE_MS as DEFAULT_PUBLISH_DEADLINE_MS } from '../../src/shared/http-deadline.js';
import { MqttWsTransport } from '../../src/telemetry/mqtt-transport.js';
import type { PublishTransport, SendAuth, SendOutcome } from '../../src/telemetry/deps.js';
import type { AwsCredentials } from '../../src/shared/contracts.js';
import type { HttpPort, HttpRequest, HttpResponse, WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../src/ports.js';
import { IotRequestSigner } from '../../src/sigv4/iot-request-signer.js';
import { MAX_SESSION_TOKEN_CHARS, TemporaryCredentials, parseCredentialsResponse } from '../../src/credentials/parse.js';
import { MAX_TOPIC_BYTES } from '../../src/shared/aws-limits.js';
import { utf8Bytes, decodeUtf8 as decodeLenient } from '../../src/shared/utf8.js';
const utf8Text = (b: Uint8Array): string => decodeLenient(b, 0, b.length);

const WALL = Date.UTC(2026, 10, 22, 12, 0, 0);
const ENDPOINT = 'abc123-ats.iot.eu-west-1.amazonaws.com';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Every printable ASCII character the credentials parser accepts that RFC 3986 does not leave unreserved. */
function encodingChars(): string[] {
  const out: string[] = [];
  for (let c = 0x21; c < 0x7f; c++) {
    const ch = String.fromCharCode(c);
    if (!/[A-Za-z0-9\-._~]/.test(ch)) out.push(ch);
  }
  return out;
}

function worstToken(chars: number): string {
  const pool = encodingChars();
  let s = '';
  for (let i = 0; i < chars; i++) s += pool[i % pool.length];
  return s;
}

/** MAX_TOPIC_BYTES of UTF-8 in which no byte is unreserved: 3-byte '€' and 2-byte 'é', '$' and '%' for the rest. */
function worstTopic(): string {
  let s = '';
  let bytes = 0;
  const parts: Array<[string, number]> = [['€', 3], ['é', 2], ['$', 1], ['%', 1], [' ', 1]];
  for (let i = 0; bytes < MAX_TOPIC_BYTES; i++) {
    const [ch, n] = parts[i % parts.length]!;
    if (bytes + n > MAX_TOPIC_BYTES) {
      s += '%';
      bytes += 1;
    } else {
      s += ch;
      bytes += n;
    }
  }
  return s;
}

/** The credentials provider's answer, through the real parser (so the token is one the device accepts). */
function credentialsFrom(token: string, expirationMs = WALL + 3_600_000): TemporaryCredentials {
  const expiration = new Date(expirationMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = JSON.stringify({ credentials: { accessKeyId: 'ASIAEXAMPLEEXAMPLE01', secretAccessKey: SECRET, sessionToken: token, expiration } });
  return parseCredentialsResponse(utf8Bytes(body));
}


/** An HttpPort that records requests and answers each with `answer` (null: never answers). */
class RecordingHttp implements HttpPort {
  requests: HttpRequest[] = [];
  cancels = 0;
  pending: Array<(e: Error | null, r: HttpResponse | null) => void> = [];
  constructor(private readonly answer: ((req: HttpRequest) => HttpResponse) | null) {}
  request(req: HttpRequest, cb: (e: Error | null, r: HttpResponse | null) => void) {
    this.requests.push(req);
    if (this.answer !== null) cb(null, this.answer(req));
    else this.pending.push(cb);
    return { cancel: () => void this.cancels++ };
  }
}

const ok = (): HttpResponse => ({ status: 200, headers: [], body: utf8Bytes('{"message":"OK"}') });

function queryParam(url: string, name: string): string | null {
  const q = url.indexOf('?');
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (pair.slice(0, eq) === name) return decodeURIComponent(pair.slice(eq + 1));
  }
  return null;
}

/** A queue whose calls throw while their name is in `failing` (a flash that errors). */
class FlakyQueue extends PersistentQueue {
  readonly failing = new Set<string>();
  private trip(op: string): void {
    if (!this.failing.has(op)) return;
    // Both what the queue throws after a flash error and what a raw port might.
    if (op === 'read' || op === 'append') throw new QueueError('queue-failed', 'a flash operation failed earlier');
    throw new Error('EIO');
  }
  override get depth(): number {
    this.trip('depth');
    return super.depth;
  }
  override stats(): QueueStats {
    this.trip('stats');
    return super.stats();
  }
  override append(bytes: Uint8Array, start?: number, end?: number): number {
    this.trip('append');
    return super.append(bytes, start, end);
  }
  override first(ref: RecordRef): boolean {
    this.trip('first');
    return super.first(ref);
  }
  override next(ref: RecordRef): boolean {
    this.trip('next');
    return super.next(ref);
  }
  override read(ref: RecordRef, into: Uint8Array, start?: number): void {
    this.trip('read');
    super.read(ref, into, start);
  }
  override ack(ref: RecordRef): boolean {
    this.trip('ack');
    return super.ack(ref);
  }
  override deadLetter(ref: RecordRef): boolean {
    this.trip('deadLetter');
    return super.deadLetter(ref);
  }
}

/** Advances virtual time; returns the exception that escaped a timer callback, if any. */
function advance(timer: ManualTimer, ms: number): unknown {
  try {
    timer.advance(ms);
    return null;
  } catch (e) {
    return e ?? 'thrown';
  }
}

interface Sent {
  seqs: number[];
}

class ScriptedTransport implements PublishTransport {
  sent: Sent[] = [];
  constructor(private readonly script: (seqs: number[]) => SendOutcome) {}
  publish(_topic: string, body: Uint8Array, length: number, _auth: SendAuth, callback: (outcome: SendOutcome) => void): void {
    const env = JSON.parse(utf8Text(body.subarray(0, length))) as { records: Array<{ seq: number }> };
    const seqs = env.records.map((r) => r.seq);
    this.sent.push({ seqs });
    callback(this.script(seqs));
  }
  close(): void {}
}

function checkQueueFault(t: Check, op: string): void {
  const timer = new ManualTimer();
  const clock = new FakeClock(timer);
  clock.set('SYNCED', WALL, 1000);
  const queue = new FlakyQueue(new MemoryFlash({ blockSize: 1024, blockCount: 8 }), { whenFull: 'drop-oldest' });
  // The second record is refused permanently (a legitimate dead letter); everything else is accepted.
  let refused = -1;
  const transport = new ScriptedTransport((seqs) => (seqs.indexOf(refused) >= 0 ? { kind: 'permanent', reason: 'http-413' } : { kind: 'ack' }));
  const up = new Uploader({
    deviceId: 'dev-1',
    streams: [{ name: 'telemetry', queue, topic: 'dt/dev-1/telemetry' }],
    transport,
    clock,
    credentials: new FakeCredentials(new TemporaryCredentials('ASIAEXAMPLEEXAMPLE01', SECRET, 'token', WALL + 3_600_000)),
    timer,
    random: new FixedRandom(0xff),
    healthIntervalMs: 0,
    holdRetryCapMs: 4000,
  });
  const seqs: number[] = [];
  for (let i = 1; i <= 4; i++) seqs.push(up.append('telemetry', utf8Bytes(`{"i":${i}}`)));
  refused = seqs[1]!;
  queue.failing.add(op);
  up.start();
  t.equal(advance(timer, 30_000), null, `${op}: no exception escapes the uploader's timer`);
  let appended = -2;
  try {
    appended = up.append('telemetry', utf8Bytes('{"i":5}'));
    up.appendHealth();
  } catch {
    appended = -2;
  }
  t.ok(appended === seqs[3]! + 1 || (op === 'append' && appended === -1), `${op}: append() answers (sequence number, or -1 when the queue refused): ${appended}`);
  let h: ReturnType<Uploader['health']> | null = null;
  try {
    h = up.health();
  } catch {
    h = null;
  }
  t.ok(h !== null, `${op}: health() does not throw`);
  t.ok(h!.queueErrors > 0, `${op}: counted in queueErrors`);
  if (op !== 'stats' && op !== 'append') {
    t.ok(h!.heldBack['queue-unavailable'] > 0, `${op}: held with reason queue-unavailable`);
    t.equal(h!.deadLettered, 0, `${op}: nothing dead-lettered because of a queue error`);
    t.ok(transport.sent.length <= 16, `${op}: retries are bounded by the backoff (${transport.sent.length} publishes in 30 s)`);
  }
  queue.failing.clear();
  t.equal(advance(timer, 60_000), null, `${op}: recovers`);
  const acked = new Set<number>();
  for (const s of transport.sent) if (s.seqs.indexOf(refused) < 0) for (const x of s.seqs) acked.add(x);
  const after = up.health();
  t.equal(after.queueDepth, 0, `${op}: queue drained once the flash works again`);
  t.equal(after.deadLettered, 1, `${op}: only the record refused by the cloud is dead-lettered`);
  for (const seq of [seqs[0]!, seqs[2]!, seqs[3]!]) t.ok(acked.has(seq), `${op}: record ${seq} delivered`);
  if (op !== 'append') t.ok(acked.has(appended), `${op}: the record appended during the fault is delivered`);
}

class ScriptedWs implements WebSocketPort {
  urls: string[] = [];
  handlers: WebSocketHandlers | null = null;
  connect(url: string, _protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    this.urls.push(url);
    this.handlers = handlers;
    return { send() {}, close() {} };
  }
}

const suite: PortableSuite = () => [
  {
    name: 'the largest token the parser accepts and the worst-case topic sign for HTTPS publish',
    run(t) {
      const token = worstToken(MAX_SESSION_TOKEN_CHARS);
      const topic = worstTopic();
      t.equal(utf8Bytes(topic).length, MAX_TOPIC_BYTES);
      const creds = credentialsFrom(token);
      t.equal(creds.sessionToken, token, 'the parser accepts the token as is');
      t.throws(() => credentialsFrom(worstToken(MAX_SESSION_TOKEN_CHARS + 1)), () => true, 'one character more is refused by the parser');
      const timer = new ManualTimer();
      const http = new RecordingHttp(ok);
      const signer = new IotRequestSigner({ endpoint: ENDPOINT, region: 'eu-west-1' });
      const transport = new HttpsPublishTransport({ http, signer, host: ENDPOINT, timer });
      const outcomes: SendOutcome[] = [];
      const body = utf8Bytes('{"device":"dev-1","records":[]}');
      transport.publish(topic, body, body.length, { credentials: creds, timeMs: WALL }, (o) => outcomes.push(o));
      t.deepEqual(outcomes, [{ kind: 'ack' }], 'signed, sent and acknowledged');
      t.equal(http.requests.length, 1);
      const req = http.requests[0]!;
      const q = req.path.indexOf('?');
      t.equal(req.path.slice(0, '/topics/'.length), '/topics/');
      t.equal(req.path.slice(q), '?qos=1');
      const wireTopic = req.path.slice('/topics/'.length, q);
      t.equal(wireTopic.length, 3 * MAX_TOPIC_BYTES, 'every topic byte is percent-encoded on the wire');
      t.equal(decodeURIComponent(wireTopic), topic);
      const names = req.headers.map(([k]) => k.toLowerCase());
      t.ok(names.indexOf('authorization') >= 0 && names.indexOf('x-amz-date') >= 0, 'signed');
      const tok = req.headers.find(([k]) => k.toLowerCase() === 'x-amz-security-token');
      t.ok(tok !== undefined && tok[1] === token, 'the whole token is sent');
    },
  },
  {
    name: 'the largest token the parser accepts presigns the MQTT-over-WebSocket URL',
    run(t) {
      const token = worstToken(MAX_SESSION_TOKEN_CHARS);
      const timer = new ManualTimer();
      const ws = new ScriptedWs();
      const signer = new IotRequestSigner({ endpoint: ENDPOINT, region: 'eu-west-1' });
      const transport = new MqttWsTransport({ ws, timer, signer, clientId: 'dev-1' });
      const outcomes: SendOutcome[] = [];
      const body = utf8Bytes('{}');
      transport.publish(worstTopic(), body, body.length, { credentials: credentialsFrom(token), timeMs: WALL }, (o) => outcomes.push(o));
      t.deepEqual(outcomes, [], 'no outcome yet: connecting');
      t.equal(ws.urls.length, 1, 'a connection was opened with a presigned URL');
      const url = ws.urls[0]!;
      t.equal(url.slice(0, `wss://${ENDPOINT}/mqtt?`.length), `wss://${ENDPOINT}/mqtt?`);
      t.equal(queryParam(url, 'X-Amz-Security-Token'), token, 'the whole token is in the URL');
      t.ok((queryParam(url, 'X-Amz-Signature') ?? '').length === 64, 'signed');
      transport.close();
      t.equal(outcomes.length, 1, 'close() ends the publish');
    },
  },
  {
    name: 'a request the signer cannot sign holds the data: counted, retried with a capped backoff, sent after new credentials',
    run(t) {
      const timer = new ManualTimer();
      const clock = new FakeClock(timer);
      clock.set('SYNCED', WALL, 1000);
      // A signer whose token limit is below the token held (the mismatch of the issue).
      const real = new IotRequestSigner({ endpoint: ENDPOINT, region: 'eu-west-1', limits: { maxTokenBytes: 64 } });
      let attempts = 0;
      const signer = {
        signPublish: (c: AwsCredentials, topic: string, b: Uint8Array, ms: number) => {
          attempts++;
          return real.signPublish(c, topic, b, ms);
        },
        presignMqtt: (c: AwsCredentials, ms: number) => real.presignMqtt(c, ms),
      };
      const http = new RecordingHttp(ok);
      const creds = new FakeCredentials(credentialsFrom('T'.repeat(100)));
      const queue = new PersistentQueue(new MemoryFlash({ blockSize: 1024, blockCount: 8 }), { whenFull: 'drop-oldest' });
      const up = new Uploader({
        deviceId: 'dev-1',
        streams: [{ name: 'telemetry', queue, topic: 'dt/dev-1/telemetry' }],
        transport: new HttpsPublishTransport({ http, signer, host: ENDPOINT, timer }),
        clock,
        credentials: creds,
        timer,
        random: new FixedRandom(0xff),
        healthIntervalMs: 0,
        holdRetryBaseMs: 1000,
        holdRetryCapMs: 8000,
      });
      for (let i = 0; i < 3; i++) up.append('telemetry', utf8Bytes(`{"i":${i}}`));
      up.start();
      timer.advance(60_000);
      const h = up.health();
      t.equal(http.requests.length, 0, 'nothing sent');
      t.equal(h.deadLettered, 0, 'nothing dead-lettered');
      t.equal(h.queueDepth, 3, 'the data stays queued');
      t.equal(h.lastHeldBack, 'signing-failed');
      t.equal(h.heldBack['signing-failed'], attempts, 'every failed signing is counted');
      // Backoff ceilings 1, 2, 4, 8, 8, ... s (jitter near the top): about 10 tries in a minute, not one per second.
      t.ok(attempts >= 5 && attempts <= 14, `retried with a capped backoff: ${attempts} tries in 60 s`);
      const before = attempts;
      timer.advance(80_000);
      t.ok(attempts - before >= 9 && attempts - before <= 11, `at the cap (8 s): ${attempts - before} tries in 80 s`);
      t.equal(h.state, 'holding');
      creds.creds = credentialsFrom('T'.repeat(60)); // rotated: now within the limit
      timer.advance(1000);
      t.equal(http.requests.length, 1, 'sent within one hold period of the new credentials');
      const after = up.health();
      t.equal(after.acked, 3);
      t.equal(after.queueDepth, 0);
      t.equal(after.deadLettered, 0);
    },
  },
  {
    name: 'a presign the signer cannot make is a local failure (held), not an authentication refusal',
    run(t) {
      const timer = new ManualTimer();
      const ws = new ScriptedWs();
      const signer = new IotRequestSigner({ endpoint: ENDPOINT, region: 'eu-west-1', limits: { maxTokenBytes: 64 } });
      const transport = new MqttWsTransport({ ws, timer, signer, clientId: 'dev-1' });
      const outcomes: SendOutcome[] = [];
      const body = utf8Bytes('{}');
      transport.publish('dt/dev-1/telemetry', body, body.length, { credentials: credentialsFrom('T'.repeat(100)), timeMs: WALL }, (o) => outcomes.push(o));
      t.deepEqual(outcomes, [{ kind: 'local', reason: 'presign-failed: LIMIT_EXCEEDED' }]);
      t.equal(ws.urls.length, 0, 'no connection opened');
    },
  },
  ...['depth', 'first', 'next', 'read', 'ack', 'deadLetter', 'stats', 'append'].map((op) => ({
    name: `a queue whose ${op}() throws does not escape the uploader and loses nothing`,
    run(t: Check) {
      checkQueueFault(t, op);
    },
  })),
  {
    name: 'the HTTPS publish is cancelled at the port at its deadline and ends with retry',
    run(t) {
      const timer = new ManualTimer();
      const http = new RecordingHttp(null);
      const signer = { signPublish: () => ({ path: '/topics/t?qos=1', headers: [['host', 'h']] as Array<[string, string]> }), presignMqtt: () => '' };
      const outcomes: SendOutcome[] = [];
      const auth = { credentials: new TemporaryCredentials('ASIAEXAMPLEEXAMPLE01', SECRET, 'token', 0), timeMs: WALL };
      const body = utf8Bytes('{}');
      const transport = new HttpsPublishTransport({ http, signer, host: 'h', timer });
      transport.publish('t', body, 2, auth, (o) => outcomes.push(o));
      timer.advance(DEFAULT_PUBLISH_DEADLINE_MS - 1);
      t.deepEqual(outcomes, [], 'still waiting just before the deadline');
      timer.advance(1);
      t.deepEqual(outcomes, [{ kind: 'retry', reason: 'deadline' }]);
      t.equal(http.cancels, 1, 'cancelled at the port');
      http.pending[0]!(null, ok());
      t.equal(outcomes.length, 1, 'a late answer is ignored');
      const short = new HttpsPublishTransport({ http, signer, host: 'h', timer, deadlineMs: 500 });
      short.publish('t', body, 2, auth, (o) => outcomes.push(o));
      timer.advance(500);
      t.deepEqual(outcomes[1], { kind: 'retry', reason: 'deadline' }, 'the deadline is an option');
      t.equal(http.cancels, 2);
    },
  },
];
export default suite;
