// A queue survives a flash error: the failed instance refuses calls (typed,
// counted), reopen() re-runs recovery on the same flash, the driver retries
// with capped backoff, and the agent keeps sampling meanwhile: its samples
// are counted as refused (-1, never an exception) and the records stored
// before the error are still there to deliver after the reopen.
import type { PortableSuite } from '../harness/portable.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { PersistentQueue, RecordRef } from '../../src/telemetry/queue.js';
import { QueueReopener, QUEUE_REOPEN_BASE_MS, QUEUE_REOPEN_CAP_MS } from '../../src/telemetry/queue-reopen.js';
import { QueueError } from '../../src/telemetry/errors.js';
import { FlashRegion } from '../../src/agent/flash-region.js';
import { Agent } from '../../src/agent.js';
import { FixedRandom, ManualTicks, ManualTimer, MemoryKeyValue, ScriptedUdp, SeededRandom } from '../harness/fakes.js';
import type { FlashPort, HttpExchange, HttpPort } from '../../src/ports.js';

type Op = 'read' | 'write' | 'erase';

/** A flash that throws a plain I/O error on chosen operations (not a power cut: the medium keeps working). */
class FaultyFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  /** Operations of these kinds throw while failing > 0 (each failure decrements it). */
  failing = 0;
  failOn: Op[] = ['write'];
  thrown = 0;
  constructor(readonly inner: MemoryFlash) {
    this.blockSize = inner.blockSize;
    this.blockCount = inner.blockCount;
  }
  private maybeFail(op: Op): void {
    if (this.failing > 0 && this.failOn.includes(op)) {
      this.failing--;
      this.thrown++;
      throw new Error(`flash ${op} I/O error`);
    }
  }
  erase(block: number): void {
    this.maybeFail('erase');
    this.inner.erase(block);
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.maybeFail('read');
    this.inner.read(offset, into, start, length);
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.maybeFail('write');
    this.inner.write(offset, bytes, start, length);
  }
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function drain(q: PersistentQueue): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  const ref = new RecordRef();
  for (let ok = q.first(ref); ok; ok = q.next(ref)) {
    const b = new Uint8Array(ref.length);
    q.read(ref, b);
    out.push([ref.seq, text(b)]);
  }
  return out;
}

const isCode = (code: string) => (e: unknown) => e instanceof QueueError && e.code === code;

/** HTTP that never answers (the agent's deadlines end each exchange). */
class SilentHttp implements HttpPort {
  requests = 0;
  request(): HttpExchange {
    this.requests++;
    return { cancel() {} };
  }
}

const SAMPLE_MS = 1000;

function makeAgent(flash: FlashPort) {
  const ticks = new ManualTicks(1000, 0, 5_000);
  const timers = new ManualTimer(ticks);
  const logs: string[] = [];
  const seeded = new SeededRandom(7);
  const agent = new Agent(
    {
      ticks,
      timers,
      // Claims strength: the agent may refuse a weak port; this test is not about randomness.
      random: { strong: true, fill: (b: Uint8Array) => seeded.fill(b) },
      udp: new ScriptedUdp(),
      http: new SilentHttp(),
      flash,
      kv: new MemoryKeyValue(),
      log: (l) => logs.push(l),
      sample: () => ({ board: 'test' }),
    },
    {
      thingName: 'dev-1',
      region: 'eu-west-1',
      roleAlias: 'role',
      dataEndpoint: { host: 'data.example.com' },
      credentialsEndpoint: { host: 'creds.example.com' },
      timeServers: ['192.0.2.1', '192.0.2.2'],
      buildTimeMs: 1_700_000_000_000,
      sampleIntervalMs: SAMPLE_MS,
      healthIntervalMs: 0,
      securityBlocks: 2,
    },
  );
  return { agent, timers, logs };
}

const suite: PortableSuite = () => [
  {
    name: 'a flash error fails the queue (counted, typed refusals); reopen() recovers every stored record',
    run(t) {
      const flash = new FaultyFlash(new MemoryFlash({ blockSize: 256, blockCount: 4 }));
      const q = new PersistentQueue(flash, { whenFull: 'drop-oldest' });
      for (let i = 0; i < 5; i++) t.equal(q.append(ascii(`r${i}`)), i);
      flash.failing = 1;
      t.throws(() => q.append(ascii('lost')), (e) => e instanceof Error && !(e instanceof QueueError), 'the flash error itself');
      t.equal(q.failed, true);
      t.equal(q.stats().failures, 1);
      t.throws(() => q.append(ascii('refused')), isCode('queue-failed'), 'refused while failed');
      t.throws(() => q.first(new RecordRef()), isCode('queue-failed'));
      t.equal(q.stats().failures, 1, 'a refusal is not a new flash failure');
      flash.failOn = ['read'];
      flash.failing = 1;
      t.equal(q.reopen(), false, 'reopen on a flash that still fails');
      t.equal(q.failed, true);
      t.equal(q.stats().failures, 2);
      t.equal(q.reopen(), true);
      t.equal(q.failed, false);
      t.equal(q.stats().reopens, 1);
      t.equal(q.append(ascii('after')), 5, 'numbering goes on');
      t.deepEqual(drain(q), [[0, 'r0'], [1, 'r1'], [2, 'r2'], [3, 'r3'], [4, 'r4'], [5, 'after']]);
    },
  },
  {
    name: 'a power cut still fails the instance for good until the reboot (no reopen on a dead flash)',
    run(t) {
      const mem = new MemoryFlash({ blockSize: 256, blockCount: 4 });
      const q = new PersistentQueue(mem, { whenFull: 'drop-oldest' });
      q.append(ascii('kept'));
      mem.cutPowerAfter(3);
      t.throws(() => q.append(ascii('torn')), (e) => e instanceof Error && (e as { code?: string }).code === 'power-cut');
      t.equal(q.reopen(), false, 'the flash is off');
      mem.powerOn();
      t.equal(q.reopen(), true);
      t.deepEqual(drain(q), [[0, 'kept']], 'the torn record is invisible');
      t.equal(q.stats().tornRecords, 1);
    },
  },
  {
    name: 'the reopener retries with capped exponential backoff and reports each attempt',
    run(t) {
      const timers = new ManualTimer();
      const flash = new FaultyFlash(new MemoryFlash({ blockSize: 256, blockCount: 4 }));
      const attempts: boolean[] = [];
      let reopener: QueueReopener | null = null;
      const q = new PersistentQueue(flash, { whenFull: 'drop-oldest', onFailure: () => reopener?.check() });
      // 0xFF bytes: every delay sits just under its ceiling.
      reopener = new QueueReopener({ queues: [q], timer: timers, random: new FixedRandom(0xff), onAttempt: (_i, ok) => attempts.push(ok) });
      q.append(ascii('a'));
      flash.failOn = ['write', 'read'];
      flash.failing = 1;
      t.throws(() => q.append(ascii('b')), (e) => !(e instanceof QueueError));
      t.equal(reopener.pending, true, 'the failure scheduled a reopen');
      flash.failing = 1000; // every read fails: reopen attempts fail
      const ceilings: number[] = [];
      for (let k = 0; k < 12; k++) {
        const before = timers.nextDelay();
        ceilings.push(before);
        timers.advance(before);
      }
      t.equal(attempts.length, 12);
      t.ok(attempts.every((ok) => !ok), 'each attempt failed');
      t.ok(ceilings[0]! < QUEUE_REOPEN_BASE_MS && ceilings[0]! >= QUEUE_REOPEN_BASE_MS - 1, `first delay just under the base (${ceilings[0]})`);
      t.ok(ceilings[1]! > ceilings[0]! * 1.9, 'doubles');
      t.ok(ceilings.every((d) => d < QUEUE_REOPEN_CAP_MS), 'never above the cap');
      t.ok(ceilings[11]! >= QUEUE_REOPEN_CAP_MS - 1, `reaches the cap (${ceilings[11]})`);
      flash.failing = 0;
      timers.advance(timers.nextDelay());
      t.equal(attempts[attempts.length - 1], true, 'the flash works again: reopened');
      t.equal(q.failed, false);
      t.equal(reopener.pending, false, 'nothing more scheduled');
      t.deepEqual(drain(q), [[0, 'a']]);
    },
  },
  {
    name: 'agent: sampling goes on after a flash error; refusals counted; the queue reopens and keeps the earlier records',
    run(t) {
      const mem = new MemoryFlash({ blockSize: 512, blockCount: 8 });
      const flash = new FaultyFlash(mem);
      const { agent, timers } = makeAgent(flash);
      agent.start();
      timers.advance(3 * SAMPLE_MS);
      t.equal(agent.status().generated, 3, 'three samples stored');
      // Every write fails for a while: the next sample's append throws inside the timer callback.
      flash.failing = 1_000_000;
      flash.failOn = ['write', 'read', 'erase'];
      timers.advance(SAMPLE_MS);
      let s = agent.status();
      t.ok(s.queueErrors >= 1, 'the flash failure is counted');
      t.equal(s.appendRefused, 1);
      timers.advance(5 * SAMPLE_MS);
      s = agent.status();
      t.equal(s.appendRefused, 6, 'each later sample is refused and counted: sampling did not stop');
      t.equal(agent.securityEvent('tamper', { pin: 3 }), -1, 'securityEvent() returns -1 on a flash error');
      t.equal(agent.telemetry({ x: 1 }), -1, 'telemetry() returns -1 while failed');
      t.equal(agent.status().appendRefused, 8);
      flash.failing = 0;
      // Reopen within the capped backoff (sampling continues meanwhile).
      let waited = 0;
      while (agent.status().queueReopens < 2 && waited <= QUEUE_REOPEN_CAP_MS) {
        timers.advance(SAMPLE_MS);
        waited += SAMPLE_MS;
      }
      timers.advance(2 * SAMPLE_MS);
      s = agent.status();
      t.equal(s.queueReopens, 2, `both queues reopened (after ${waited} ms)`);
      t.ok(s.generated > 3, `samples stored again after the reopen (${s.generated})`);
      agent.stop();
      const recovered = new PersistentQueue(new FlashRegion(mem, 0, 6), { whenFull: 'drop-oldest' });
      const records = drain(recovered);
      t.deepEqual(records.slice(0, 3).map((r) => r[0]), [0, 1, 2], 'the records stored before the error are still there, in order');
      t.ok(records.slice(0, 3).every((r) => r[1].indexOf('"board":"test"') >= 0));
      t.equal(records.length, s.generated, 'every stored sample is in the queue');
    },
  },
  {
    name: 'agent: securityEvent() returns -1 and counts when its queue fails or is full, never throws',
    run(t) {
      const mem = new MemoryFlash({ blockSize: 256, blockCount: 6 });
      const flash = new FaultyFlash(mem);
      const { agent } = makeAgent(flash);
      // No start(): only the direct calls. Security region: blocks 4..5 (reject-new).
      flash.failing = 1;
      t.equal(agent.securityEvent('boot'), -1, 'a flash error: -1');
      t.equal(agent.status().queueErrors, 1);
      t.equal(agent.securityEvent('boot'), -1, 'still failed: -1');
      let n = 0;
      for (let i = 0; i < 100; i++) if (agent.telemetry({ i }) >= 0) n++;
      t.ok(n > 0, 'telemetry is a separate queue');
      t.equal(agent.status().appendRefused, 2);
      agent.stop();
    },
  },
  {
    name: 'agent: a full reject-new security queue gives -1 (counted), not an exception',
    run(t) {
      const { agent } = makeAgent(new MemoryFlash({ blockSize: 256, blockCount: 6 }));
      let refused = 0;
      for (let i = 0; i < 200; i++) if (agent.securityEvent('login-failed', { i, pad: 'x'.repeat(40) }) === -1) refused++;
      t.ok(refused > 0, `the security queue filled up (${refused} refused)`);
      t.equal(agent.status().appendRefused, refused);
      t.equal(agent.status().queueErrors, 0, 'full is not a flash error');
      agent.stop();
    },
  },
];
export default suite;
