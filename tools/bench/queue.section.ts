// Benchmark of the persistent queue: append and ack rates on Node (wall
// time, memory flash), flash bytes programmed per record, RAM held by the
// queue, and on XS the deterministic computrons per append and per ack.
// The XS code is bundled here with esbuild from the compiled queue modules.
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryFlash } from '../../test/harness/memory-flash.js';
import { PersistentQueue, RecordRef } from '../../src/telemetry/queue.js';
import { runXsSnippet } from '../xs/snippet.js';

const here = dirname(fileURLToPath(import.meta.url));
const GEOMETRY = { blockSize: 4096, blockCount: 16 };
const PAYLOAD_BYTES = 100;
const RECORDS = 20_000;
const XS_RECORDS = 2000;

function nodeRates(): { appendsPerS: number; acksPerS: number; bytesPerRecord: number; erasesPer1k: number; ramBytes: number } {
  const flash = new MemoryFlash(GEOMETRY);
  const q = new PersistentQueue(flash, { whenFull: 'drop-oldest' });
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(0x41);
  const ref = new RecordRef();
  // Steady state: the ring wraps several times; acks keep pace in batches of 32.
  let appendMs = 0;
  let ackMs = 0;
  let acks = 0;
  for (let done = 0; done < RECORDS; done += 32) {
    const t0 = performance.now();
    for (let i = 0; i < 32; i++) q.append(payload);
    const t1 = performance.now();
    for (let ok = q.first(ref), n = 0; ok && n < 32; ok = q.next(ref), n++) {
      q.ack(ref);
      acks++;
    }
    const t2 = performance.now();
    appendMs += t1 - t0;
    ackMs += t2 - t1;
  }
  const records = Math.ceil(RECORDS / 32) * 32;
  const fieldBytes = Object.keys(q).length * 8;
  return {
    appendsPerS: Math.round((records / appendMs) * 1000),
    acksPerS: Math.round((acks / ackMs) * 1000),
    bytesPerRecord: Math.round((flash.bytesWritten / records) * 100) / 100,
    erasesPer1k: Math.round((flash.blocksErased / records) * 1000 * 100) / 100,
    ramBytes: q.bufferBytes + fieldBytes,
  };
}

async function xsComputrons(): Promise<{ append: number; ack: number; recover: number }> {
  const dist = join(here, '..', '..', 'src', 'telemetry');
  const report = await runXsSnippet<{ append: number; ack: number; recover: number }>(
    `
        import { MemoryFlash } from ${JSON.stringify(join(here, '..', '..', 'test', 'harness', 'memory-flash.js'))};
        import { PersistentQueue, RecordRef } from ${JSON.stringify(join(dist, 'queue.js'))};
        const lap = () => resetMeter(0, 0) >>> 0;
        const flash = new MemoryFlash({ blockSize: ${GEOMETRY.blockSize}, blockCount: ${GEOMETRY.blockCount} });
        const q = new PersistentQueue(flash, { whenFull: 'drop-oldest' });
        const payload = new Uint8Array(${PAYLOAD_BYTES}).fill(0x41);
        const ref = new RecordRef();
        lap();
        for (let i = 0; i < ${XS_RECORDS}; i++) q.append(payload);
        const append = lap();
        for (let ok = q.first(ref); ok; ok = q.first(ref)) q.ack(ref);
        const ack = lap();
        new PersistentQueue(flash, { whenFull: 'drop-oldest' });
        const recover = lap();
        const bytes = new TextEncoder().encode(JSON.stringify({ append, ack, recover }));
        issueCommand(bytes.buffer);
      `,
    dist,
  );
  if (report === null) throw new Error('XS queue bench did not report');
  const r = report as { append: number; ack: number; recover: number };
  return { append: Math.round(r.append / XS_RECORDS), ack: Math.round(r.ack / XS_RECORDS), recover: r.recover };
}

export async function run(): Promise<Record<string, number | string | boolean | null>> {
  const node = nodeRates();
  const xs = await xsComputrons();
  const rows: Array<[string, string]> = [
    ['geometry', `${GEOMETRY.blockCount} x ${GEOMETRY.blockSize} B, ${PAYLOAD_BYTES}-byte payloads`],
    ['appends/s (Node, memory flash)', String(node.appendsPerS)],
    ['acks/s (Node, memory flash)', String(node.acksPerS)],
    ['flash bytes programmed per record', `${node.bytesPerRecord} (12 header + ${PAYLOAD_BYTES} payload + 1 ack + block headers)`],
    ['erases per 1000 records', String(node.erasesPer1k)],
    ['queue RAM (buffers + 8 B/field)', `${node.ramBytes} B`],
    ['XS computrons per append', String(xs.append)],
    ['XS computrons per ack', String(xs.ack)],
    ['XS computrons, recovery scan of a drained 64 KiB ring', String(xs.recover)],
  ];
  for (const [k, v] of rows) process.stderr.write(`${k.padEnd(56)} ${v}\n`);
  return {
    queue_appends_per_s: node.appendsPerS,
    queue_acks_per_s: node.acksPerS,
    flash_bytes_per_record: node.bytesPerRecord,
    flash_erases_per_1k_records: node.erasesPer1k,
    queue_ram_bytes: node.ramBytes,
    queue_xs_computrons_per_append: xs.append,
    queue_xs_computrons_per_ack: xs.ack,
    queue_xs_computrons_recovery: xs.recover,
  };
}
