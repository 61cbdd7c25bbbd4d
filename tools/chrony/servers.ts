// Starts and stops real chrony NTP servers for tests and the bench.
//
// Each server is `chronyd -x -d` (serve time, never touch the system clock,
// stay in the foreground) on its own loopback address 127.0.0.N, port 12323,
// unprivileged (see ../shared/notes/platform-facts.md "Peers"). Variants:
//   honest         `local stratum 2`: serves the system clock as synchronised
//   shiftSeconds   run under `faketime -f +Ns`: a liar, N seconds off
//   unsynchronised no `local`: chrony answers LI=3, stratum 0
// Every server lives in a private temp dir; stop() kills by the PID in its
// pidfile (chronyd makes its own process group), waits for the exit, and
// removes the dir. A process exit hook kills stragglers if a test dies.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** chrony's port in the platform notes; tests pass their own (see randomChronyPort). */
export const CHRONY_PORT = 12323;
/** Ports for concurrent runs: below Linux's ephemeral range (32768+), above well-known services. */
const RANDOM_PORT_BASE = 20000;
const RANDOM_PORT_SPAN = 10000;

/** A random port so that two test runs on one machine (a team sharing it) do not collide. */
export function randomChronyPort(): number {
  return RANDOM_PORT_BASE + Math.floor(Math.random() * RANDOM_PORT_SPAN);
}
/** chrony can take a moment after start before it answers. */
export const READY_TIMEOUT_MS = 10_000;
const READY_PROBE_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 5_000;

export interface ChronyServerSpec {
  /** 127.0.0.N: one address per server. */
  address: string;
  /** UDP port (default CHRONY_PORT). */
  port?: number;
  /** Run under faketime, shifted by this many seconds (a liar). */
  shiftSeconds?: number;
  /** Serve LI=3 (no `local` directive). */
  unsynchronised?: boolean;
}

export interface ChronyServer extends Required<ChronyServerSpec> {
  port: number;
  dir: string;
  child: ChildProcess;
  log: () => string;
}

const CHRONYD_CANDIDATES = ['/usr/sbin/chronyd', '/sbin/chronyd', '/usr/bin/chronyd'];
const FAKETIME_CANDIDATES = ['/usr/bin/faketime', '/usr/local/bin/faketime'];

export function chronydPath(): string | null {
  for (const p of CHRONYD_CANDIDATES) if (existsSync(p)) return p;
  return null;
}

export function faketimePath(): string | null {
  for (const p of FAKETIME_CANDIDATES) if (existsSync(p)) return p;
  return null;
}

export function chronyVersion(): string {
  const p = chronydPath();
  if (!p) return 'none';
  const r = spawnSync(p, ['--version'], { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim().split('\n')[0] ?? 'unknown';
}

const live = new Set<ChronyServer>();
const exitHook = { installed: false };

function pidOf(server: ChronyServer): number | null {
  try {
    const pid = Number(readFileSync(join(server.dir, 'chronyd.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

function killNow(server: ChronyServer, signal: NodeJS.Signals): void {
  const pid = pidOf(server) ?? server.child.pid ?? null;
  if (pid === null) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHook.installed) return;
  exitHook.installed = true;
  process.on('exit', () => {
    for (const s of live) killNow(s, 'SIGKILL');
  });
}

function config(spec: ChronyServerSpec, dir: string): string {
  return [
    `port ${spec.port ?? CHRONY_PORT}`,
    `bindaddress ${spec.address}`,
    'allow 127.0.0.0/8',
    ...(spec.unsynchronised ? [] : ['local stratum 2']),
    'cmdport 0',
    'bindcmdaddress /',
    `pidfile ${join(dir, 'chronyd.pid')}`,
    `driftfile ${join(dir, 'chronyd.drift')}`,
    '',
  ].join('\n');
}

/** Sends one SNTP request and resolves true when any reply comes back within `timeoutMs`. */
function probe(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      try {
        s.close();
      } catch {
        // closed
      }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('error', () => {});
    s.on('message', () => finish(true));
    const req = new Uint8Array(48);
    req[0] = 0x23;
    req[47] = 1;
    s.send(req, port, address);
  });
}

export async function startChronyServer(spec: ChronyServerSpec): Promise<ChronyServer> {
  const chronyd = chronydPath();
  if (!chronyd) throw new Error('chronyd is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'chrony-'));
  chmodSync(dir, 0o777); // chronyd drops privileges and must still write its pid/drift files
  const conf = join(dir, 'chrony.conf');
  writeFileSync(conf, config(spec, dir));
  const args = ['-U', '-x', '-d', '-f', conf];
  let command = chronyd;
  let argv = args;
  if (spec.shiftSeconds) {
    const faketime = faketimePath();
    if (!faketime) throw new Error('faketime is not installed');
    command = faketime;
    argv = ['-f', `${spec.shiftSeconds >= 0 ? '+' : ''}${spec.shiftSeconds}s`, chronyd, ...args];
  }
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer): void => {
    if (output.length < 16_384) output += d.toString('utf8');
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const server: ChronyServer = {
    address: spec.address,
    shiftSeconds: spec.shiftSeconds ?? 0,
    unsynchronised: spec.unsynchronised ?? false,
    port: spec.port ?? CHRONY_PORT,
    dir,
    child,
    log: () => output,
  };
  live.add(server);
  installExitHook();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await probe(spec.address, server.port, READY_PROBE_INTERVAL_MS)) return server;
  }
  await stopChronyServer(server);
  throw new Error(`chronyd on ${spec.address} did not answer within ${READY_TIMEOUT_MS} ms: ${output.slice(0, 500)}`);
}

export async function stopChronyServer(server: ChronyServer): Promise<void> {
  if (!live.has(server)) return;
  const exited = server.child.exitCode !== null || server.child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  killNow(server, 'SIGTERM');
  const timer = setTimeout(() => killNow(server, 'SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
  live.delete(server);
  rmSync(server.dir, { recursive: true, force: true });
}

/** Starts all servers (in parallel); if one fails, stops the others and rethrows. */
export async function startChronyServers(specs: ChronyServerSpec[]): Promise<ChronyServer[]> {
  const results = await Promise.allSettled(specs.map((s) => startChronyServer(s)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await stopChronyServers(started);
    throw (failed as PromiseRejectedResult).reason;
  }
  return started;
}

export async function stopChronyServers(servers: ChronyServer[]): Promise<void> {
  await Promise.all(servers.map((s) => stopChronyServer(s)));
}
