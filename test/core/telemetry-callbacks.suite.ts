// Seeded property tests of the publish transports' port callbacks (hardening
// issue, defects 2 and 5): whatever an HTTP port or a WebSocket port hands
// the core (any status, malformed headers and Date values, any body, errors,
// duplicate or late answers, throwing sends and connects, random frames),
// no exception leaves a callback and every publish() gets exactly one
// outcome, within the transport's own deadlines.
import type { Check, PortableSuite } from '../harness/portable.js';
import { ManualTimer, SeededRandom } from '../harness/fakes.js';
import { HttpsPublishTransport } from '../../src/telemetry/https-transport.js';
// The transport's default deadline (DEFAULT_PUBLISH_DEADLINE_MS) is the shared one.
import { DEFAULT_HTTP_DEADLINE_MS as DEFAULT_PUBLISH_DEADLINE_MS } from '../../src/shared/http-deadline.js';
import { MqttWsTransport } from '../../src/telemetry/mqtt-transport.js';
import type { SendOutcome } from '../../src/telemetry/deps.js';
import type { TimeAuthority, TimeReading } from '../../src/time/authority.js';
import type { HeaderList, HttpPort, HttpRequest, HttpResponse, WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../src/ports.js';
import { utf8Bytes } from '../../src/shared/utf8.js';

const KINDS = ['ack', 'retry', 'skew', 'expired-token', 'auth', 'local', 'permanent'];

/** The tests' seeded generator, with a random-length byte string: the same cases on Node and XS. */
class Rng extends SeededRandom {
  /** 0..max random bytes. */
  randomBytes(max: number): Uint8Array {
    return this.bytes(this.below(max + 1));
  }
}

/** A clock that refuses (throws on) any Date that is not an IMF-fixdate, as a strict parser might. */
class StrictClock implements TimeAuthority {
  votes = 0;
  constructor(private readonly timer: ManualTimer) {}
  now(): TimeReading {
    return { state: 'SYNCED', earliest: 0, latest: 0, bound: 0 };
  }
  markDisrupted(): void {}
  acceptedSignature(): void {}
  monoNow(): number {
    return this.timer.nowMs;
  }
  addDateVote(_source: string, headers: HeaderList, _sent: number): string {
    for (const h of headers) {
      if (String(h[0]).toLowerCase() !== 'date') continue;
      const v = h[1];
      if (typeof v !== 'string' || !/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) throw new RangeError('bad Date header');
      this.votes++;
    }
    return 'ok';
  }
}

const STATUSES: unknown[] = [200, 204, 299, 400, 401, 403, 408, 413, 429, 500, 503, 599, 301, 100, 0, -1, 600, 1e9, NaN, Infinity, 200.5, '200', null, undefined];
const DATES: unknown[] = ['Sun, 22 Nov 2026 12:00:00 GMT', 'not a date', '', 'Sun, 99 Nov 2026 99:99:99 GMT', 42, null, '\u0000\uffff'];
const TEXTS = ['{"message":"Signature expired: x"}', '{"message":"The security token included in the request is expired"}', '{"message":"Forbidden"}', 'RequestTimeTooSkewed', '', '\u00ff\u00fe'];

function randomHeaders(r: Rng): unknown {
  switch (r.below(6)) {
    case 0:
      return [];
    case 1:
      return [['Date', r.pick(DATES)]];
    case 2:
      return [['date', r.pick(DATES)], ['content-type', 'application/json'], ['Date', r.pick(DATES)]];
    case 3:
      return null;
    case 4:
      return 'Date: x';
    default:
      return [[null], ['Date']];
  }
}

function randomBody(r: Rng): unknown {
  switch (r.below(5)) {
    case 0:
      return r.randomBytes(700);
    case 1:
      return utf8Bytes(r.pick(TEXTS));
    case 2:
      return r.pick([null, undefined, 'text', 12, { length: 3 }]);
    default:
      return new Uint8Array(0);
  }
}

function randomResponse(r: Rng): HttpResponse {
  if (r.below(20) === 0) return r.pick([null, 7, 'x']) as unknown as HttpResponse;
  return { status: r.pick(STATUSES), headers: randomHeaders(r), body: randomBody(r) } as unknown as HttpResponse;
}

function httpProperty(t: Check, seed: number, cases: number): void {
  const r = new Rng(seed);
  const timer = new ManualTimer();
  const clock = new StrictClock(timer);
  let escaped = 0;
  let behaviour = 0;
  const late: Array<(e: Error | null, res: HttpResponse | null) => void> = [];
  const call = (cb: (e: Error | null, res: HttpResponse | null) => void, e: Error | null, res: HttpResponse | null): void => {
    try {
      cb(e, res);
    } catch {
      escaped++;
    }
  };
  const http: HttpPort = {
    request(_req: HttpRequest, cb) {
      switch (behaviour) {
        case 0: // answers at once
          call(cb, null, randomResponse(r));
          break;
        case 1: // answers twice
          call(cb, null, randomResponse(r));
          call(cb, r.below(2) === 0 ? new Error('ECONNRESET') : null, randomResponse(r));
          break;
        case 2: // fails
          call(cb, new Error('ECONNRESET'), null);
          break;
        case 3: // the port throws
          throw new Error('socket');
        case 4: // answers nothing, or neither error nor response
          if (r.below(2) === 0) call(cb, null, null);
          break;
        default: // answers later (maybe after the deadline)
          late.push(cb);
      }
      return r.below(4) === 0 ? (undefined as unknown as { cancel(): void }) : { cancel: () => void 0 };
    },
  };
  const transport = new HttpsPublishTransport({ http, signer: { signPublish: () => ({ path: '/topics/t?qos=1', headers: [['host', 'h']] }), presignMqtt: () => '' }, host: 'h', clock, timer });
  const auth = { credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs: 1 };
  const body = utf8Bytes('{}');
  let bad = 0;
  let firstBad = '';
  for (let i = 0; i < cases; i++) {
    behaviour = r.below(7);
    const outcomes: SendOutcome[] = [];
    try {
      transport.publish('t', body, 2, auth, (o) => outcomes.push(o));
    } catch {
      escaped++;
    }
    // Late answers of this and earlier publishes, at random times around the deadline.
    timer.advance(r.below(2) === 0 ? r.below(100) : DEFAULT_PUBLISH_DEADLINE_MS - 50 + r.below(100));
    while (late.length > 0 && r.below(3) !== 0) call(late.shift()!, r.below(3) === 0 ? new Error('late') : null, randomResponse(r));
    timer.advance(DEFAULT_PUBLISH_DEADLINE_MS);
    if (outcomes.length !== 1 || KINDS.indexOf(outcomes[0]!.kind) < 0) {
      bad++;
      if (firstBad === '') firstBad = `case ${i} (behaviour ${behaviour}): ${JSON.stringify(outcomes)}`;
    }
  }
  t.equal(escaped, 0, `no exception escaped a callback or publish() (seed ${seed})`);
  t.equal(bad, 0, `every publish got exactly one outcome (seed ${seed}) ${firstBad}`);
  t.ok(clock.votes > 0, 'well-formed Date headers were still voted');
}

class ChaosWs implements WebSocketPort {
  handlers: WebSocketHandlers[] = [];
  sendThrows = false;
  connectThrows = false;
  closeThrows = false;
  sent: Uint8Array[] = [];
  connect(_url: string, _protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    if (this.connectThrows) throw new Error('ECONNREFUSED');
    this.handlers.push(handlers);
    return {
      send: (bytes, start, end) => {
        if (this.sendThrows) throw new Error('EPIPE');
        this.sent.push(bytes.slice(start, end));
      },
      close: () => {
        if (this.closeThrows) throw new Error('EBADF');
      },
    };
  }
}

const FRAMES = ['20 02 00 00', '20 02 00 05', '20 02 00 04', '20 02 00 03', '20 02 01 00', '40 02 00 01', '40 02 00 02', '40 02 00 03', 'd0 00', '32 06 00 01 74 00 07 78', '30 03 00 01 74', '20', '20 02 00', 'ff ff ff ff ff', '00 00', 'e0 00', '40 02 00 01 d0 00 20 02 00 00'];
const hex = (s: string): Uint8Array => new Uint8Array(s.split(' ').map((x) => parseInt(x, 16)));

function wsProperty(t: Check, seed: number, cases: number): void {
  const r = new Rng(seed);
  let escaped = 0;
  let bad = 0;
  let firstBad = '';
  for (let i = 0; i < cases; i++) {
    const timer = new ManualTimer();
    const ws = new ChaosWs();
    const transport = new MqttWsTransport({ ws, timer, signer: null, url: 'ws://broker/mqtt', clientId: 'dev-1', keepAliveSeconds: 30, connectTimeoutMs: 3000, pubackTimeoutMs: 2000 });
    const counts: number[] = [];
    const guard = (fn: () => void): void => {
      try {
        fn();
      } catch {
        escaped++;
      }
    };
    const steps = 4 + r.below(24);
    for (let s = 0; s < steps; s++) {
      const h = ws.handlers.length > 0 ? (r.below(5) === 0 ? r.pick(ws.handlers) : ws.handlers[ws.handlers.length - 1]!) : null;
      switch (r.below(10)) {
        case 0: {
          const id = counts.length;
          counts.push(0);
          const b = utf8Bytes('{"n":1}');
          guard(() => transport.publish('dt/dev-1/telemetry', b, b.length, { credentials: { accessKeyId: 'A', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs: 1 }, () => counts[id]!++));
          break;
        }
        case 1:
          if (h !== null) guard(() => h.onOpen());
          break;
        case 2:
        case 3:
          if (h !== null) guard(() => h.onMessage(hex(r.pick(FRAMES))));
          break;
        case 4:
          if (h !== null) guard(() => h.onMessage(r.below(8) === 0 ? (null as unknown as Uint8Array) : r.randomBytes(12)));
          break;
        case 5:
          if (h !== null) guard(() => h.onClose(r.below(2) === 0 ? null : new Error('reset')));
          break;
        case 6:
          ws.sendThrows = r.below(3) === 0;
          ws.connectThrows = r.below(4) === 0;
          ws.closeThrows = r.below(4) === 0;
          break;
        case 7:
          guard(() => timer.advance(r.below(4000)));
          break;
        case 8:
          if (r.below(4) === 0) guard(() => transport.close());
          break;
        default:
          guard(() => timer.advance(r.below(50)));
      }
    }
    // Every wait is bounded: after the longest one, nothing is still pending without close().
    guard(() => timer.advance(3000 + 2000 + 60_000));
    const waiting = counts.filter((n) => n === 0).length;
    guard(() => transport.close());
    const wrong = counts.filter((n) => n !== 1).length;
    if (wrong > 0 || waiting > 0) {
      bad++;
      if (firstBad === '') firstBad = `case ${i}: outcomes per publish ${JSON.stringify(counts)} (${waiting} unanswered before close)`;
    }
  }
  t.equal(escaped, 0, `no exception escaped a handler, a timer or publish() (seed ${seed})`);
  t.equal(bad, 0, `every publish got exactly one outcome within the transport's deadlines (seed ${seed}) ${firstBad}`);
}

const suite: PortableSuite = () => [
  {
    name: 'HTTPS: random and malformed answers (status, headers, Date, body, errors, duplicates, late) never throw; one outcome per publish',
    run(t) {
      httpProperty(t, 0x5eed1, 2500);
    },
  },
  {
    name: 'MQTT over WebSocket: random frames, closes, throwing sends/connects/closes never throw; one outcome per publish',
    run(t) {
      wsProperty(t, 0x5eed2, 2500);
    },
  },
];
export default suite;
