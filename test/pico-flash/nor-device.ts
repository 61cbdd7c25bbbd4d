// Node side of test/pico-flash/nor-harness.c: builds it with cc, starts it,
// and talks to it synchronously over two FIFOs (blocking reads), so that a
// FlashPort (the board's RawFlash) can sit on the board's C region code.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PowerCut } from '../../src/telemetry/errors.js';
import type { RawFlashDevice } from '../../src/platform/moddable/flash/raw.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const POWER = 100;

/** Why the harness cannot be built here, or false. */
export function harnessMissing(): string | false {
  if (spawnSync('sh', ['-c', 'command -v cc && command -v mkfifo'], { stdio: 'ignore' }).status !== 0) return 'no C compiler (cc) or mkfifo';
  return false;
}

/** Compiles the harness with the board's agent-flash.c; returns the binary's path. */
export function buildHarness(outDir: string): string {
  const src = join(repo, 'src', 'platform', 'moddable', 'flash', 'pico');
  const bin = join(outDir, 'nor-harness');
  const r = spawnSync('cc', ['-O2', '-Wall', '-Werror', '-I', src, '-o', bin, join(repo, 'test', 'pico-flash', 'nor-harness.c'), join(src, 'agent-flash.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed:\n${r.stderr}`);
  return bin;
}

export class NorHarness {
  private readonly child: ChildProcess;
  private readonly dir: string;
  private readonly req: number;
  private readonly rep: number;
  private readonly header = Buffer.alloc(17);
  constructor(binary: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'pico-nor-'));
    const reqPath = join(this.dir, 'req');
    const repPath = join(this.dir, 'rep');
    for (const p of [reqPath, repPath]) if (spawnSync('mkfifo', [p]).status !== 0) throw new Error('mkfifo failed');
    this.child = spawn(binary, [reqPath, repPath], { stdio: ['ignore', 'ignore', 'inherit'] });
    // Same order as the child opens them, or both block.
    this.req = openSync(reqPath, 'w');
    this.rep = openSync(repPath, 'r');
  }
  call(op: string, id: number, a = 0, b = 0, c = 0, payload?: Uint8Array): { status: number; data: Buffer } {
    const h = this.header;
    h[0] = op.charCodeAt(0);
    h.writeUInt32LE(id >>> 0, 1);
    h.writeUInt32LE(a >>> 0, 5);
    h.writeUInt32LE(b >>> 0, 9);
    h.writeUInt32LE(c >>> 0, 13);
    writeSync(this.req, h);
    if (payload && payload.length > 0) writeSync(this.req, payload);
    const head = this.readExactly(5);
    const length = head.readUInt32LE(1);
    return { status: head[0]!, data: length > 0 ? this.readExactly(length) : Buffer.alloc(0) };
  }
  private readExactly(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let got = 0; got < n; ) {
      const k = readSync(this.rep, b, got, n - got, null);
      if (k <= 0) throw new Error('nor-harness exited');
      got += k;
    }
    return b;
  }
  chip(sectorSize: number, sectors: number, pageSize: number): NorChip {
    const r = this.call('N', 0, sectorSize, sectors, pageSize);
    return new NorChip(this, r.data.readUInt32LE(0), sectorSize, sectors);
  }
  close(): void {
    closeSync(this.req);
    closeSync(this.rep);
    this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One simulated chip: the RawFlashDevice the board's RawFlash uses, plus the test's power switch and faults. */
export class NorChip implements RawFlashDevice {
  readonly byteLength: number;
  constructor(
    private readonly h: NorHarness,
    private readonly id: number,
    readonly sectorSize: number,
    sectors: number,
  ) {
    this.byteLength = sectorSize * sectors;
  }
  private op(r: { status: number }): number {
    if (r.status === POWER) throw new PowerCut('power cut');
    return r.status;
  }
  erase(block: number): number {
    return this.op(this.h.call('E', this.id, block));
  }
  read(offset: number, into: Uint8Array, start: number, length: number): number {
    const r = this.h.call('R', this.id, offset, length);
    const status = this.op(r);
    if (status === 0) into.set(r.data, start);
    return status;
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): number {
    return this.op(this.h.call('W', this.id, offset, length, 0, bytes.subarray(start, start + length)));
  }
  cutPowerAfter(units: number): void {
    this.h.call('C', this.id, units);
  }
  powerOn(): void {
    this.h.call('P', this.id);
  }
  stats(): { bytesWritten: number; blocksErased: number } {
    const d = this.h.call('S', this.id).data;
    return { bytesWritten: d.readUInt32LE(0), blocksErased: d.readUInt32LE(4) };
  }
  image(): Uint8Array {
    return new Uint8Array(this.h.call('G', this.id).data);
  }
  load(image: Uint8Array): void {
    if (this.h.call('L', this.id, 0, image.length, 0, image).status !== 0) throw new Error('load failed');
  }
  /** The byte at `offset` stays 1s whatever is programmed (a worn cell). */
  stuckAt1(offset: number): void {
    this.h.call('F', this.id, offset);
  }
  /** The driver reports failure on every erase and program. */
  driverFails(on: boolean): void {
    this.h.call('H', this.id, on ? 1 : 0);
  }
  dispose(): void {
    this.h.call('X', this.id);
  }
}
