// A small driver for the XS engine that @agoric/xsnap builds (xsnap-worker).
//
// Protocol (xsnap-worker.c): netstrings on fd 3 (to XS) and fd 4 (from XS).
// To XS: `e<code>` evaluates a script, `s<path>` runs a script file,
// `?<bytes>` calls globalThis.handleCommand, `/<bytes>` answers an
// issueCommand. From XS: `.<meter json>\x01<reply>` success, `!<text>` an
// exception, `?<bytes>` an issueCommand from inside the engine (XS blocks
// until we answer with `/`). We do not use the package's own driver because
// it needs SES lockdown of the Node process.
//
// Failure rule: the engine can report success although something inside it
// threw (a rejected promise, a module error). Callers must therefore require
// a positive "done" report from the code they run; this driver only turns
// `!` replies and unexpected exits into exceptions.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export interface MeterReport {
  /** Computrons used by the last crank (about one per bytecode). */
  compute: number;
  allocate: number | null;
  currentHeapCount: number | null;
}

export interface RunResult {
  reply: Uint8Array;
  meter: MeterReport;
}

export type CommandHandler = (message: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface XsWorkerOptions {
  /** Answers issueCommand() calls made inside XS. */
  onCommand?: CommandHandler;
  /** Receives what XS print()s, line by line. Default: discarded unless XS_VERBOSE is set. */
  onPrint?: (line: string) => void;
}

export function xsWorkerPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@agoric/xsnap/package.json'));
  return join(pkg, 'xsnap-native', 'xsnap', 'build', 'bin', 'lin', 'release', 'xsnap-worker');
}

export class XsEngineError extends Error {
  override name = 'XsEngineError';
}

const COLON = 0x3a;
const COMMA = 0x2c;

export class XsWorker {
  private readonly child: ChildProcess;
  private readonly toXs: Writable;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly messages: Buffer[] = [];
  private waiter: (() => void) | null = null;
  private exited: Error | null = null;
  /** The process is gone (its exit event came): nothing to stop in close(). */
  private dead = false;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly onCommand: CommandHandler;

  constructor(options: XsWorkerOptions = {}) {
    const bin = xsWorkerPath();
    if (!existsSync(bin)) {
      throw new XsEngineError(`XS engine not built at ${bin}: run \`npm ci\` (tools/xs/ensure-engine.js builds it)`);
    }
    this.onCommand = options.onCommand ?? (() => new Uint8Array(0));
    // No `-l`: the worker's meter limit defaults to none, so long runs are not killed.
    // Own process group: a terminal's Ctrl-C (SIGINT to the foreground group)
    // must not kill the engine under its owner, who still needs it to stop in
    // order (see close()). If the owner dies, fd 3 reaches EOF and the engine exits.
    this.child = spawn(bin, ['xsnap-worker'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const stdio = this.child.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    // A pipe error (ECONNRESET, EPIPE: the engine went away) is the engine's
    // failure, reported to whoever waits on it; never an unhandled 'error' event.
    for (const [fd, stream] of stdio.entries()) {
      stream?.on('error', (e: Error) => {
        this.exited ??= new XsEngineError(`XS engine pipe ${fd} failed: ${e.message}`);
        this.wake();
      });
    }
    this.toXs = stdio[3];
    const onPrint = options.onPrint ?? (process.env.XS_VERBOSE ? (l: string) => process.stderr.write(`[xs] ${l}\n`) : () => {});
    let pending = '';
    stdio[1].setEncoding('utf8');
    stdio[1].on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onPrint(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    stdio[2].on('data', (chunk: Buffer) => process.stderr.write(chunk));
    stdio[4].on('data', (chunk: Buffer) => this.absorb(chunk));
    this.child.on('exit', (code, signal) => {
      this.dead = true;
      this.exited = new XsEngineError(`XS engine exited (code ${code}, signal ${signal})`);
      this.wake();
    });
    this.child.on('error', (e) => {
      this.exited = new XsEngineError(`XS engine failed to start: ${e.message}`);
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  private absorb(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      const colon = this.buffered.indexOf(COLON);
      if (colon < 0) break;
      const length = Number(this.buffered.subarray(0, colon).toString('latin1'));
      if (!Number.isSafeInteger(length)) throw new XsEngineError('bad netstring from XS');
      const end = colon + 1 + length;
      if (this.buffered.length < end + 1) break;
      if (this.buffered[end] !== COMMA) throw new XsEngineError('bad netstring terminator from XS');
      this.messages.push(this.buffered.subarray(colon + 1, end));
      this.buffered = this.buffered.subarray(end + 1);
    }
    if (this.messages.length) this.wake();
  }

  private async next(): Promise<Buffer> {
    for (;;) {
      const m = this.messages.shift();
      if (m) return m;
      if (this.exited) throw this.exited;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private send(prefix: string, body: Uint8Array | string): void {
    if (this.exited) throw this.exited;
    const payload = Buffer.concat([Buffer.from(prefix, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body)]);
    this.toXs.write(Buffer.concat([Buffer.from(`${payload.length}:`, 'latin1'), payload, Buffer.from(',', 'latin1')]));
  }

  /** Reads replies until the crank ends, answering the engine's issueCommand calls on the way. */
  private async runToIdle(): Promise<RunResult> {
    for (;;) {
      const message = await this.next();
      const kind = message[0];
      if (kind === 0x3f /* ? */) {
        const answer = await this.onCommand(new Uint8Array(message.subarray(1)));
        this.send('/', answer);
        continue;
      }
      if (kind === 0x2e /* . */) {
        const sep = message.indexOf(1, 1);
        let meter: MeterReport = { compute: 0, allocate: null, currentHeapCount: null };
        if (sep >= 0) {
          const info = JSON.parse(message.subarray(1, sep).toString('utf8')) as Partial<MeterReport>;
          meter = { compute: (info.compute ?? 0) >>> 0, allocate: info.allocate ?? null, currentHeapCount: info.currentHeapCount ?? null };
        }
        return { reply: new Uint8Array(message.subarray(sep < 0 ? 1 : sep + 1)), meter };
      }
      if (kind === 0x21 /* ! */) {
        throw new XsEngineError(`exception in XS: ${message.subarray(1).toString('utf8')}`);
      }
      throw new XsEngineError(`unexpected message from XS: ${JSON.stringify(message.subarray(0, 40).toString('latin1'))}`);
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.busy.then(work, work);
    this.busy = result.catch(() => undefined);
    return result;
  }

  /** Evaluates a script (global scope) and runs promise jobs until idle. */
  evaluate(code: string): Promise<RunResult> {
    return this.serial(() => {
      this.send('e', code);
      return this.runToIdle();
    });
  }

  /** Calls globalThis.handleCommand(ArrayBuffer) inside XS; its ArrayBuffer result is the reply. */
  command(message: Uint8Array): Promise<RunResult> {
    return this.serial(() => {
      this.send('?', message);
      return this.runToIdle();
    });
  }

  async close(): Promise<void> {
    if (this.dead || this.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.toXs.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}
