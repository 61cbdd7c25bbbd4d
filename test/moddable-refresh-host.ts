// Host side of the refresh-heap firmware (test/moddable-refresh/): writes the
// bench's refresh fixture as data resources, builds the firmware instrumented
// for the Linux simulator with the Pico W's creation sizes, runs it and
// parses its trace. Used by test/moddable-refresh.test.ts and by the bench
// (tools/bench/update.section.ts, key update_heap_bytes_refresh_moddable).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRefreshFixture } from '../tools/bench/update-fixture.js';
import { buildFirmware, findSdk, hasCommand, runSimulator, type Sdk } from '../tools/moddable/sdk.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REFRESH_FIRMWARE_MANIFEST = join(root, 'test', 'moddable-refresh', 'manifest.json');
/** Fixed, so that reruns build incrementally. */
export const REFRESH_OUTPUT_DIR = join(tmpdir(), 'aws-device-agent-mcconfig-refresh');
/** sizeof(txSlot) in the simulator (64-bit host); Instrumentation reports slots and stack in bytes of these. */
export const SIMULATOR_SLOT_BYTES = 32;
/** sizeof(txSlot) on the Pico W (32-bit). */
export const PICO_SLOT_BYTES = 16;
/** The Pico W's creation.static (boards/pico_w/manifest.json; the firmware's manifest copies it). */
export const PICO_W_STATIC_BYTES = 163_840;
/** Upper bound for the run in the simulator (module load and one refresh take a few seconds). */
export const REFRESH_RUN_TIMEOUT_MS = 3 * 60 * 1000;

/** Why the measurement cannot run here, or false. */
export function refreshHeapUnavailable(): string | false {
  const found = findSdk();
  if (typeof found === 'string') return found;
  if (!hasCommand('xvfb-run')) return 'xvfb-run is not installed';
  if (!hasCommand('stdbuf')) return 'stdbuf is not installed';
  return false;
}

/** Writes the fixture's files and fixture-index.json into `dir` (emptied first). */
export function writeRefreshFixture(dir: string): void {
  const f = makeRefreshFixture();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const index = { deviceTimeMs: f.deviceTimeMs, trusted: {} as Record<string, string>, served: {} as Record<string, string> };
  for (const [role, bytes] of Object.entries(f.trusted)) {
    index.trusted[role] = `trusted-${role}.json`;
    writeFileSync(join(dir, index.trusted[role]), bytes);
  }
  for (const [name, bytes] of Object.entries(f.served)) {
    index.served[name] = `served-${name}`;
    writeFileSync(join(dir, index.served[name]), bytes);
  }
  writeFileSync(join(dir, 'fixture-index.json'), JSON.stringify(index));
}

export interface HeapSample {
  where: string;
  /** Instrumentation figures after Debug.gc(), as the simulator reports them (bytes of 64-bit slots, chunk bytes, stack bytes). */
  slotBytes: number;
  chunkBytes: number;
  stackBytes: number;
  gcs: number;
}

export interface RefreshHeapRun {
  built: boolean;
  buildOutput: string;
  /** The measured refresh completed (REFRESH PASS). */
  passed: boolean;
  failure: string | null;
  samples: HeapSample[];
  /** The simulator's own periodic instrumentation lines ("instruments:"), by key, the largest value seen of each. */
  instrumentsMax: Record<string, number>;
  /** The abort message when there was one. */
  abort: string | null;
  output: string;
}

const SAMPLE = /^REFRESH sample (.+?) gc slots=(\d+) chunks=(\d+) stack=(\d+) gcs=(\d+)$/;

export function parseRefreshTrace(output: string): Omit<RefreshHeapRun, 'built' | 'buildOutput'> {
  const lines = output.split('\n').map((l) => l.trimEnd());
  const samples: HeapSample[] = [];
  let passed = false;
  let failure: string | null = null;
  let keys: string[] = [];
  const instrumentsMax: Record<string, number> = {};
  for (const l of lines) {
    const s = SAMPLE.exec(l);
    if (s) samples.push({ where: s[1]!, slotBytes: Number(s[2]), chunkBytes: Number(s[3]), stackBytes: Number(s[4]), gcs: Number(s[5]) });
    else if (/^REFRESH PASS\b/.test(l)) passed = true;
    else if (l.startsWith('REFRESH FAIL ')) failure = l.slice('REFRESH FAIL '.length);
    else if (l.startsWith('instruments key: ')) keys = l.slice('instruments key: '.length).split(',');
    else if (l.startsWith('instruments: ')) {
      l.slice('instruments: '.length).split(',').forEach((v, i) => {
        const k = keys[i];
        if (k !== undefined) instrumentsMax[k] = Math.max(instrumentsMax[k] ?? 0, Number(v));
      });
    }
  }
  const abortLine = lines.find((l) => /XS abort|memory full|stack overflow|Slot allocation: failed|Chunk allocation: failed/i.test(l)) ?? null;
  return { passed, failure, samples, instrumentsMax, abort: abortLine, output };
}

/** Writes the fixture, builds (mcconfig -m -i -p lin -t build) and runs the firmware until it ends. */
export async function measureRefreshHeap(sdk: Sdk, outputDir = REFRESH_OUTPUT_DIR): Promise<RefreshHeapRun> {
  const fixtureDir = join(outputDir, 'refresh-fixture');
  writeRefreshFixture(fixtureDir);
  const build = await buildFirmware({ sdk, project: root, manifest: REFRESH_FIRMWARE_MANIFEST, platform: 'lin', outputDir, instrument: true, env: { REFRESH_FIXTURE: fixtureDir } });
  if (!build.ok || build.simulatorLibrary === null) {
    return { built: false, buildOutput: build.output, passed: false, failure: 'build failed', samples: [], instrumentsMax: {}, abort: null, output: '' };
  }
  const run = await runSimulator(sdk, build.simulatorLibrary, /REFRESH (PASS|FAIL)[^\n]*\n|XS abort[^\n]*\n|memory full[^\n]*\n|allocation: failed[^\n]*\n/, REFRESH_RUN_TIMEOUT_MS);
  return { built: true, buildOutput: build.output, ...parseRefreshTrace(run.output) };
}

/** A sample as Pico W bytes: slots x 16 B plus chunk bytes (the simulator's chunks, which hold 64-bit pointers: an upper bound of the Pico's). */
export function picoLiveBytes(s: HeapSample): number {
  return (s.slotBytes / SIMULATOR_SLOT_BYTES) * PICO_SLOT_BYTES + s.chunkBytes;
}
