// Raspberry Pi Pico W: the queue store and the firmware image.
//
// The store (src/platform/moddable/flash/raw.ts over pico/agent-flash.c) is
// tested on the board's own C code: test/pico-flash/nor-harness.c links
// agent-flash.c over a simulated NOR chip and the TypeScript adapter talks to
// it (nor-device.ts). The queue's power-cut cases (test/core/
// queue-powercut.suite.ts) run on that stack; the Pico layout (4 KiB sectors,
// 256-byte pages, 64 blocks) gives erases per record; a failing cell or
// driver must make the write throw, never succeed silently.
//
// With $MODDABLE, $PICO_SDK_DIR (2.2.0), $PICO_EXTRAS_DIR, pico-examples next
// to the SDK ($PICO_ROOT) and arm-none-eabi-gcc under $PICO_GCC_ROOT, the
// agent is built for pico/pico_w with mcconfig and its image checked; without
// them that test skips with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCheck } from './harness/portable.js';
import { powerCutCases, type PowerCutMedium } from './core/queue-powercut.suite.js';
import { RawFlash } from '../src/platform/moddable/flash/raw.js';
import { PersistentQueue, RecordRef } from '../src/telemetry/queue.js';
import { buildHarness, harnessMissing, NorHarness, type NorChip } from './pico-flash/nor-device.js';
import { buildFirmware, findSdk } from '../tools/moddable/sdk.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const noHarness = harnessMissing();
let harness: NorHarness | null = null;
let workDir = '';

function nor(): NorHarness {
  if (harness === null) {
    workDir = mkdtempSync(join(tmpdir(), 'pico-flash-'));
    harness = new NorHarness(buildHarness(workDir));
  }
  return harness;
}

test.after(() => {
  harness?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** A power-cut medium made of the board's store over the board's C code. */
function picoMedium(pageSize: number) {
  return (geometry: { blockSize: number; blockCount: number }): PowerCutMedium => {
    const chip = nor().chip(geometry.blockSize, geometry.blockCount, pageSize);
    return {
      flash: new RawFlash(chip, geometry),
      cutPowerAfter: (units) => chip.cutPowerAfter(units),
      powerOn: () => chip.powerOn(),
      cost: () => {
        const s = chip.stats();
        return s.bytesWritten + s.blocksErased * geometry.blockSize;
      },
      blocksErased: () => chip.stats().blocksErased,
      image: () => chip.image(),
      load: (image) => chip.load(image),
    };
  };
}

// The full cases, as on Node with MemoryFlash; page size 32 so writes are split into pages as on the board.
for (const c of powerCutCases(picoMedium(32), false)) {
  test(`Pico W store (agent-flash.c): ${c.name}`, { skip: noHarness }, () => c.run(makeCheck()));
}

const PICO = { blockSize: 4096, blockCount: 64, pageSize: 256 };

function picoQueue(): { chip: NorChip; flash: RawFlash; queue: PersistentQueue } {
  const chip = nor().chip(PICO.blockSize, PICO.blockCount, PICO.pageSize);
  const flash = new RawFlash(chip, PICO);
  return { chip, flash, queue: new PersistentQueue(flash, { whenFull: 'drop-oldest' }) };
}

function payload(i: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let k = 0; k < size; k++) p[k] = (i * 31 + k * 7 + 1) & 0xff;
  return p;
}

test('Pico W layout: 64-byte records cost a fraction of an erase each, every record kept', { skip: noHarness }, (t) => {
  const { chip, queue } = picoQueue();
  const ref = new RecordRef();
  // Three times round the 64-block ring, acking as a device online would.
  const records = 3 * Math.ceil((PICO.blockCount * PICO.blockSize) / (64 + 12));
  for (let i = 0; i < records; i++) {
    queue.append(payload(i, 64));
    if (i % 2 === 1 && queue.first(ref)) queue.ack(ref);
  }
  const s = chip.stats();
  const erasesPerRecord = s.blocksErased / records;
  const programmedPerRecord = s.bytesWritten / records;
  t.diagnostic(`${records} records of 64 bytes: ${s.blocksErased} erases (${erasesPerRecord.toFixed(4)} per record), ${programmedPerRecord.toFixed(1)} bytes programmed per record (acks included)`);
  // One erase per 4 KiB block filled: at most blockSize / (12 + 64) records per erase.
  assert.ok(s.blocksErased <= Math.ceil(records / Math.floor((PICO.blockSize - 16) / 76)) + PICO.blockCount, `erases ${s.blocksErased}`);
  assert.ok(erasesPerRecord < 0.02, `erases per record ${erasesPerRecord}`);
  // Reopened: the live records are the newest unacknowledged ones, intact.
  const again = new PersistentQueue(new RawFlash(chip, PICO), { whenFull: 'drop-oldest' });
  assert.equal(again.stats().depth, queue.stats().depth);
  let n = 0;
  for (let ok = again.first(ref); ok; ok = again.next(ref)) {
    const b = new Uint8Array(ref.length);
    again.read(ref, b);
    assert.deepEqual(b, payload(ref.seq, 64), `record ${ref.seq}`);
    n++;
  }
  assert.equal(n, queue.stats().depth);
  chip.dispose();
});

test('Pico W store: a cell that does not program makes append throw; after reopen nothing false is kept', { skip: noHarness }, () => {
  const { chip, queue } = picoQueue();
  for (let i = 0; i < 5; i++) queue.append(payload(i, 64));
  // The next record's payload starts at 16 + 5 * 76 + 12 in block 0.
  chip.stuckAt1(16 + 5 * 76 + 12 + 3);
  assert.throws(
    () => queue.append(payload(5, 64)),
    (e: unknown) => (e as { code?: string }).code === 'FLASH_IO' && /read back differs/.test(String((e as Error).message)),
  );
  assert.equal(queue.stats().failed, true, 'the queue stops until it is reopened');
  assert.equal(queue.reopen(), true);
  const ref = new RecordRef();
  const seqs: number[] = [];
  for (let ok = queue.first(ref); ok; ok = queue.next(ref)) {
    const b = new Uint8Array(ref.length);
    queue.read(ref, b);
    assert.deepEqual(b, payload(ref.seq, 64));
    seqs.push(ref.seq);
  }
  assert.deepEqual(seqs, [0, 1, 2, 3, 4], 'the failed record is not reported as stored, the others are intact');
  // The queue goes on in a fresh block; the number of the failed append was never given out, so it may be reused.
  const seq = queue.append(payload(9, 64));
  assert.ok(seq >= 5);
  const reopened = new PersistentQueue(new RawFlash(chip, PICO), { whenFull: 'drop-oldest' });
  assert.equal(reopened.stats().depth, 6);
  chip.dispose();
});

test('Pico W store: a failing flash driver makes erase and write throw', { skip: noHarness }, () => {
  const { chip, flash, queue } = picoQueue();
  queue.append(payload(0, 10));
  chip.driverFails(true);
  assert.throws(() => queue.append(payload(1, 10)), (e: unknown) => (e as { code?: string }).code === 'FLASH_IO');
  assert.throws(() => flash.erase(3), (e: unknown) => (e as { code?: string }).code === 'FLASH_IO');
  // Programming over bytes that are not erased is refused before anything is written.
  chip.driverFails(false);
  const before = chip.image();
  assert.throws(() => flash.write(16, new Uint8Array([1, 2, 3]), 0, 3), /not erased/);
  assert.deepEqual(chip.image(), before);
  chip.dispose();
});

test('the Pico W board config puts the queue on the checked raw store, not in a littlefs file', () => {
  const board = JSON.parse(readFileSync(join(root, 'boards', 'pico_w', 'agent.json'), 'utf8')).config.board;
  assert.equal(board.storage.kind, 'pico-flash');
  assert.equal(board.storage.blockSize, 4096, 'one queue block per flash sector');
  const manifest = JSON.parse(readFileSync(join(root, 'boards', 'pico_w', 'manifest.json'), 'utf8'));
  assert.ok(manifest.modules['platform/moddable/flash/pico-native'].some((m: string) => m.endsWith('flash/pico/agent-flash')), 'the C region code is built in');
});

// ---- the firmware image ----

function picoPrerequisites(): string | false {
  const sdk = findSdk();
  if (typeof sdk === 'string') return sdk;
  const env = process.env;
  if (!env.PICO_SDK_DIR) return 'PICO_SDK_DIR is not set (no pico-sdk 2.2.0)';
  if (!existsSync(join(env.PICO_SDK_DIR, 'build', 'pioasm', 'pioasm')) && !env.PIOASM) return 'no pioasm at $PICO_SDK_DIR/build/pioasm (see boards/pico_w/README.md)';
  const picoRoot = env.PICO_ROOT ?? join(env.HOME ?? '', 'pico');
  if (!existsSync(join(picoRoot, 'pico-examples'))) return `no pico-examples in PICO_ROOT (${picoRoot})`;
  if (!env.PICO_EXTRAS_DIR && !existsSync(join(picoRoot, 'pico-extras'))) return 'PICO_EXTRAS_DIR is not set';
  const gcc = join(env.PICO_GCC_ROOT ?? '/usr/local', 'bin', 'arm-none-eabi-gcc');
  if (!existsSync(gcc)) return `no ${gcc} (set PICO_GCC_ROOT)`;
  const uf2 = env.UF2CONV ?? join(env.PICO_SDK_DIR, 'build', '_deps', 'picotool', 'picotool');
  if (!existsSync(uf2)) return `no picotool at ${uf2} (set UF2CONV)`;
  return false;
}
const noPico = picoPrerequisites();

function symbol(nm: string, elf: string, name: string): number {
  const r = spawnSync(nm, [elf], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.endsWith(` ${name}`));
  assert.ok(line, `symbol ${name} in the image`);
  return parseInt(line.split(' ')[0]!, 16);
}

test('pico/pico_w: the agent builds with mcconfig and leaves room for the queue region', { skip: noPico, timeout: 40 * 60 * 1000 }, async (t) => {
  const sdk = findSdk();
  assert.ok(typeof sdk !== 'string');
  const outputDir = join(tmpdir(), 'aws-device-agent-mcconfig-pico');
  mkdirSync(outputDir, { recursive: true });
  const build = await buildFirmware({ sdk, project: root, platform: 'pico/pico_w', outputDir, timeoutMs: 35 * 60 * 1000 });
  assert.ok(build.ok, `mcconfig failed:\n${build.output.slice(-4000)}`);
  const binDir = join(outputDir, 'bin', 'pico', 'pico_w', 'release');
  const folders = existsSync(binDir) ? spawnSync('ls', [binDir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean) : [];
  const elf = folders.map((f) => join(binDir, f, 'xs_pico.elf')).find((p) => existsSync(p));
  assert.ok(elf, `xs_pico.elf under ${binDir}`);
  assert.ok(existsSync(elf.replace(/\.elf$/, '.uf2')), 'the .uf2 to flash');
  const bin = join(process.env.PICO_GCC_ROOT!, 'bin');
  const size = spawnSync(join(bin, 'arm-none-eabi-size'), [elf], { encoding: 'utf8' }).stdout.trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
  const [text, data, bss] = size as [number, number, number];
  const nm = join(bin, 'arm-none-eabi-nm');
  const imageEnd = symbol(nm, elf, '__start_unused_space');
  const prefs = symbol(nm, elf, '_MODPREF_start');
  const heapStart = symbol(nm, elf, '__end__');
  const heapEnd = symbol(nm, elf, '__StackLimit'); // malloc's heap runs from the end of .bss to the top of RAM
  // modAgentFlash.c: free flash starts one sector above the image's end; the
  // region is the queue's 64 sectors below littlefs's partition (64 KiB by default).
  const freeStart = Math.ceil(imageEnd / 4096) * 4096 + 4096;
  const regionStart = prefs - 65536 - 64 * 4096;
  const board = JSON.parse(readFileSync(join(root, 'boards', 'pico_w', 'manifest.json'), 'utf8'));
  const creation = board.creation.static as number;
  t.diagnostic(`xs_pico.elf: text ${text}, data ${data}, bss ${bss}; image ends 0x${imageEnd.toString(16)}; queue region 0x${regionStart.toString(16)}..0x${(prefs - 65536).toString(16)}; heap ${heapEnd - heapStart} B, ${heapEnd - heapStart - creation} B left after creation.static ${creation}; .uf2 ${statSync(elf.replace(/\.elf$/, '.uf2')).size} B`);
  assert.ok(freeStart <= regionStart, `the image (to 0x${imageEnd.toString(16)}) leaves room for the queue region at 0x${regionStart.toString(16)}`);
  assert.ok(heapEnd - heapStart > creation, 'the XS heap fits in RAM');
});
