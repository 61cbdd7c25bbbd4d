// Helpers that use an installed Moddable SDK (found through $MODDABLE) to
// build this project's firmware with mcconfig and to run the Linux simulator
// headless. Nothing here builds or installs the SDK itself: see docs/boards.md
// for that.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Upper bound for one mcconfig build (a cold lin build takes ~2-6 min on 2 shared cores). */
export const MCCONFIG_TIMEOUT_MS = 15 * 60 * 1000;
/** Upper bound for a simulator run waiting for its verdict line. */
export const SIMULATOR_TIMEOUT_MS = 60 * 1000;
/** How often runSimulator's `poll` is asked. */
export const POLL_MS = 250;
/** Most simulator output kept (the rest is dropped, the verdict is searched as it arrives). */
export const SIMULATOR_MAX_OUTPUT_CHARS = 256 * 1024;

export interface Sdk {
  /** $MODDABLE */
  root: string;
  /** $MODDABLE/build/bin/lin/release: mcconfig, xsc, mcsim. */
  binDir: string;
}

/** The SDK named by $MODDABLE, or a sentence saying why there is none usable. */
export function findSdk(env: NodeJS.ProcessEnv = process.env): Sdk | string {
  const root = env.MODDABLE;
  if (!root) return 'MODDABLE is not set (no Moddable SDK installed)';
  const binDir = join(root, 'build', 'bin', 'lin', 'release');
  if (!existsSync(join(binDir, 'mcconfig'))) return `no mcconfig in ${binDir}: build the SDK's Linux tools first`;
  return { root: resolve(root), binDir };
}

/** Debian's libfaketime (package libfaketime, pulled in by faketime). */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface BuildOptions {
  sdk: Sdk;
  /** Repository root (holds manifest.json). */
  project: string;
  /** The manifest to build (default: the firmware, <project>/manifest.json). */
  manifest?: string;
  /** mcconfig -p value: lin, esp32, esp32/nodemcu, pico/pico_w, ... */
  platform: string;
  /** mcconfig -o: where build/tmp and build/bin go (keep it outside the repo). */
  outputDir: string;
  /** mc/config overrides, passed as name=value. */
  config?: Record<string, string>;
  /** Extra environment, e.g. PROVISIONING (the directory of provisioning resources). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** mcconfig -i: an instrumented build (the SDK's Instrumentation reports slots, chunks and stack). */
  instrument?: boolean;
}

export interface BuildResult {
  ok: boolean;
  status: number | null;
  output: string;
  /** The simulator library for lin builds, when it exists. */
  simulatorLibrary: string | null;
}

/** Where mcconfig puts the lin simulator library: bin/lin/mc/<release|instrument>/<manifest folder name>/mc.so. */
export function simulatorLibraryPath(outputDir: string, manifest: string, instrument = false): string {
  return join(outputDir, 'bin', 'lin', 'mc', instrument ? 'instrument' : 'release', basename(dirname(resolve(manifest))), 'mc.so');
}

/** Runs `mcconfig -m -t build` (build only, never launches or kills anything). */
export function buildFirmware(options: BuildOptions): Promise<BuildResult> {
  const { sdk, project, platform, outputDir } = options;
  const manifest = resolve(options.manifest ?? join(project, 'manifest.json'));
  const args = ['-m', ...(options.instrument ? ['-i'] : []), '-p', platform, '-t', 'build', '-o', outputDir, manifest];
  for (const [k, v] of Object.entries(options.config ?? {})) args.push(`${k}=${v}`);
  const env = {
    ...process.env,
    ...options.env,
    MODDABLE: sdk.root,
    // mcconfig finds xsc etc. on PATH, and tsc for the project's .ts modules.
    PATH: `${sdk.binDir}:${join(project, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
  };
  return new Promise((done) => {
    const child = spawn(join(sdk.binDir, 'mcconfig'), args, { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-SIMULATOR_MAX_OUTPUT_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? MCCONFIG_TIMEOUT_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      // mcconfig names the build after the manifest's folder (whatever the checkout is called).
      const library = simulatorLibraryPath(outputDir, manifest, options.instrument === true);
      const ok = status === 0 && !/### Error/.test(output);
      done({ ok, status, output, simulatorLibrary: platform === 'lin' && existsSync(library) ? library : null });
    });
  });
}

export interface SimulatorRun {
  /** The verdict line that ended the run, or null on timeout / early exit. */
  verdict: string | null;
  output: string;
}

/**
 * Runs the lin simulator (mcsim) on `library` under `xvfb-run -a` with stdout
 * line-buffered (stdbuf), until a line matches `verdict` or the time is up;
 * the simulator and its X server are always stopped.
 */
export function runSimulator(
  sdk: Sdk,
  library: string,
  verdict: RegExp,
  timeoutMs = SIMULATOR_TIMEOUT_MS,
  /** Checked every POLL_MS: a non-null answer ends the run as its verdict (e.g. the dev cloud got a message). */
  poll?: () => string | null,
  /** Extra environment for the simulator (e.g. libfaketime's). */
  env?: Record<string, string>,
): Promise<SimulatorRun> {
  const mcsim = join(sdk.binDir, 'mcsim');
  return new Promise((done) => {
    // detached: xvfb-run, Xvfb and mcsim share a new process group we can stop as one.
    const child = spawn('xvfb-run', ['-a', 'stdbuf', '-oL', '-eL', mcsim, library], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
    let output = '';
    let result: string | null = null;
    let finished = false;
    const stop = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (poller) clearInterval(poller);
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      done({ verdict: result, output });
    };
    const take = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-SIMULATOR_MAX_OUTPUT_CHARS);
      const match = verdict.exec(output);
      if (match && result === null) {
        result = match[0];
        stop();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(stop, timeoutMs);
    const poller = poll
      ? setInterval(() => {
          const answer = poll();
          if (answer !== null && result === null) {
            result = answer;
            stop();
          }
        }, POLL_MS)
      : null;
    // An exit we did not cause (a crash: mcsim segfaults, XS aborts) ends the run with that verdict.
    child.on('close', (code, signal) => {
      if (!finished && result === null) result = `simulator exited (${signal ?? `status ${code}`})`;
      stop();
    });
  });
}
