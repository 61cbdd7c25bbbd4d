// Uploader state machine with fake clock, credentials, transport and timer
// (virtual time). Expected behaviour comes from the rules: fail
// closed with a recorded reason, full-jitter backoff within [0, min(cap,
// base*2^n)), skew -> DISRUPTED, expired token -> refresh, 413 -> dead
// letter, at-least-once delivery with duplicates only after unacknowledged
// publishes.
import type { Check, PortableSuite } from '../harness/portable.js';
import { FakeClock, FakeCredentials, FixedRandom, ManualTimer } from '../harness/fakes.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { PersistentQueue } from '../../src/telemetry/queue.js';
import { Uploader, type UploaderOptions } from '../../src/telemetry/uploader.js';
import type { PublishTransport, SendAuth, SendOutcome } from '../../src/telemetry/deps.js';
import type { AwsCredentials, CredentialSource } from '../../src/shared/contracts.js';
import { TemporaryCredentials } from '../../src/credentials/parse.js';
import { ConfigError } from '../../src/telemetry/errors.js';
// No TextEncoder on Moddable's XS: these suites also run there (hil --target sim).
import { utf8Bytes, decodeUtf8 as decodeLenient } from '../../src/shared/utf8.js';
const utf8Text = (b: Uint8Array): string => decodeLenient(b, 0, b.length);

const WALL = Date.UTC(2026, 10, 22, 12, 0, 0);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLETOKEN';


interface Call {
  topic: string;
  body: string;
  auth: SendAuth;
}

class ScriptedTransport implements PublishTransport {
  calls: Call[] = [];
  closed = 0;
  constructor(public script: (call: Call, index: number) => SendOutcome) {}
  publish(topic: string, body: Uint8Array, length: number, auth: SendAuth, callback: (outcome: SendOutcome) => void): void {
    const call = { topic, body: utf8Text(body.subarray(0, length)), auth };
    this.calls.push(call);
    callback(this.script(call, this.calls.length - 1));
  }
  close(): void {
    this.closed++;
  }
}

const ACK: SendOutcome = { kind: 'ack' };
const text = (s: string): Uint8Array => utf8Bytes(s);

interface Env {
  timer: ManualTimer;
  clock: FakeClock;
  creds: FakeCredentials;
  transport: ScriptedTransport;
  telemetry: PersistentQueue;
  security: PersistentQueue;
  flash: MemoryFlash;
  up: Uploader;
}

function setup(script: (call: Call, index: number) => SendOutcome, options: Partial<UploaderOptions> = {}, flash?: MemoryFlash): Env {
  const timer = new ManualTimer();
  const clock = new FakeClock(timer);
  clock.set('SYNCED', WALL, 1000);
  const creds = new FakeCredentials(new TemporaryCredentials('ASIAEXAMPLEEXAMPLE01', SECRET, TOKEN, WALL + 3_600_000));
  const f = flash ?? new MemoryFlash({ blockSize: 1024, blockCount: 8 });
  const telemetry = new PersistentQueue(f, { whenFull: 'drop-oldest' });
  const security = new PersistentQueue(new MemoryFlash({ blockSize: 512, blockCount: 2 }), { whenFull: 'reject-new' });
  const transport = new ScriptedTransport(script);
  const up = new Uploader({
    deviceId: 'dev-1',
    streams: [
      { name: 'security', queue: security, topic: 'dt/dev-1/security' },
      { name: 'telemetry', queue: telemetry, topic: 'dt/dev-1/telemetry' },
    ],
    transport,
    clock,
    credentials: creds,
    timer,
    random: new FixedRandom(0xff),
    healthIntervalMs: 0,
    healthStream: 'telemetry',
    ...options,
  });
  return { timer, clock, creds, transport, telemetry, security, flash: f, up };
}

interface Envelope {
  device: string;
  stream: string;
  records: Array<{ seq: number; data: unknown }>;
}
const parse = (c: Call): Envelope => JSON.parse(c.body) as Envelope;
const seqs = (c: Call): number[] => parse(c).records.map((r) => r.seq);

function expectGated(t: Check, e: Env, reason: string): void {
  const before = e.transport.calls.length;
  e.timer.advance(5000);
  t.equal(e.transport.calls.length, before, `${reason}: nothing signed or sent`);
  const h = e.up.health();
  t.equal(h.lastHeldBack, reason);
  t.ok(h.heldBack[reason as keyof typeof h.heldBack] >= 5, `${reason} counted on every check (1 s apart)`);
  t.equal(h.state, 'holding');
  t.ok(h.queueDepth > 0, 'data stays queued');
}

const suite: PortableSuite = () => [
  {
    name: 'fail-closed: each hold reason blocks signing, is recorded, and clears when fixed',
    run(t) {
      const e = setup(() => ACK);
      e.up.append('telemetry', text('{"t":1}'));
      e.clock.reading = { state: 'UNTRUSTED', earliest: WALL - 1e9, latest: Infinity, bound: Infinity };
      e.up.start();
      expectGated(t, e, 'time-untrusted');
      e.clock.reading = { state: 'DISRUPTED', earliest: WALL - 1e9, latest: Infinity, bound: Infinity };
      expectGated(t, e, 'time-disrupted');
      e.clock.set('FREE_RUNNING', WALL, 60_001);
      expectGated(t, e, 'time-bound-too-wide');
      e.clock.set('SYNCED', WALL, 30_000);
      e.creds.creds = null;
      expectGated(t, e, 'credentials-missing');
      t.ok(e.creds.refreshes.indexOf('credentials-missing') >= 0, 'missing credentials are requested');
      // Valid for 5 min 10 s after the midpoint but only 4 min 40 s after latest(now): expiring.
      e.creds.creds = new TemporaryCredentials('ASIAEXAMPLEEXAMPLE01', SECRET, TOKEN, WALL + 310_000);
      expectGated(t, e, 'credentials-expiring');
      e.creds.creds = new TemporaryCredentials('ASIAEXAMPLEEXAMPLE02', SECRET, TOKEN, WALL + 331_000);
      e.timer.advance(1000);
      t.equal(e.transport.calls.length, 1, 'sent once everything is fine');
      const call = e.transport.calls[0]!;
      t.equal(call.auth.timeMs, WALL, 'signed with the midpoint of the clock interval');
      t.equal(call.auth.credentials.accessKeyId, 'ASIAEXAMPLEEXAMPLE02', 'credentials taken at send time');
      t.equal(e.up.health().queueDepth, 0);
      t.equal(e.up.health().acked, 1);
    },
  },
  {
    name: 'the hold decision allows exactly E_max and holds just above it',
    run(t) {
      const e = setup(() => ACK, { maxBoundMs: 60_000 });
      e.up.append('telemetry', text('1'));
      e.clock.set('SYNCED', WALL, 60_000);
      e.up.start();
      e.timer.advance(100);
      t.equal(e.transport.calls.length, 1, 'bound == E_max is allowed');
      e.clock.set('SYNCED', WALL, 60_000.5);
      e.up.append('telemetry', text('2'));
      e.timer.advance(100);
      t.equal(e.transport.calls.length, 1, 'bound > E_max is refused');
    },
  },
  {
    name: 'retries back off with full jitter below min(cap, 0.5 s * 2^n)',
    run(t) {
      const e = setup(() => ({ kind: 'retry', reason: 'http-503' }));
      e.up.append('telemetry', text('{}'));
      e.timer.delays.length = 0;
      e.up.start();
      for (let i = 0; i < 14; i++) e.timer.advance(400_000, 1);
      t.ok(e.transport.calls.length >= 14, 'kept retrying');
      const delays = e.timer.delays.slice(0, 12);
      delays.forEach((d, n) => {
        const ceiling = Math.min(300_000, 500 * 2 ** n);
        t.ok(d >= 0 && d < ceiling, `delay ${n} = ${d} below ${ceiling}`);
        t.ok(d >= ceiling * 0.99, `random 0xFF.. puts delay ${n} near its ceiling`);
      });
      t.equal(delays[11], Math.floor(300_000 * (0xffffffff / 4294967296)), 'capped at 5 min');
      t.equal(e.up.health().retried, e.transport.calls.length);
      t.equal(e.up.health().queueDepth, 1, 'nothing dropped');
      const zero = setup(() => ({ kind: 'retry', reason: 'network' }), { random: new FixedRandom(0x00) });
      zero.up.append('telemetry', text('{}'));
      zero.timer.delays.length = 0;
      zero.up.start();
      zero.timer.advance(0, 3);
      t.deepEqual(zero.timer.delays.slice(0, 2), [0, 0], 'full jitter reaches 0');
    },
  },
  {
    name: 'a skew answer marks the clock DISRUPTED; data waits for resync and is signed with the new time',
    run(t) {
      let answer: SendOutcome = { kind: 'skew', reason: 'http-403' };
      const e = setup(() => answer);
      e.up.append('telemetry', text('{"a":1}'));
      e.up.start();
      e.timer.advance(10);
      t.equal(e.transport.calls.length, 1);
      t.equal(e.clock.disruptions.length, 1);
      t.equal(e.clock.now().state, 'DISRUPTED');
      t.equal(e.up.health().skewEvents, 1);
      e.timer.advance(3000);
      t.equal(e.transport.calls.length, 1, 'no send while DISRUPTED');
      t.equal(e.up.health().lastHeldBack, 'time-disrupted');
      answer = ACK;
      e.clock.set('SYNCED', WALL + 600_000, 500);
      e.timer.advance(1000);
      t.equal(e.transport.calls.length, 2);
      t.equal(e.transport.calls[1]!.auth.timeMs, WALL + 600_000, 'resigned with the resynced time');
      t.equal(e.up.health().queueDepth, 0);
    },
  },
  {
    name: 'an expired-token answer refreshes credentials and resends with the new ones',
    run(t) {
      const e = setup((c) => (c.auth.credentials.accessKeyId === 'ASIAEXAMPLEEXAMPLE01' ? { kind: 'expired-token', reason: 'http-403' } : ACK));
      e.up.append('telemetry', text('{"a":1}'));
      e.up.start();
      e.timer.advance(10);
      t.deepEqual(e.creds.refreshes, ['expired-token']);
      t.equal(e.up.health().queueDepth, 1);
      e.creds.creds = new TemporaryCredentials('ASIAEXAMPLEEXAMPLE09', SECRET, TOKEN, WALL + 3_600_000);
      e.timer.advance(1000);
      t.equal(e.transport.calls.length, 2);
      t.equal(e.transport.calls[1]!.auth.credentials.accessKeyId, 'ASIAEXAMPLEEXAMPLE09');
      t.equal(e.up.health().acked, 1);
    },
  },
  {
    name: '413 moves only the offending record to the counted dead letters',
    run(t) {
      const e = setup((c) => (c.body.indexOf('"big"') >= 0 ? { kind: 'permanent', reason: 'http-413' } : ACK));
      e.up.append('telemetry', text('{"n":0}'));
      e.up.append('telemetry', text('{"n":"big"}'));
      e.up.append('telemetry', text('{"n":2}'));
      e.up.start();
      e.timer.advance(1000);
      t.deepEqual(e.transport.calls.map(seqs), [[0, 1, 2], [0], [1], [2]], 'batch refused, then one by one');
      const h = e.up.health();
      t.equal(h.deadLettered, 1);
      t.equal(h.acked, 2);
      t.equal(h.queueDepth, 0);
      t.equal(e.telemetry.stats().deadLetters, 1, 'kept in flash as a dead letter');
      t.equal(h.lastOutcome, 'ack');
    },
  },
  {
    name: 'batches respect record and byte limits, stream priority and the publish rate',
    run(t) {
      const e = setup(() => ACK, { maxPublishBytes: 512, maxRecordsPerPublish: 4 });
      for (let i = 0; i < 30; i++) e.up.append('telemetry', text(`{"i":${i},"pad":"${'x'.repeat(60)}"}`));
      e.up.append('security', text('{"alarm":true}'));
      e.up.start();
      e.timer.advance(10_000);
      const calls = e.transport.calls;
      t.equal(calls[0]!.topic, 'dt/dev-1/security', 'security first');
      t.deepEqual(parse(calls[0]!), { device: 'dev-1', stream: 'security', records: [{ seq: 0, data: { alarm: true } }] });
      const all: number[] = [];
      for (const c of calls.slice(1)) {
        t.ok(utf8Bytes(c.body).length <= 512, 'body within maxPublishBytes');
        const env = parse(c);
        t.ok(env.records.length >= 1 && env.records.length <= 4, 'records per publish');
        for (const r of env.records) all.push(r.seq);
      }
      t.deepEqual(all, Array.from({ length: 30 }, (_, i) => i), 'every record once, in order');
      const spacing = e.timer.delays.filter((d) => d > 0);
      t.ok(spacing.every((d) => d >= 10), 'publishes at least 10 ms apart (100/s)');
    },
  },
  {
    name: 'a record too large for any publish is dead-lettered, not retried forever',
    run(t) {
      const e = setup(() => ACK, { maxPublishBytes: 256 });
      e.up.append('telemetry', text(`"${'y'.repeat(300)}"`));
      e.up.append('telemetry', text('1'));
      e.up.start();
      e.timer.advance(100);
      t.equal(e.up.health().deadLettered, 1);
      t.equal(e.up.health().lastOutcome, 'ack');
      t.deepEqual(e.transport.calls.map(seqs), [[1]]);
    },
  },
  {
    name: 'at-least-once through lost acks, lost requests and reboots; duplicates only after unacked publishes',
    run(t) {
      const flash = new MemoryFlash({ blockSize: 1024, blockCount: 8 });
      const delivered = new Map<number, number>();
      let unackedDeliveries = 0;
      let x = 12345;
      const rand = (): number => {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        return x / 0x80000000;
      };
      const script = (c: Call): SendOutcome => {
        const r = rand();
        if (r < 0.2) return { kind: 'retry', reason: 'network' }; // lost before the cloud
        for (const s of seqs(c)) delivered.set(s, (delivered.get(s) ?? 0) + 1);
        if (r < 0.4) {
          unackedDeliveries += seqs(c).length;
          return { kind: 'retry', reason: 'timeout' }; // delivered, ack lost
        }
        return ACK;
      };
      let e = setup(script, { backoffCapMs: 2000 }, flash);
      e.up.start();
      let appended = 0;
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 10; i++) {
          e.up.append('telemetry', text(`{"r":${round},"i":${i}}`));
          appended++;
          e.timer.advance(rand() * 300);
        }
        if (round % 2 === 1) {
          e.up.stop(); // reboot: the queue is reopened from flash
          e = setup(script, { backoffCapMs: 2000 }, flash);
          e.up.start();
        }
      }
      for (let i = 0; i < 200 && e.up.health().queueDepth > 0; i++) e.timer.advance(5000);
      t.equal(e.up.health().queueDepth, 0, 'drained');
      t.equal(delivered.size, appended, 'every record reached the cloud');
      let duplicates = 0;
      for (const n of delivered.values()) duplicates += n - 1;
      t.ok(duplicates > 0, 'the scenario does produce duplicates');
      t.ok(duplicates <= unackedDeliveries, `duplicates (${duplicates}) only from unacked deliveries (${unackedDeliveries})`);
    },
  },
  {
    name: 'health is exposed, published as a record, and never contains secrets',
    run(t) {
      const e = setup(() => ACK, { healthIntervalMs: 60_000 });
      e.up.start();
      e.timer.advance(60_000);
      t.equal(e.transport.calls.length, 1, 'one health record published');
      const env = parse(e.transport.calls[0]!);
      const rec = env.records[0]!.data as Record<string, unknown>;
      t.equal(rec.kind, 'health');
      t.equal(rec.timeState, 'SYNCED');
      t.equal(rec.timeBoundMs, 1000);
      t.equal(rec.credentialsLeftMs, 3_600_000 - 1000);
      t.equal(rec.queueDepth, 0, 'snapshot taken before the health record is queued');
      t.ok(e.transport.calls[0]!.body.indexOf(SECRET) < 0 && e.transport.calls[0]!.body.indexOf(TOKEN) < 0);
      const h = JSON.stringify(e.up.health());
      t.ok(h.indexOf(SECRET) < 0 && h.indexOf(TOKEN) < 0, 'no secret in health()');
      t.ok(JSON.stringify(e.creds.creds).indexOf(SECRET) < 0, 'credentials serialize redacted');
    },
  },
  {
    name: 'bad configuration is a typed error',
    run(t) {
      const bad = (o: Partial<UploaderOptions>) => () => setup(() => ACK, o);
      const isConfig = (e: unknown) => e instanceof ConfigError && e.code === 'bad-config';
      t.throws(bad({ deviceId: 'dev 1' }), isConfig);
      t.throws(bad({ maxPublishBytes: 128 * 1024 + 1 }), isConfig);
      t.throws(bad({ maxRecordsPerPublish: 0 }), isConfig);
      t.throws(bad({ minPublishIntervalMs: -1 }), isConfig);
      t.throws(bad({ healthStream: 'nope' }), isConfig);
      t.throws(bad({ streams: [] }), isConfig);
      const small = new ScriptedTransport(() => ACK) as ScriptedTransport & { maxBodyBytes: number };
      small.maxBodyBytes = 1024;
      t.throws(bad({ transport: small, maxPublishBytes: 2048 }), isConfig, 'a body the transport cannot carry');
      t.ok(setup(() => ACK, { transport: small, maxPublishBytes: 1024 }).up !== null);
    },
  },
];
export default suite;
