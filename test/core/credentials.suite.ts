// Credentials provider client with a fake HttpPort, clock and timer.
// Response format from the AWS IoT docs ("Authorizing direct calls to AWS
// services using AWS IoT Core credential provider"):
//   {"credentials":{"accessKeyId":..,"secretAccessKey":..,"sessionToken":..,"expiration":"2018-01-18T09:18:06Z"}}
import type { PortableSuite } from '../harness/portable.js';
import { CredentialsClient, type CredentialsEvent } from '../../src/credentials/client.js';
import { CredentialsError } from '../../src/credentials/errors.js';
import { parseCredentialsResponse, parseIsoUtc } from '../../src/credentials/parse.js';
import { FakeClock, FixedRandom, ManualTimer } from '../harness/fakes.js';
import type { HttpExchange, HttpPort, HttpRequest, HttpResponse } from '../../src/ports.js';
// No TextEncoder on Moddable's XS: these suites also run there (hil --target sim).
import { utf8Bytes, decodeUtf8 as decodeLenient } from '../../src/shared/utf8.js';
const utf8Text = (b: Uint8Array): string => decodeLenient(b, 0, b.length);

const WALL = Date.UTC(2026, 10, 22, 12, 0, 0);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLETOKENxyz==';
const enc = (s: string): Uint8Array => utf8Bytes(s);

function body(expiration: string, overrides: Record<string, unknown> = {}): Uint8Array {
  return enc(JSON.stringify({ credentials: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET, sessionToken: TOKEN, expiration, ...overrides } }));
}
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

class FakeHttp implements HttpPort {
  requests: HttpRequest[] = [];
  pending: Array<(error: Error | null, response: HttpResponse | null) => void> = [];
  cancelled = 0;
  request(req: HttpRequest, callback: (error: Error | null, response: HttpResponse | null) => void): HttpExchange {
    this.requests.push(req);
    this.pending.push(callback);
    return {
      cancel: () => {
        const i = this.pending.indexOf(callback);
        if (i >= 0) {
          this.pending.splice(i, 1);
          this.cancelled++;
        }
      },
    };
  }
  answer(status: number, b: Uint8Array, date = 'Sun, 22 Nov 2026 12:00:00 GMT'): void {
    this.pending.shift()!(null, { status, headers: [['Date', date], ['Content-Type', 'application/json']], body: b });
  }
  fail(): void {
    this.pending.shift()!(new Error('ECONNRESET'), null);
  }
}

function setup() {
  const timer = new ManualTimer();
  const clock = new FakeClock(timer);
  clock.set('SYNCED', WALL, 2000);
  const http = new FakeHttp();
  const events: CredentialsEvent[] = [];
  const client = new CredentialsClient({
    http,
    host: 'c2abc.credentials.iot.us-east-1.amazonaws.com',
    roleAlias: 'telemetry-role',
    thingName: 'dev-1',
    clock,
    timer,
    random: new FixedRandom(0xff),
    onEvent: (e) => events.push(e),
  });
  return { timer, clock, http, client, events };
}

const isCode = (code: string) => (e: unknown) => e instanceof CredentialsError && e.code === code && String(e).indexOf(SECRET) < 0;

const suite: PortableSuite = () => [
  {
    name: 'ISO 8601 UTC expiration parsing (known epochs)',
    run(t) {
      t.equal(parseIsoUtc('2001-09-09T01:46:40Z'), 1_000_000_000_000, 'the 1e12 ms instant');
      t.equal(parseIsoUtc('1970-01-01T00:00:00Z'), 0);
      t.equal(parseIsoUtc('2024-02-29T23:59:59.5Z'), Date.UTC(2024, 1, 29, 23, 59, 59, 500));
      for (const bad of ['2023-02-29T00:00:00Z', '2026-11-22 12:00:00Z', '2026-11-22T12:00:00', '2026-11-22T24:00:00Z', '2026-13-01T00:00:00Z', '2026-11-22T12:00:00+01:00', '2026-11-22T12:00:00.Z', 'x']) {
        t.ok(Number.isNaN(parseIsoUtc(bad)), bad);
      }
    },
  },
  {
    name: 'a well-formed answer parses; secrets stay out of JSON and String()',
    run(t) {
      const c = parseCredentialsResponse(body('2026-11-22T13:00:00Z'));
      t.equal(c.accessKeyId, 'ASIAIOSFODNN7EXAMPLE');
      t.equal(c.secretAccessKey, SECRET);
      t.equal(c.sessionToken, TOKEN);
      t.equal(c.expirationMs, WALL + 3_600_000);
      t.ok(JSON.stringify(c).indexOf(SECRET) < 0 && JSON.stringify(c).indexOf(TOKEN) < 0);
      t.ok(String(c).indexOf(SECRET) < 0);
    },
  },
  {
    name: 'malformed answers are typed errors that never quote the body',
    run(t) {
      const cases: Array<Uint8Array> = [
        enc('not json'),
        enc('[]'),
        enc('{"credentials":null}'),
        body('2026-11-22T13:00:00Z', { accessKeyId: undefined }),
        body('2026-11-22T13:00:00Z', { accessKeyId: 'short' }),
        body('2026-11-22T13:00:00Z', { accessKeyId: 'asia-lowercase-key-id' }),
        body('2026-11-22T13:00:00Z', { secretAccessKey: 42 }),
        body('2026-11-22T13:00:00Z', { sessionToken: '' }),
        body('2026-11-22T13:00:00Z', { sessionToken: 'x'.repeat(4097) }),
        body('tomorrow'),
        new Uint8Array([0x7b, 0xff, 0x7d]),
      ];
      for (const b of cases) t.throws(() => parseCredentialsResponse(b), isCode('malformed-response'));
      t.throws(() => parseCredentialsResponse(new Uint8Array(8193)), isCode('response-too-large'));
    },
  },
  {
    name: 'request shape, Date vote, and refresh scheduled ahead of expiry with jitter',
    run(t) {
      const { timer, clock, http, client, events } = setup();
      client.start();
      t.equal(http.requests.length, 1);
      const r = http.requests[0]!;
      t.equal(r.method, 'GET');
      t.equal(r.path, '/role-aliases/telemetry-role/credentials');
      t.deepEqual(r.headers, [['host', 'c2abc.credentials.iot.us-east-1.amazonaws.com'], ['x-amzn-iot-thingname', 'dev-1']]);
      t.equal(r.body, null);
      timer.advance(120);
      http.answer(200, body('2026-11-22T13:00:00Z'));
      t.deepEqual(clock.votes, [{ source: 'credentials:c2abc.credentials.iot.us-east-1.amazonaws.com', date: 'Sun, 22 Nov 2026 12:00:00 GMT', sentMonoMs: 0 }]);
      t.ok(client.usable());
      t.equal(client.current()!.expirationMs, WALL + 3_600_000);
      // Refresh at expiration - latest - 15 min = 60 min - 2 s - 15 min, minus up to 10 % jitter.
      const due = 3_600_000 - 2000 - 900_000;
      const delay = timer.delays[timer.delays.length - 1]!;
      t.ok(delay <= due && delay >= due * 0.9, `refresh delay ${delay} in [0.9, 1] x ${due}`);
      timer.advance(delay);
      t.equal(http.requests.length, 2, 'refreshed ahead of expiry');
      t.equal(events[0]!.kind, 'refreshed');
      t.ok(JSON.stringify(events).indexOf(SECRET) < 0);
    },
  },
  {
    name: 'usable() is judged at latest(now) with the 5 min margin',
    run(t) {
      const { clock, http, client } = setup();
      client.start();
      http.answer(200, body(iso(WALL + 305_000)));
      clock.set('SYNCED', WALL, 4000);
      t.ok(client.usable(), 'expires 5 min 1 s after latest');
      clock.set('SYNCED', WALL, 6000);
      t.equal(client.usable(), false, 'expires 4 min 59 s after latest');
      clock.reading = { state: 'UNTRUSTED', earliest: WALL - 1e9, latest: Infinity, bound: Infinity };
      t.equal(client.usable(), false, 'untrusted clock: not usable');
    },
  },
  {
    name: 'failures keep the previous credentials and back off with jitter',
    run(t) {
      const { timer, http, client, events } = setup();
      client.start();
      http.answer(200, body('2026-11-22T13:00:00Z'));
      client.refresh('expired-token');
      t.equal(http.requests.length, 1, 'refresh rate-limited (5 s)');
      timer.advance(5000);
      client.refresh('expired-token');
      t.equal(http.requests.length, 2);
      client.refresh('again');
      t.equal(http.requests.length, 2, 'no second request while one is in flight');
      http.answer(200, enc('{"credentials":{"accessKeyId":"ASIA'));
      t.equal(client.current()!.accessKeyId, 'ASIAIOSFODNN7EXAMPLE', 'previous credentials kept');
      t.equal(client.status().lastError, 'malformed-response');
      const d1 = timer.delays[timer.delays.length - 1]!;
      t.ok(d1 < 1000, 'first backoff below 1 s');
      timer.advance(d1);
      http.answer(500, enc('{"message":"internal"}'));
      const d2 = timer.delays[timer.delays.length - 1]!;
      t.ok(d2 < 2000 && d2 >= 1000 * 0.99, 'second backoff near 2 s ceiling');
      timer.advance(d2);
      http.fail();
      t.equal(client.status().lastError, 'network');
      t.equal(client.status().failures, 3);
      t.deepEqual(events.filter((e) => e.kind === 'failed').map((e) => e.code), ['malformed-response', 'http-status', 'network']);
      t.ok(JSON.stringify(events).indexOf(SECRET) < 0 && JSON.stringify(client.status()).indexOf(SECRET) < 0);
      t.ok(client.usable(), 'still usable: previous credentials are valid');
    },
  },
  {
    name: 'an answer that already expires within the margin is not accepted as fresh',
    run(t) {
      const { http, client } = setup();
      client.start();
      http.answer(200, body(iso(WALL + 60_000)));
      t.equal(client.status().lastError, 'already-expired');
      t.equal(client.usable(), false);
    },
  },
  {
    name: 'bad configuration is a typed error',
    run(t) {
      const timer = new ManualTimer();
      const base = { http: new FakeHttp(), host: 'h', clock: new FakeClock(timer), timer, random: new FixedRandom(0) };
      t.throws(() => new CredentialsClient({ ...base, roleAlias: 'a/b', thingName: 't' }), isCode('bad-config'));
      t.throws(() => new CredentialsClient({ ...base, roleAlias: 'a', thingName: 't t' }), isCode('bad-config'));
      t.throws(() => new CredentialsClient({ ...base, roleAlias: 'a', thingName: 't', marginMs: 900_000 }), isCode('bad-config'));
    },
  },
];
export default suite;
