// A chrony *client* instance (chronyd -x: measures, never steers the system
// clock) synchronised to given servers, read through `chronyc tracking` over
// a private unix socket. Used by the bench to put chrony's own error estimate
// next to ours for the same servers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chronydPath } from './servers.js';

/** Poll interval of the client: 2^-2 s, so that it converges within seconds. */
const CLIENT_POLL_LOG2 = -2;
export const CLIENT_SYNC_TIMEOUT_MS = 20_000;
const SYNC_CHECK_INTERVAL_MS = 200;
const STOP_TIMEOUT_MS = 5_000;

export interface Tracking {
  referenceId: string;
  /** "System time": offset of the local clock from NTP time, seconds (positive = fast). */
  systemTimeS: number;
  rootDelayS: number;
  rootDispersionS: number;
  leapStatus: string;
}

export interface ChronyClient {
  tracking(): Tracking | null;
  /** chrony's documented bound on clock error: |system time offset| + root dispersion + root delay / 2, in ms. */
  boundMs(t: Tracking): number;
  /** Resolves with ms from start until chrony selected a source, or rejects after CLIENT_SYNC_TIMEOUT_MS. */
  synced: Promise<number>;
  stop(): Promise<void>;
}

function chronycPath(): string {
  return chronydPath()!.replace(/chronyd$/, 'chronyc').replace('/sbin/', '/bin/');
}

function parseTracking(text: string): Tracking | null {
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim() : null;
  };
  const ref = field('Reference ID');
  const sys = field('System time');
  const delay = field('Root delay');
  const disp = field('Root dispersion');
  const leap = field('Leap status');
  if (!ref || !sys || !delay || !disp || !leap) return null;
  const sysValue = Number(sys.split(/\s+/)[0]);
  return {
    referenceId: ref,
    systemTimeS: /slow/.test(sys) ? -sysValue : sysValue,
    rootDelayS: Number(delay.split(/\s+/)[0]),
    rootDispersionS: Number(disp.split(/\s+/)[0]),
    leapStatus: leap,
  };
}

export function startChronyClient(servers: Array<{ address: string; port: number }>): ChronyClient {
  const chronyd = chronydPath();
  if (!chronyd) throw new Error('chronyd is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'chrony-client-'));
  chmodSync(dir, 0o755);
  const run = join(dir, 'run');
  mkdirSync(run, { mode: 0o750 });
  const socket = join(run, 'chronyd.sock');
  const conf = join(dir, 'chrony.conf');
  writeFileSync(
    conf,
    [
      ...servers.map((s) => `server ${s.address} port ${s.port} iburst minpoll ${CLIENT_POLL_LOG2} maxpoll ${CLIENT_POLL_LOG2}`),
      'port 0',
      'cmdport 0',
      `bindcmdaddress ${socket}`,
      `pidfile ${join(dir, 'chronyd.pid')}`,
      `driftfile ${join(dir, 'chronyd.drift')}`,
      '',
    ].join('\n'),
  );
  // As root, stay root (-u root) so the command socket's directory checks pass; otherwise run as ourselves.
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const child: ChildProcess = spawn(chronyd, ['-x', '-d', '-f', conf, ...(asRoot ? ['-u', 'root'] : ['-U'])], { stdio: 'ignore' });
  const started = Date.now();
  const tracking = (): Tracking | null => {
    const r = spawnSync(chronycPath(), ['-h', socket, 'tracking'], { encoding: 'utf8', timeout: 2000 });
    return r.status === 0 ? parseTracking(r.stdout) : null;
  };
  const synced = new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const t = tracking();
      if (t && t.leapStatus === 'Normal' && !/^0+\b/.test(t.referenceId)) resolve(Date.now() - started);
      else if (Date.now() - started > CLIENT_SYNC_TIMEOUT_MS || child.exitCode !== null) reject(new Error('chrony client did not synchronise'));
      else setTimeout(check, SYNC_CHECK_INTERVAL_MS);
    };
    setTimeout(check, SYNC_CHECK_INTERVAL_MS);
  });
  synced.catch(() => {});
  const stop = async (): Promise<void> => {
    const exited = child.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
    let pid: number | undefined = child.pid;
    try {
      pid = Number(readFileSync(join(dir, 'chronyd.pid'), 'utf8').trim()) || pid;
    } catch {
      // not written yet: the child itself is chronyd
    }
    const kill = (signal: NodeJS.Signals): void => {
      try {
        if (pid) process.kill(pid, signal);
      } catch {
        // gone
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    tracking,
    boundMs: (t) => (Math.abs(t.systemTimeS) + t.rootDispersionS + t.rootDelayS / 2) * 1000,
    synced,
    stop,
  };
}
