// Credentials provider client with a fake HttpPort, clock and timer.
// Response format from the AWS IoT docs ("Authorizing direct calls to AWS
// services using AWS IoT Core credential provider"):
//   {"credentials":{"accessKeyId":..,"secretAccessKey":..,"sessionToken":..,"expiration":"2018-01-18T09:18:06Z"}}
import type { Check, PortableSuite } from '../harness/portable.js';
import {
  CredentialsClient,
  CREDENTIAL_FETCH_WINDOW_MS,
  DEFAULT_CREDENTIALS_BACKOFF_CAP_MS,
  DEFAULT_CREDENTIALS_REQUEST_DEADLINE_MS,
  MAX_CREDENTIAL_FETCHES_PER_HOUR,
  type CredentialsClientOptions,
  type CredentialsEvent,
} from '../../src/credentials/client.js';
import { CredentialsError } from '../../src/credentials/errors.js';
import { parseCredentialsResponse, parseIsoUtc } from '../../src/credentials/parse.js';
import { FakeClock, FixedRandom, ManualTimer, SeededRandom } from '../harness/fakes.js';
import type { HeaderList, HttpExchange, HttpPort, HttpRequest, HttpResponse, RandomPort, TimerPort } from '../../src/ports.js';
import type { TimeReading } from '../../src/time/authority.js';
import { SecureClock } from '../../src/time/secure-clock.js';
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

type Callback = (error: Error | null, response: HttpResponse | null) => void;
/** What an automatic answer is: a response, a network error, or nothing ever. */
type Answer = HttpResponse | 'error' | 'silence';

class FakeHttp implements HttpPort {
  requests: HttpRequest[] = [];
  /** Timer time of each request (with a ManualTimer attached). */
  times: number[] = [];
  pending: Callback[] = [];
  cancelled = 0;
  /** When set, every request is answered this way after latencyMs of timer time. */
  auto: ((req: HttpRequest) => Answer) | null = null;
  latencyMs = 100;
  constructor(private readonly timer: ManualTimer | null = null) {}
  request(req: HttpRequest, callback: Callback): HttpExchange {
    this.requests.push(req);
    this.times.push(this.timer === null ? 0 : this.timer.nowMs);
    this.pending.push(callback);
    const auto = this.auto;
    if (auto !== null && this.timer !== null) {
      const answer = auto(req);
      if (answer !== 'silence') {
        this.timer.set(() => {
          if (!this.take(callback)) return;
          if (answer === 'error') callback(new Error('ECONNRESET'), null);
          else callback(null, answer);
        }, this.latencyMs);
      }
    }
    return {
      cancel: () => {
        if (this.take(callback)) this.cancelled++;
      },
    };
  }
  private take(callback: Callback): boolean {
    const i = this.pending.indexOf(callback);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    return true;
  }
  answer(status: number, b: Uint8Array, date = 'Sun, 22 Nov 2026 12:00:00 GMT'): void {
    this.pending.shift()!(null, { status, headers: [['Date', date], ['Content-Type', 'application/json']], body: b });
  }
  /** Hands the oldest pending callback whatever a broken port might produce. */
  raw(response: unknown): void {
    this.pending.shift()!(null, response as HttpResponse);
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


const HOUR = 3_600_000;
const GOOD_DATE = 'Sun, 22 Nov 2026 12:00:00 GMT';
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

/**
 * A clock whose reading follows the timer (wall = WALL + timer time), trusted
 * or not. With throwOnBadDate its addDateVote throws on a malformed Date
 * header, as SecureClock#addDateVote did (parseHttpDate's TimeError).
 */
class LiveClock extends FakeClock {
  trusted = true;
  boundMs = 2000;
  throwOnBadDate = false;
  constructor(private readonly t: ManualTimer) {
    super(t);
  }
  override now(): TimeReading {
    const wall = WALL + this.t.nowMs;
    if (!this.trusted) return { state: 'UNTRUSTED', earliest: WALL - 1e9, latest: Infinity, bound: Infinity };
    return { state: 'SYNCED', earliest: wall - this.boundMs, latest: wall + this.boundMs, bound: this.boundMs };
  }
  override addDateVote(source: string, headers: HeaderList, sentMonoMs: number): string {
    const verdict = super.addDateVote(source, headers, sentMonoMs);
    const date = this.votes[this.votes.length - 1]!.date;
    if (this.throwOnBadDate && date !== null && !IMF_FIXDATE.test(date)) throw new Error('Date header is not an IMF-fixdate');
    return verdict;
  }
}

const response = (status: number, b: Uint8Array, date: string | null = GOOD_DATE): HttpResponse => ({
  status,
  headers: date === null ? [['Content-Type', 'application/json']] : [['Date', date], ['Content-Type', 'application/json']],
  body: b,
});

/** The states of the issue: what the provider answers, and whether our clock is trusted. */
interface FetchState {
  name: string;
  trusted: boolean;
  /** Use the real SecureClock (never synced: untrusted). */
  realClock?: boolean;
  throwOnBadDate?: boolean;
  /** Whether the held credentials stay unusable, so retries must go on at the backoff's pace. */
  keepsRetrying: boolean;
  answer(wallNow: number): Answer;
}

const STATES: FetchState[] = [
  { name: 'untrusted clock, successful answers', trusted: false, keepsRetrying: true, answer: (w) => response(200, body(iso(w + HOUR))) },
  { name: 'network errors', trusted: true, keepsRetrying: true, answer: () => 'error' },
  { name: '5xx', trusted: true, keepsRetrying: true, answer: () => response(503, enc('{"message":"internal"}')) },
  { name: 'malformed bodies', trusted: true, keepsRetrying: true, answer: () => response(200, enc('{"credentials":{"accessKeyId":"ASIA')) },
  { name: 'malformed Date, clock vote throws', trusted: false, throwOnBadDate: true, keepsRetrying: true, answer: (w) => response(200, body(iso(w + HOUR)), 'Sun, 32 Foo 2026 99:00:00 XYZ') },
  { name: 'malformed Date, real SecureClock', trusted: false, realClock: true, keepsRetrying: true, answer: (w) => response(200, body(iso(w + HOUR)), 'yesterday') },
  { name: 'missing Date', trusted: false, keepsRetrying: true, answer: (w) => response(200, body(iso(w + HOUR)), null) },
  { name: 'no answer at all', trusted: true, keepsRetrying: true, answer: () => 'silence' },
  { name: 'credentials always within the margin', trusted: true, keepsRetrying: true, answer: (w) => response(200, body(iso(w + 60_000))) },
  { name: 'credentials shorter than the refresh lead (10 min)', trusted: true, keepsRetrying: false, answer: (w) => response(200, body(iso(w + 600_000))) },
  { name: 'trusted clock, good answers', trusted: true, keepsRetrying: false, answer: (w) => response(200, body(iso(w + HOUR))) },
];

/** Runs `state` for `hours` of timer time; with `uploader`, refresh() is called every second as the gated uploader does. */
function simulate(state: FetchState, random: RandomPort, uploader: boolean, hours: number, extra: Partial<CredentialsClientOptions> = {}) {
  const timer = new ManualTimer();
  const live = new LiveClock(timer);
  live.trusted = state.trusted;
  live.throwOnBadDate = state.throwOnBadDate === true;
  const clock = state.realClock ? new SecureClock({ ticks: { ticks: () => timer.nowMs, ticksPerSecond: 1000, wrapBits: 0 }, buildTimeMs: WALL }) : live;
  const http = new FakeHttp(timer);
  http.auto = () => state.answer(WALL + timer.nowMs);
  const events: CredentialsEvent[] = [];
  const client = new CredentialsClient({ http, host: 'c2abc.credentials.iot.us-east-1.amazonaws.com', roleAlias: 'telemetry-role', thingName: 'dev-1', clock, timer, random, onEvent: (e) => events.push(e), ...extra });
  let escaped: unknown = null;
  if (uploader) {
    const tick = (): void => {
      client.refresh(client.usable() ? 'expired-token' : 'credentials-missing');
      timer.set(tick, 1000);
    };
    timer.set(tick, 1000);
  }
  try {
    client.start();
    // In minutes, so that a flood (today's code) still ends within ManualTimer's per-call bound.
    for (let m = 0; m < hours * 60; m++) timer.advance(60_000);
  } catch (e) {
    escaped = e;
  }
  return { timer, http, client, events, escaped };
}

/** Largest number of request times inside any window of `windowMs` (half-open). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

const noSecrets = (x: unknown): boolean => {
  const s = JSON.stringify(x);
  return s.indexOf(SECRET) < 0 && s.indexOf(TOKEN) < 0;
};

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
      t.equal(http.requests.length, 1, 'refresh postponed (5 s after the last fetch)');
      timer.advance(4999);
      t.equal(http.requests.length, 1);
      timer.advance(1);
      t.equal(http.requests.length, 2, 'the postponed refresh happens by itself');
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
  ...STATES.map((state) => ({
    name: `one hour of ${state.name}, with and without refresh() every second: within MAX_CREDENTIAL_FETCHES_PER_HOUR, still retrying`,
    run(t: Check) {
      // Retries may never be slower than one per backoff cap (plus the deadline of an unanswered request).
      const minPerHour = Math.floor(HOUR / (DEFAULT_CREDENTIALS_BACKOFF_CAP_MS + DEFAULT_CREDENTIALS_REQUEST_DEADLINE_MS + 100));
      for (const uploader of [false, true]) {
        // 0x00: every jitter draw at its low end (the worst case for a full-jitter backoff); then a seeded stream.
        const first = new FixedRandom(0x00);
        for (const random of [first, new SeededRandom(7)]) {
          const what = `${uploader ? 'refresh() every second' : 'alone'}, ${random === first ? 'low jitter draws' : 'seeded jitter'}`;
          const { http, client, events, escaped } = simulate(state, random, uploader, 2);
          t.equal(escaped, null, `${what}: nothing escaped the callbacks`);
          const worst = maxInWindow(http.times, HOUR);
          t.ok(worst <= MAX_CREDENTIAL_FETCHES_PER_HOUR, `${what}: at most ${MAX_CREDENTIAL_FETCHES_PER_HOUR} fetches in any hour (saw ${worst})`);
          const secondHour = http.times.filter((x) => x >= HOUR).length;
          if (state.keepsRetrying) t.ok(secondHour >= minPerHour, `${what}: still retrying in the second hour (${secondHour} >= ${minPerHour})`);
          else t.ok(secondHour >= 1, `${what}: refreshed in the second hour`);
          if (state.answer(0) === 'silence') t.ok(http.cancelled >= http.requests.length - 1 && http.pending.length <= 1, `${what}: every unanswered request cancelled at the port`);
          const s = client.status();
          t.equal(s.fetches, http.requests.length, `${what}: status counts every fetch`);
          t.ok(s.fetchesLastHour <= MAX_CREDENTIAL_FETCHES_PER_HOUR && s.fetchesLastHour === http.times.filter((x) => x > HOUR).length, `${what}: fetchesLastHour`);
          t.ok(noSecrets(events) && noSecrets(s), `${what}: no secret in events or status`);
        }
      }
    },
  })),
  {
    name: 'an unanswered request is cancelled at the port at the deadline, counted, and retried',
    run(t) {
      const { timer, http, client } = setup();
      client.start();
      timer.advance(DEFAULT_CREDENTIALS_REQUEST_DEADLINE_MS - 1);
      t.equal(http.cancelled, 0, 'not before the deadline');
      t.equal(client.status().inFlight, true);
      timer.advance(1);
      t.equal(http.cancelled, 1, 'cancelled at the port (its slot is free)');
      t.equal(http.pending.length, 0);
      const s = client.status();
      t.equal(s.inFlight, false);
      t.equal(s.failures, 1);
      t.equal(s.lastError, 'deadline');
      t.ok(s.nextFetchMonoMs !== null, 'a retry is scheduled');
      timer.advance(s.nextFetchMonoMs! - timer.nowMs);
      t.equal(http.requests.length, 2, 'retried');
      // A shorter deadline from the options.
      const timer2 = new ManualTimer();
      const http2 = new FakeHttp();
      const c2 = new CredentialsClient({ http: http2, host: 'h', roleAlias: 'r', thingName: 't', clock: new FakeClock(timer2), timer: timer2, random: new FixedRandom(0), requestDeadlineMs: 5000 });
      c2.start();
      timer2.advance(5000);
      t.equal(http2.cancelled, 1, 'requestDeadlineMs honoured');
    },
  },
  {
    name: 'stop() cancels the request in flight; restarts do not bypass the fetch budget',
    run(t) {
      const { timer, http, client } = setup();
      client.start();
      client.stop();
      t.equal(http.cancelled, 1, 'cancelled at the port');
      t.equal(client.status().inFlight, false);
      timer.advance(HOUR);
      t.equal(http.requests.length, 1, 'nothing while stopped');
      // A supervisor restarting the client every second for 1000 s.
      for (let i = 0; i < 1000; i++) {
        client.start();
        client.stop();
        timer.advance(1000);
      }
      const restarts = http.requests.length - 1;
      t.ok(restarts <= MAX_CREDENTIAL_FETCHES_PER_HOUR, `start()/stop() every second for 1000 s: ${restarts} fetches`);
    },
  },
  {
    name: 'a throwing Date vote, a broken response or a throwing log hook never escapes the callback; the failure is counted and retried',
    run(t) {
      const timer = new ManualTimer();
      const clock = new LiveClock(timer);
      clock.throwOnBadDate = true;
      const http = new FakeHttp();
      let hookCalls = 0;
      const client = new CredentialsClient({ http, host: 'h', roleAlias: 'r', thingName: 't', clock, timer, random: new FixedRandom(0x80), onEvent: () => { hookCalls++; throw new Error('log sink broken'); } });
      client.start();
      let escaped: unknown = null;
      try {
        http.answer(200, body(iso(WALL + HOUR)), 'not a date');
      } catch (e) {
        escaped = e;
      }
      t.equal(escaped, null, 'the throwing vote stayed inside');
      t.equal(client.status().dateVoteErrors, 1, 'counted');
      t.ok(client.usable(), 'the answer itself was still used');
      t.equal(hookCalls, 1);
      // A broken port: no headers, no body.
      client.refresh('expired-token');
      timer.advance(client.status().earliestFetchMonoMs - timer.nowMs);
      t.equal(http.pending.length, 1, 'a second fetch');
      try {
        http.raw({ status: 200, headers: null, body: null });
      } catch (e) {
        escaped = e;
      }
      t.equal(escaped, null, 'a broken response stayed inside');
      const s = client.status();
      t.equal(s.lastError, 'malformed-response');
      t.equal(s.failures, 1);
      t.ok(s.nextFetchMonoMs !== null, 'a retry is scheduled');
      timer.advance(s.nextFetchMonoMs! - timer.nowMs);
      t.equal(http.pending.length, 1, 'and it happens');
    },
  },
  {
    name: 'prompt fetches still happen: boot, expired-token long after the last fetch, expiry once the clock is trusted',
    run(t) {
      // Expired-token long after the last fetch: at once.
      const a = setup();
      a.client.start();
      t.equal(a.http.requests.length, 1, 'first boot: at once');
      a.http.answer(200, body(iso(WALL + HOUR)));
      a.timer.advance(600_000);
      a.client.refresh('expired-token');
      t.equal(a.http.requests.length, 2, 'expired-token 10 min after the last fetch: at once');
      a.http.answer(200, body(iso(WALL + HOUR)));
      // Asked again at once (the server refuses the new token too): later, not never.
      a.client.refresh('expired-token');
      t.equal(a.http.requests.length, 2, 'not again at once');
      const at = a.client.status().earliestFetchMonoMs;
      t.ok(at > a.timer.nowMs && at - a.timer.nowMs <= DEFAULT_CREDENTIALS_BACKOFF_CAP_MS, 'postponed by at most the backoff cap');
      a.timer.advance(at - a.timer.nowMs);
      t.equal(a.http.requests.length, 3, 'the postponed refresh() happens by itself');

      // An hour with UDP 123 blocked (untrusted clock), then the clock becomes trusted and the credentials held are too old.
      const timer = new ManualTimer();
      const clock = new LiveClock(timer);
      clock.trusted = false;
      const http = new FakeHttp(timer);
      let expiresIn = HOUR;
      http.auto = () => response(200, body(iso(WALL + timer.nowMs + expiresIn)));
      const client = new CredentialsClient({ http, host: 'h', roleAlias: 'r', thingName: 't', clock, timer, random: new FixedRandom(0x00) });
      client.start();
      for (let m = 0; m < 60; m++) timer.advance(60_000);
      const before = http.requests.length;
      expiresIn = 2 * HOUR;
      // The held credentials were fetched at most one backoff cap ago; pretend the provider gave short ones.
      clock.trusted = true;
      clock.boundMs = HOUR;
      t.equal(client.usable(), false, 'held credentials are inside the margin at the pessimistic end');
      client.refresh('credentials-expiring');
      const wait = Math.max(0, client.status().earliestFetchMonoMs - timer.nowMs);
      t.ok(wait <= DEFAULT_CREDENTIALS_BACKOFF_CAP_MS, `refresh within the backoff cap (${wait} ms)`);
      timer.advance(wait + 200);
      t.equal(http.requests.length, before + 1, 'fetched');
      clock.boundMs = 2000;
      t.ok(client.usable(), 'usable again');
      t.equal(client.status().backoffAttempt, 0, 'a usable success resets the backoff');
    },
  },
  {
    name: 'no path exceeds MAX_CREDENTIAL_FETCHES_PER_HOUR, even with a tiny backoff and no refresh spacing',
    run(t) {
      const state = STATES[1]!; // network errors
      const { http, client, escaped } = simulate(state, new FixedRandom(0x00), true, 3, { backoffBaseMs: 1, backoffCapMs: 2, minRefreshIntervalMs: 0 });
      t.equal(escaped, null);
      t.ok(maxInWindow(http.times, HOUR) <= MAX_CREDENTIAL_FETCHES_PER_HOUR, 'sliding hour');
      t.ok(http.times.filter((x) => x < HOUR).length >= MAX_CREDENTIAL_FETCHES_PER_HOUR, 'the cap, not the backoff, was the limit');
      t.ok(http.times.filter((x) => x >= 2 * HOUR).length > 0, 'and fetching resumes in later hours');
      const s = client.status();
      t.ok(s.earliestFetchMonoMs >= s.nextFetchMonoMs! || s.inFlight, 'status says when the next fetch may happen');
    },
  },
];
export default suite;
