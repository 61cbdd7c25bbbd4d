// `hil`: builds the device test suite and runs it on a target.
//
//   hil [--target xs|sim|serial:<port>] [--board B] [--suite NAME]... [--timeout-ms N] [--baud B] [--json]
//   hil build --board esp32|esp32-nodemcu|pico_w [--suite NAME]...
//
// --board gives the Moddable build that board's XS heap sizes (`creation` in
// boards/<board>/manifest.json); with --target sim it checks in the simulator
// that the suites fit a board's fixed chunk and slot heaps (ESP32; 64-bit
// slots, so an upper bound). Pico W's one static heap is not emulated there.
//
// xs      the virtual device: the XS engine from @agoric/xsnap (used by CI)
// sim     the Moddable simulator (needs $MODDABLE and xvfb-run)
// serial  a board flashed with the device tests (`hil build --target serial`
//         prints the mcconfig command), read from its console
//
// The report is parsed from the target's console: `ok - ...` / `not ok - ...`
// lines and the closing `N passed, N failed`. The exit code is 0 only when
// the run reached `HIL-END`, no case failed, and the count matches the build.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildDeviceTests, type DeviceTestBuild } from './build.js';
import { XsWorker } from '../xs/worker.js';

export interface HilReport {
  target: string;
  passed: number;
  failed: number;
  expected: number;
  finished: boolean;
  failures: string[];
  ok: boolean;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/** What XS prints when it gives up (a heap too small for the program, a stack overflow): the run is over. */
export const XS_ABORT = /XS abort|memory full|stack overflow|(?:Slot|Chunk) allocation: failed/i;

/** The abort as a failed case, so that the report names it instead of timing out. */
function abortLine(line: string): string {
  return `not ok - (engine): ${line.trim()}`;
}

/** Parses a console transcript. Lines may carry a prefix (timestamps, board log tags). */
export function parseTranscript(lines: string[], expected: number, target: string): HilReport {
  let passed = -1;
  let failed = -1;
  let finished = false;
  const failures: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    const closing = /(?:^|\s)(\d+) passed, (\d+) failed$/.exec(line);
    if (closing) {
      passed = Number(closing[1]);
      failed = Number(closing[2]);
    } else if (line.includes('not ok - ')) failures.push(line.slice(line.indexOf('not ok - ') + 9));
    else if (line.endsWith('HIL-END')) finished = true;
  }
  const ok = finished && expected > 0 && passed === expected && failed === 0 && failures.length === 0;
  return { target, passed: Math.max(passed, 0), failed: Math.max(failed, 0), expected, finished, failures, ok };
}

async function runOnXs(build: DeviceTestBuild, timeoutMs: number, echo: (l: string) => void): Promise<string[]> {
  const lines: string[] = [];
  const worker = new XsWorker({
    onPrint: (l) => {
      lines.push(l);
      echo(l);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      worker.evaluate(readFileSync(build.script, 'utf8')),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (e) {
    lines.push(`not ok - (engine): ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    await worker.close();
  }
  // print() output travels on stdout, separately from the protocol pipe: let it drain.
  await new Promise((r) => setTimeout(r, 50));
  return lines;
}

/** XS heap sizes of a Moddable manifest (`creation`). */
export interface Creation {
  static: number;
  chunk: { initial: number; incremental: number };
  heap: { initial: number; incremental: number };
  stack: number;
}

/** The simulator running every suite at once (the vectors are inlined data): room to grow. */
const SIMULATOR_CREATION: Creation = { static: 0, chunk: { initial: 1048576, incremental: 65536 }, heap: { initial: 65536, incremental: 8192 }, stack: 4096 };

/** Boards with a boards/ folder, and the mcconfig platform each builds with. */
export const HIL_BOARDS: Record<string, string> = { esp32: 'esp32', 'esp32-nodemcu': 'esp32/nodemcu', pico_w: 'pico/pico_w' };

/** The board's own XS heap sizes (boards/<board>/manifest.json): the device tests get what the agent gets. */
export function boardCreation(repo: string, board: string): Creation {
  if (!(board in HIL_BOARDS)) throw new Error(`unknown board ${board} (${Object.keys(HIL_BOARDS).join(', ')})`);
  const manifest = JSON.parse(readFileSync(join(repo, 'boards', board, 'manifest.json'), 'utf8')) as { creation?: Creation };
  if (!manifest.creation) throw new Error(`boards/${board}/manifest.json has no creation sizes`);
  return manifest.creation;
}

function moddableManifest(build: DeviceTestBuild, dir: string, creation: Creation): string {
  mkdirSync(dir, { recursive: true });
  const manifest = {
    include: ['$(MODDABLE)/examples/manifest_base.json'],
    modules: { main: build.module.replace(/\.mjs$/, '') },
    creation,
  };
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  // mcconfig takes module paths without extension and wants `.js` files.
  writeFileSync(build.module.replace(/\.mjs$/, '.js'), readFileSync(build.module, 'utf8'));
  return file;
}

function runProcess(cmd: string, args: string[], cwd: string, timeoutMs: number, echo: (l: string) => void, stopOn: RegExp): Promise<string[]> {
  return new Promise((resolvePromise) => {
    const lines: string[] = [];
    const child = spawn(cmd, args, { cwd, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let pending = '';
    let aborted = false;
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      // After an abort, what the dying process still prints is not judged.
      while (!aborted && (nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lines.push(line);
        echo(line);
        if (XS_ABORT.test(line)) {
          aborted = true;
          lines.push(abortLine(line));
          stop();
        } else if (stopOn.test(line)) stop();
      }
    };
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      lines.push(`not ok - (runner): timed out after ${timeoutMs} ms`);
      stop();
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolvePromise(lines);
    });
  });
}

async function runOnSim(build: DeviceTestBuild, repo: string, creation: Creation, timeoutMs: number, echo: (l: string) => void): Promise<string[]> {
  const moddable = process.env.MODDABLE;
  if (!moddable || !existsSync(moddable)) throw new Error('--target sim needs a Moddable SDK: set $MODDABLE (see boards/simulator/README.md)');
  const dir = join(repo, 'build', 'hil', 'sim');
  const manifest = moddableManifest(build, dir, creation);
  const NEVER = /(?!)/;
  mkdirSync(join(dir, 'out'), { recursive: true });
  const buildLines = await runProcess('mcconfig', ['-m', '-p', 'lin', '-t', 'build', '-o', join(dir, 'out'), manifest], dir, timeoutMs, echo, NEVER);
  const so = findFile(join(dir, 'out'), 'mc.so');
  if (!so) return [...buildLines, 'not ok - (build): mcconfig produced no mc.so'];
  const mcsim = join(moddable, 'build', 'bin', 'lin', 'release', 'mcsim');
  return runProcess('xvfb-run', ['-a', 'stdbuf', '-oL', mcsim, so], dir, timeoutMs, echo, /HIL-END/);
}

function findFile(dir: string, name: string): string | null {
  if (!existsSync(dir)) return null;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    } else if (e === name) return p;
  }
  return null;
}

interface SerialLike {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(callback?: (error?: Error | null) => void): void;
}
export type SerialPortFactory = (path: string, baudRate: number) => SerialLike;

async function defaultSerialPort(path: string, baudRate: number): Promise<SerialLike> {
  const { SerialPort } = await import('serialport');
  return new SerialPort({ path, baudRate });
}

/** serialport's open error reads "Error: No such file or directory, cannot open /dev/x": keep the reason. */
function serialReason(e: Error, path: string): string {
  return e.message.replace(/^Error: /, '').replace(`, cannot open ${path}`, '');
}

/**
 * Reads a board's console until `HIL-END` or the timeout. `factory` lets tests use serialport's mock binding.
 * A port that cannot be opened rejects with a one-line error; an error later (board unplugged) ends the run as a failure.
 */
export async function runOnSerial(path: string, baud: number, timeoutMs: number, echo: (l: string) => void, factory?: SerialPortFactory): Promise<string[]> {
  const sp = factory ? factory(path, baud) : await defaultSerialPort(path, baud);
  return new Promise((resolvePromise, rejectPromise) => {
    const lines: string[] = [];
    let pending = '';
    let done = false;
    let opened = false;
    sp.on('error', (e: Error) => {
      if (done) return;
      if (!opened && lines.length === 0) {
        done = true;
        clearTimeout(timer);
        rejectPromise(new Error(`cannot open serial port ${path}: ${serialReason(e, path)}`));
        return;
      }
      lines.push(`not ok - (serial): ${serialReason(e, path)}`);
      finish();
    });
    (sp as unknown as { on(event: 'open', listener: () => void): unknown }).on('open', () => (opened = true));
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sp.close(() => resolvePromise(lines));
    };
    const timer = setTimeout(() => {
      lines.push(`not ok - (runner): timed out after ${timeoutMs} ms`);
      finish();
    }, timeoutMs);
    sp.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while (!done && (nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        lines.push(line);
        echo(line);
        if (XS_ABORT.test(line)) {
          lines.push(abortLine(line));
          finish();
        } else if (line.endsWith('HIL-END')) finish();
      }
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  let target = 'xs';
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let baud = 115200;
  let json = false;
  let quiet = false;
  const only: string[] = [];
  let command = 'run';
  let board: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--target') target = value();
    else if (a === '--suite') only.push(value());
    else if (a === '--board') board = value();
    else if (a === '--timeout-ms') timeoutMs = Number(value());
    else if (a === '--baud') baud = Number(value());
    else if (a === '--json') json = true;
    else if (a === '--quiet') quiet = true;
    else if (a === 'build' || a === 'run') command = a;
    else if (a === '--help' || a === '-h') {
      console.log('usage: hil [run|build] [--target xs|sim|serial:<port>] [--board esp32|esp32-nodemcu|pico_w] [--suite NAME]... [--timeout-ms N] [--baud B] [--json] [--quiet]');
      return 0;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(timeoutMs > 0)) throw new Error('--timeout-ms must be positive');
  if (target !== 'xs' && target !== 'sim' && !target.startsWith('serial:')) throw new Error(`unknown target ${target} (xs, sim or serial:<port>)`);
  const serialPath = target.startsWith('serial:') ? target.slice('serial:'.length) : null;
  if (serialPath === '') throw new Error('--target serial:<port> needs a port, e.g. serial:/dev/ttyUSB0');
  // Before the build (seconds): a device path that does not exist is a typo or an unplugged board.
  if (serialPath !== null && serialPath.startsWith('/') && !existsSync(serialPath)) throw new Error(`cannot open serial port ${serialPath}: no such device`);
  const repo = resolve('.');
  // Before the build: a board's heap sizes come from its own manifest.
  const creation = board === null ? SIMULATOR_CREATION : boardCreation(repo, board);
  if (command === 'build' && board === null) throw new Error(`hil build needs --board (${Object.keys(HIL_BOARDS).join(', ')}): the device tests get that board's heap sizes`);
  if (board !== null && command === 'run' && target === 'xs') throw new Error('--board sizes a Moddable build (--target sim, or hil build): the XS engine of --target xs has its own heap');
  // The simulator grows chunk and slot heaps as the manifest allows but has no static heap.
  if (board !== null && target === 'sim' && creation.static > 0)
    throw new Error(`--board ${board} uses one static heap of ${creation.static} bytes, which the simulator does not emulate: run it on the board (hil build --board ${board})`);
  const build = await buildDeviceTests(repo, join(repo, 'build', 'hil'), only.length ? only : undefined);
  // stderr, so that --json output stays one object.
  for (const s of build.skipped) console.error(`hil: suite ${s.suite} left out: ${s.reason}`);
  const echo = (l: string) => {
    if (!quiet && !json) console.log(l);
  };
  if (command === 'build') {
    const manifest = moddableManifest(build, join(repo, 'build', 'hil', board!), creation);
    console.log(`device tests: ${build.suites.length} suites, ${build.cases} cases, for ${board} (creation from boards/${board}/manifest.json)`);
    console.log(`XS script:    ${build.script}`);
    console.log(`manifest:     ${manifest}`);
    console.log(`flash with:   mcconfig -d -m -p ${HIL_BOARDS[board!]} ${manifest}, then: hil --target serial:/dev/ttyUSB0`);
    return 0;
  }
  let lines: string[];
  if (target === 'xs') lines = await runOnXs(build, timeoutMs, echo);
  else if (target === 'sim') lines = await runOnSim(build, repo, creation, timeoutMs, echo);
  else if (target.startsWith('serial:')) lines = await runOnSerial(target.slice('serial:'.length), baud, timeoutMs, echo);
  else throw new Error(`unknown target ${target} (xs, sim or serial:<port>)`);
  const report = parseTranscript(lines, build.cases, target);
  if (json) console.log(JSON.stringify(report));
  else {
    console.log(`\nhil ${target}: ${report.passed}/${report.expected} passed, ${report.failed} failed${report.finished ? '' : ' (run did not finish)'}`);
    for (const f of report.failures) console.log(`  FAILED ${f}`);
  }
  return report.ok ? 0 : 1;
}
