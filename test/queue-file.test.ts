// The persistent queue on the file-backed FlashPort (Node, simulator): same
// bytes as on the in-memory flash for the same operations, survives reopen,
// and survives a SIGKILL of the process in the middle of a write loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileFlash } from '../src/platform/node/flash-file.js';
import { MemoryFlash } from './harness/memory-flash.js';
import { PersistentQueue, RecordRef } from '../src/telemetry/queue.js';
import { FlashRegion, migrateAgentFlash } from '../src/agent/flash-region.js';
import { Agent } from '../src/agent.js';
import { ManualTicks, ManualTimer, MemoryKeyValue, ScriptedUdp, SeededRandom } from './harness/fakes.js';
import type { FlashPort } from '../src/ports.js';

const here = dirname(fileURLToPath(import.meta.url));
const geometry = { blockSize: 512, blockCount: 4 };

function payload(i: number): Uint8Array {
  return new TextEncoder().encode(`{"i":${i},"pad":"${'z'.repeat(i % 50)}"}`);
}

function records(q: PersistentQueue): Map<number, string> {
  const out = new Map<number, string>();
  const ref = new RecordRef();
  for (let ok = q.first(ref); ok; ok = q.next(ref)) {
    const b = new Uint8Array(ref.length);
    q.read(ref, b);
    out.set(ref.seq, new TextDecoder().decode(b));
  }
  return out;
}

test('file flash holds the same image as memory flash and survives reopening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-file-'));
  try {
    const path = join(dir, 'flash.img');
    const file = new FileFlash({ path, ...geometry });
    const mem = new MemoryFlash(geometry);
    const qf = new PersistentQueue(file, { whenFull: 'drop-oldest' });
    const qm = new PersistentQueue(mem, { whenFull: 'drop-oldest' });
    const ref = new RecordRef();
    for (let i = 0; i < 60; i++) {
      qf.append(payload(i));
      qm.append(payload(i));
      if (i % 4 === 3) {
        qf.first(ref);
        qf.ack(ref);
        qm.first(ref);
        qm.ack(ref);
      }
    }
    file.close();
    assert.ok(Buffer.from(readFileSync(path)).equals(Buffer.from(mem.bytes)), 'identical flash images');
    const reopened = new FileFlash({ path, ...geometry });
    const q2 = new PersistentQueue(reopened, { whenFull: 'drop-oldest' });
    assert.deepEqual(records(q2), records(qm));
    assert.equal(q2.stats().nextSeq, 60);
    reopened.close();
    assert.throws(() => new FileFlash({ path, blockSize: 384, blockCount: 4 }), RangeError, 'an image of a size that is no whole number of blocks is refused');
    assert.ok(Buffer.from(readFileSync(path)).equals(Buffer.from(mem.bytes)), 'and left as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGKILL during an append loop loses no record whose append returned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-kill-'));
  try {
    const path = join(dir, 'flash.img');
    const flashUrl = pathToFileURL(join(here, '..', 'src', 'platform', 'node', 'flash-file.js')).href;
    const queueUrl = pathToFileURL(join(here, '..', 'src', 'telemetry', 'queue.js')).href;
    // The child appends forever (bounded by 100000) and prints each seq once append() returned.
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { FileFlash } from ${JSON.stringify(flashUrl)};
       import { PersistentQueue } from ${JSON.stringify(queueUrl)};
       const q = new PersistentQueue(new FileFlash({ path: ${JSON.stringify(path)}, blockSize: 512, blockCount: 4 }), { whenFull: 'reject-new' });
       const enc = new TextEncoder();
       for (let i = 0; i < 100000; i++) {
         let seq;
         try { seq = q.append(enc.encode('{"i":' + i + ',"pad":"' + 'z'.repeat(i % 50) + '"}')); } catch (e) { if (e.code === 'queue-full') { process.stdout.write('full\\n'); break; } throw e; }
         process.stdout.write(seq + ':' + i + '\\n');
       }
       setInterval(() => {}, 1000);`,
    ]);
    const acked = new Map<number, number>();
    let buffered = '';
    let full = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not report in time')), 10_000);
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) {
          if (l === 'full') full = true;
          else {
            const [s, i] = l.split(':').map(Number);
            acked.set(s!, i!);
          }
        }
        if (acked.size >= 25 && !child.killed) {
          child.kill('SIGKILL');
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.on('error', reject);
    });
    assert.ok(acked.size >= 25, 'child appended records before the kill');
    const q = new PersistentQueue(new FileFlash({ path, ...geometry }), { whenFull: 'reject-new' });
    const got = records(q);
    for (const [seq, i] of acked) assert.equal(got.get(seq), new TextDecoder().decode(payload(i)), `record ${seq} survived`);
    assert.ok(q.stats().nextSeq > Math.max(...acked.keys()), 'sequence continues above every returned seq');
    assert.ok(full || got.size >= acked.size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- geometry change (a firmware update changes blockCount) ----

const BLOCK = 512;
const SECURITY_BLOCKS = 2;

/** The agent's layout: telemetry first, security in the last SECURITY_BLOCKS blocks. */
function agentQueues(flash: FlashPort): { telemetry: PersistentQueue; security: PersistentQueue } {
  return {
    telemetry: new PersistentQueue(new FlashRegion(flash, 0, flash.blockCount - SECURITY_BLOCKS), { whenFull: 'drop-oldest' }),
    security: new PersistentQueue(new FlashRegion(flash, flash.blockCount - SECURITY_BLOCKS, SECURITY_BLOCKS), { whenFull: 'reject-new' }),
  };
}

/** Writes `count` telemetry records (acking every 5th from the front) and 3 security events; returns what stays live. */
function fillImage(path: string, blockCount: number, count: number) {
  const flash = new FileFlash({ path, blockSize: BLOCK, blockCount });
  const q = agentQueues(flash);
  const ref = new RecordRef();
  for (let i = 0; i < count; i++) {
    q.telemetry.append(payload(i));
    if (i % 5 === 4 && q.telemetry.first(ref)) q.telemetry.ack(ref);
  }
  for (let i = 0; i < 3; i++) q.security.append(new TextEncoder().encode(`{"event":"e${i}"}`));
  // The newest telemetry record acknowledged too: its number must not come back.
  const live = records(q.telemetry);
  const result = { telemetry: live, security: records(q.security), telemetryNext: q.telemetry.stats().nextSeq, securityNext: q.security.stats().nextSeq };
  flash.close();
  return result;
}

function agentOn(flash: FlashPort, logs: string[]): Agent {
  const ticks = new ManualTicks(1000, 0, 5_000);
  const seeded = new SeededRandom(3);
  return new Agent(
    {
      ticks,
      timers: new ManualTimer(ticks),
      random: { strong: true, fill: (b: Uint8Array) => seeded.fill(b) },
      udp: new ScriptedUdp(),
      http: { request: () => ({ cancel() {} }) },
      flash,
      kv: new MemoryKeyValue(),
      log: (l) => logs.push(l),
    },
    {
      thingName: 'dev-1',
      region: 'eu-west-1',
      roleAlias: 'role',
      dataEndpoint: { host: 'data.example.com' },
      credentialsEndpoint: { host: 'creds.example.com' },
      timeServers: ['192.0.2.1'],
      minSources: 1,
      buildTimeMs: 1_700_000_000_000,
      healthIntervalMs: 0,
      securityBlocks: SECURITY_BLOCKS,
    },
  );
}

for (const [from, to, count] of [
  [6, 12, 40],
  [12, 7, 150],
] as const) {
  test(`blockCount ${from} -> ${to}: the agent migrates both queues, records and sequence numbers kept`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-geometry-'));
    try {
      const path = join(dir, 'flash.img');
      const before = fillImage(path, from, count);
      assert.ok(before.telemetry.size > 10 && before.security.size === 3);
      const logs: string[] = [];
      const flash = new FileFlash({ path, blockSize: BLOCK, blockCount: to });
      assert.ok(flash.geometryChange !== null, 'the adapter offers the change instead of deleting the image');
      const agent = agentOn(flash, logs);
      assert.equal(flash.geometryChange, null, 'committed');
      assert.ok(logs.some((l) => l.includes(`geometry changed from ${from} to ${to} blocks`)), 'logged');
      assert.equal(readFileSync(path).length, BLOCK * to);
      assert.ok(!existsSync(path + '.migrating'));
      // The new queues number on after the old ones (the last records were acked: still not reused).
      assert.equal(agent.telemetry({ after: 1 }), before.telemetryNext);
      assert.equal(agent.securityEvent('after'), before.securityNext);
      agent.stop();
      flash.close();
      const reopened = new FileFlash({ path, blockSize: BLOCK, blockCount: to });
      assert.equal(reopened.geometryChange, null);
      const q = agentQueues(reopened);
      const got = records(q.telemetry);
      const sec = records(q.security);
      assert.equal(got.get(before.telemetryNext), '{"after":1}');
      got.delete(before.telemetryNext);
      sec.delete(before.securityNext);
      assert.deepEqual(sec, before.security, 'every security event, same numbers');
      if (to > from) {
        assert.deepEqual(got, before.telemetry, 'every live telemetry record, same numbers, same order');
      } else {
        // Smaller: the newest that fit are kept (drop-oldest), the rest counted and logged.
        const keys = [...before.telemetry.keys()];
        const kept = [...got.keys()];
        assert.ok(kept.length > 0 && kept.length < keys.length, `some kept (${kept.length}/${keys.length})`);
        assert.deepEqual(kept, keys.slice(keys.length - kept.length), 'the newest ones, in order');
        for (const k of kept) assert.equal(got.get(k), before.telemetry.get(k));
        const line = logs.find((l) => l.startsWith('flash: migrated:'))!;
        assert.match(line, new RegExp(`telemetry ${kept.length} live, 0 dead letters, ${keys.length - kept.length} dropped`));
      }
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a crash during the migration leaves the old image usable; the next boot migrates again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-geometry-crash-'));
  try {
    const path = join(dir, 'flash.img');
    const before = fillImage(path, 6, 30);
    const oldBytes = readFileSync(path);
    const flash = new FileFlash({ path, blockSize: BLOCK, blockCount: 10 });
    const change = flash.geometryChange!;
    assert.throws(() => flash.read(0, new Uint8Array(1), 0, 1), /migrate/, 'the port refuses calls until the migration commits');
    // The power fails after a few writes into the new image.
    let writes = 0;
    const dying: FlashPort = {
      blockSize: change.to.blockSize,
      blockCount: change.to.blockCount,
      erase: (b) => change.to.erase(b),
      read: (o, into, s, l) => change.to.read(o, into, s, l),
      write: (o, b, s, l) => {
        if (++writes > 7) throw new Error('power cut');
        change.to.write(o, b, s, l);
      },
    };
    assert.throws(() => migrateAgentFlash(change.from, dying, SECURITY_BLOCKS), /power cut/);
    flash.close(); // no commit: the process died
    assert.ok(readFileSync(path).equals(oldBytes), 'the old image is untouched');
    assert.ok(existsSync(path + '.migrating'), 'the incomplete copy is aside');
    // Rolled back firmware (old geometry): all data there, the partial copy discarded.
    const old = new FileFlash({ path, blockSize: BLOCK, blockCount: 6 });
    assert.equal(old.geometryChange, null);
    assert.ok(!existsSync(path + '.migrating'));
    const q = agentQueues(old);
    assert.deepEqual(records(q.telemetry), before.telemetry);
    assert.deepEqual(records(q.security), before.security);
    old.close();
    // New firmware again: the migration starts over and completes.
    const logs: string[] = [];
    const again = new FileFlash({ path, blockSize: BLOCK, blockCount: 10 });
    agentOn(again, logs).stop();
    again.close();
    const done = agentQueues(new FileFlash({ path, blockSize: BLOCK, blockCount: 10 }));
    assert.deepEqual(records(done.telemetry), before.telemetry);
    assert.deepEqual(records(done.security), before.security);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
