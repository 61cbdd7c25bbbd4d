// Peer oracle: botocore, driven as ONE long-lived python process
// (tools/sigv4/oracle-botocore.py) fed JSON lines, so that signing hundreds of
// requests does not pay a python start-up (~150 ms) each. See the .py file for
// what the wrapper adjusts and which botocore behaviours callers must avoid.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OracleRefusal, type OracleRequest, type OracleResult } from './oracle-request.js';

/** Debian's interpreter, which has python3-botocore installed. */
export const BOTOCORE_PYTHON = '/usr/bin/python3';
/**
 * Hang guard: a request not answered within this means the helper is stuck.
 * Generous (python start-up plus botocore import on a loaded machine is the
 * first request's wait); never a speed requirement.
 */
export const BOTOCORE_REPLY_TIMEOUT_MS = 60_000;
/** Requests in flight at once (each is one line in the pipe). */
export const BOTOCORE_MAX_IN_FLIGHT = 64;

/** tools/sigv4/oracle-botocore.py, from either the source tree or dist/tools/sigv4. */
export function botocoreScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'oracle-botocore.py'), join(here, '..', '..', '..', 'tools', 'sigv4', 'oracle-botocore.py')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`oracle-botocore.py not found (looked in ${candidates.join(', ')})`);
}

interface Pending {
  id: number;
  resolve(result: OracleResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Answer {
  id: number;
  error?: string;
  signature?: string;
  path?: string;
  headers?: Array<[string, string]>;
  canonicalRequest?: string;
  stringToSign?: string;
}

export class BotocoreOracle {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private nextId = 1;
  private buffered = '';
  private stderr = '';
  private dead: Error | null = null;

  constructor() {
    this.child = spawn(BOTOCORE_PYTHON, [botocoreScriptPath()], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.absorb(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      if (this.stderr.length < 4096) this.stderr += chunk;
    });
    this.child.on('error', (e) => this.fail(new Error(`botocore oracle failed to start: ${e.message}`)));
    this.child.on('exit', (code, signal) => this.fail(new Error(`botocore oracle exited (code ${code}, signal ${signal}) ${this.stderr.trim()}`)));
  }

  private fail(error: Error): void {
    if (!this.dead) this.dead = error;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private absorb(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const answer = JSON.parse(line) as Answer;
      const p = this.pending.shift();
      if (!p || p.id !== answer.id) {
        this.fail(new Error(`botocore oracle answered out of order (${answer.id})`));
        return;
      }
      clearTimeout(p.timer);
      if (answer.error !== undefined) p.reject(new OracleRefusal('botocore', answer.error));
      else
        p.resolve({
          signature: answer.signature!,
          path: answer.path!,
          headers: answer.headers!,
          canonicalRequest: answer.canonicalRequest ?? null,
          stringToSign: answer.stringToSign ?? null,
        });
    }
  }

  sign(r: OracleRequest): Promise<OracleResult> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending.length >= BOTOCORE_MAX_IN_FLIGHT) return Promise.reject(new Error(`more than ${BOTOCORE_MAX_IN_FLIGHT} botocore requests in flight`));
    const id = this.nextId++;
    return new Promise<OracleResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`botocore oracle did not answer request ${id} within ${BOTOCORE_REPLY_TIMEOUT_MS} ms`));
        this.child.kill('SIGKILL');
      }, BOTOCORE_REPLY_TIMEOUT_MS);
      this.pending.push({ id, resolve, reject, timer });
      const wire = { ...r, body: Buffer.from(r.body).toString('base64'), id };
      this.child.stdin.write(`${JSON.stringify(wire)}\n`);
    });
  }

  /** Ends the helper (closing stdin ends its read loop); kills it if it does not go. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}
