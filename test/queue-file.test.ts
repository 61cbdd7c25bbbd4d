// The persistent queue on the file-backed FlashPort (Node, simulator): same
// bytes as on the in-memory flash for the same operations, survives reopen,
// and survives a SIGKILL of the process in the middle of a write loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileFlash } from '../src/platform/node/flash-file.js';
import { MemoryFlash } from '../src/telemetry/memory-flash.js';
import { PersistentQueue, RecordRef } from '../src/telemetry/queue.js';

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
    assert.throws(() => new FileFlash({ path, blockSize: 256, blockCount: 4 }), RangeError, 'geometry mismatch refused');
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
