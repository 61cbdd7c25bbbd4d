// Node side of the virtual device: runs a firmware bundle inside the XS
// engine and gives it real I/O. Every port call from XS (src/platform/xs/)
// arrives here as a frame; events (timers, datagrams, HTTP responses,
// WebSocket messages) go back into XS through handleCommand.
import { createSocket, type Socket } from 'node:dgram';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest } from 'node:http';
import { isIP } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { XsWorker } from '../xs/worker.js';
import { decodeFrame, encodeFrame } from '../../src/platform/xs/bridge.js';
import { FileFlash } from '../../src/platform/node/flash-file.js';
import { migrateAgentFlash } from '../../src/agent/flash-region.js';
import { DEFAULT_SECURITY_BLOCKS } from '../../src/agent/config.js';
import { FirmwareSlots, type BootState, type SlotImage } from '../../src/update/slots.js';

/** The firmware asked for the firmware flash of a host that has none (xsFirmware() then gives no port). */
class NoFirmwareFlash extends Error {
  readonly code = 'NO_FIRMWARE_FLASH';
  constructor() {
    super('this virtual device has no firmware flash');
  }
}

export interface VirtualDeviceOptions {
  /** Factory firmware bundle (IIFE), e.g. build/xs/vdevice.js: what boots while no slot holds an image. */
  bundle: string;
  /** JSON-serialisable configuration handed to the firmware (`config` op). */
  config: Record<string, unknown>;
  /** TLS material for every HTTPS / WSS connection the device makes. */
  tls: { ca: string; cert?: string; key?: string };
  /** File that plays the flash chip (created erased when missing). */
  flashFile: string;
  flashBlockSize: number;
  flashBlockCount: number;
  /**
   * File that plays the firmware flash: FirmwareSlots (src/update/slots.ts),
   * created erased (factory state) when missing. Without it the bundle always
   * boots and the firmware gets no FirmwarePort.
   */
  firmwareFile?: string;
  /** Default DEFAULT_FIRMWARE_BLOCK_SIZE. */
  firmwareBlockSize?: number;
  /** Default DEFAULT_FIRMWARE_BLOCK_COUNT. */
  firmwareBlockCount?: number;
  /** Small settings (trusted time floor, ...) as a JSON file. */
  kvFile: string;
  /** Initial raw tick value; start near 2^32 to make every run cross the 32-bit wrap. */
  tickStart?: number;
  onLog?: (line: string) => void;
  /** Structured status the firmware reports (`status` op). */
  onStatus?: (status: Record<string, unknown>) => void;
  /** Called after every boot attempt, failed ones included. */
  onBoot?: (boot: BootRecord) => void;
}

/** One boot attempt, as the host (the board's bootloader) saw it. */
export interface BootRecord {
  /** 1 for the first boot of this VirtualDevice, counting every attempt. */
  count: number;
  /** 'power-on' (start()), 'reboot' (the firmware's reboot op), 'failed-boot' (the previous attempt raised). */
  cause: 'power-on' | 'reboot' | 'failed-boot';
  /** FirmwareSlots' decision (after a refused image was reverted); null without a firmware file. */
  state: BootState | null;
  /** What was evaluated: the factory bundle file or the image of `state.slot`. */
  source: 'factory' | 'slot';
  /** The image the bootloader would not run (bytes do not match the boot record), or null. */
  refused: SlotImage | null;
  /** Why the boot failed (the firmware raised while it was evaluated, or nothing was bootable); null: it runs. */
  error: string | null;
}

/** A write to something that survives a reset, as the host sees it (for powerCutAt). */
export interface PersistentWrite {
  /** 'flash': the agent's queue flash, 'fw': the firmware flash (A/B slots), 'kv': the settings. */
  chip: 'flash' | 'fw' | 'kv';
  op: 'write' | 'erase' | 'set';
  /** Byte offset of a write or of the erased block; 0 for kv. */
  offset: number;
  /** Bytes written or erased; the value's length for kv. */
  length: number;
  /** The kv key, or null. */
  key: string | null;
  /** The kv value, or null. */
  value: string | null;
}

/** 4 KiB: the erase block of the boards' flash. */
export const DEFAULT_FIRMWARE_BLOCK_SIZE = 4096;
/** 1 MiB per slot: today's vdevice bundle is about 370 KB, so an image can almost triple. */
export const DEFAULT_FIRMWARE_SLOT_BLOCKS = 256;
export const DEFAULT_FIRMWARE_BLOCK_COUNT = FirmwareSlots.CONTROL_BLOCKS + 2 * DEFAULT_FIRMWARE_SLOT_BLOCKS;
/** Failed boots in a row after which the host gives up (a board would sit in its boot loop). */
export const MAX_BOOT_ATTEMPTS = 3;
/** Boot records kept in `boots` (oldest dropped first). */
export const MAX_BOOT_HISTORY = 64;

type Head = Record<string, unknown>;

/** Largest HTTP answer body the host holds for the firmware (a board's receive buffer). */
export const MAX_HTTP_RESPONSE_BYTES = 256 * 1024;
/** `code` of the port error for an answer over MAX_HTTP_RESPONSE_BYTES (src/ports.ts HttpPort). */
const HTTP_TOO_LARGE_CODE = 'too-large';

/**
 * A file as NOR flash for the firmware's ops: erase sets a block to 0xFF, a
 * write ANDs its bytes into the old ones (real NOR can only clear bits).
 * Accesses outside the chip are refused.
 */
class NorFile {
  readonly fd: number;
  constructor(
    path: string,
    readonly blockSize: number,
    readonly blockCount: number,
  ) {
    this.fd = openSync(path, 'r+');
  }
  read(offset: number, length: number): Buffer {
    this.range(offset, length);
    const out = Buffer.alloc(length);
    readSync(this.fd, out, 0, length, offset);
    return out;
  }
  write(offset: number, bytes: Uint8Array): void {
    const old = this.read(offset, bytes.length);
    for (let i = 0; i < old.length; i++) old[i] = old[i]! & bytes[i]!;
    writeSync(this.fd, old, 0, old.length, offset);
  }
  erase(block: number): void {
    if (!(Number.isInteger(block) && block >= 0 && block < this.blockCount)) throw new RangeError(`erase: no block ${block}`);
    writeSync(this.fd, Buffer.alloc(this.blockSize, 0xff), 0, this.blockSize, block * this.blockSize);
  }
  /** An erase cut short: only the first `bytes` of the block became 0xFF. */
  eraseTorn(block: number, bytes: number): void {
    if (!(Number.isInteger(block) && block >= 0 && block < this.blockCount)) throw new RangeError(`erase: no block ${block}`);
    writeSync(this.fd, Buffer.alloc(Math.min(bytes, this.blockSize), 0xff), 0, Math.min(bytes, this.blockSize), block * this.blockSize);
  }
  close(): void {
    closeSync(this.fd);
  }
  private range(offset: number, length: number): void {
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.blockSize * this.blockCount)) {
      throw new RangeError(`flash access out of range: ${offset}+${length}`);
    }
  }
}

/** What one boot of the XS engine owns; all of it goes at a reset. */
class Engine {
  readonly timers = new Map<number, NodeJS.Timeout>();
  readonly udp = new Map<number, Socket>();
  readonly sockets = new Map<number, WebSocket>();
  readonly http = new Map<number, ClientRequest>();
  /** Being torn down: no more events are delivered to it. */
  halted = false;
  /** Power cut: its ops no longer reach anything (flash writes included). */
  dead = false;
  /** Its image is being evaluated (powerCutAt() picks no write of this phase). */
  booting = true;
  /** The firmware called reboot: the reset happens when the current crank ends. */
  rebootRequested = false;
  /** Event delivery is serialised: XS runs one crank at a time. */
  delivering: Promise<unknown> = Promise.resolve();
  constructor(readonly worker: XsWorker) {}
}

export class VirtualDevice {
  private engine: Engine | null = null;
  private readonly flash: NorFile;
  private readonly firmwareFlash: NorFile | null = null;
  /** The bootloader's view of the firmware flash (the same file). */
  private readonly firmwareFile: FileFlash | null = null;
  private kv: Record<string, string> = {};
  private readonly tickBase: number;
  /** Host time of the firmware's first tick read: the raw counter starts at `tickStart` then. */
  private t0 = -1;
  /** Added to the raw counter: a test makes the board's tick counter jump (backwards = a disruption). */
  private tickShift = 0;
  private stopped = false;
  /** An armed powerCutAt(): asked about every persistent write. */
  private cutAt: { when: (w: PersistentWrite) => boolean; done: (w: PersistentWrite) => void } | null = null;
  private failure: Error | null = null;
  /** A reset in progress (teardown, then boot). */
  private transition: Promise<unknown> = Promise.resolve();
  private readonly bootWaiters: Array<{ after: number; resolve: (b: BootRecord) => void; reject: (e: Error) => void }> = [];
  /** Computrons the firmware used so far, over every boot (every crank: boot, events, commands). */
  computrons = 0;
  /** XS heap slots in use after the last crank of the current boot, as the engine reports it. */
  heapSlots: number | null = null;
  /** Boot attempts so far. */
  bootCount = 0;
  /** Geometry of the firmware flash, or null without one. */
  readonly firmwareBlockSize: number | null = null;
  readonly firmwareBlockCount: number | null = null;
  /** The last MAX_BOOT_HISTORY boot attempts, oldest first. */
  readonly boots: BootRecord[] = [];

  constructor(private readonly options: VirtualDeviceOptions) {
    this.prepareFlash();
    this.flash = new NorFile(options.flashFile, options.flashBlockSize, options.flashBlockCount);
    if (options.firmwareFile !== undefined) {
      const blockSize = options.firmwareBlockSize ?? DEFAULT_FIRMWARE_BLOCK_SIZE;
      const blockCount = options.firmwareBlockCount ?? DEFAULT_FIRMWARE_BLOCK_COUNT;
      const file = new FileFlash({ path: options.firmwareFile, blockSize, blockCount, sync: true });
      if (file.geometryChange !== null) {
        // Slots of another size are another partition table: never cut or reinterpreted.
        file.close();
        this.flash.close();
        throw new Error(`firmware flash ${options.firmwareFile} holds ${file.geometryChange.from.blockCount} blocks, configured ${blockCount}: left untouched`);
      }
      this.firmwareFile = file;
      this.firmwareBlockSize = blockSize;
      this.firmwareBlockCount = blockCount;
      this.firmwareFlash = new NorFile(options.firmwareFile, blockSize, blockCount);
    }
    this.tickBase = options.tickStart ?? 0;
  }

  /**
   * Creates the flash image when missing. An image of another size (the
   * options changed flashBlockCount) is never cut or deleted: the agent's two
   * queues are migrated into the new geometry (the old image is replaced only
   * once the copy is complete and synced), as the firmware does on a board.
   */
  private prepareFlash(): void {
    const o = this.options;
    const flash = new FileFlash({ path: o.flashFile, blockSize: o.flashBlockSize, blockCount: o.flashBlockCount, sync: true });
    try {
      const change = flash.geometryChange;
      if (change !== null) {
        const raw = o.config.securityBlocks;
        const securityBlocks = typeof raw === 'number' ? raw : DEFAULT_SECURITY_BLOCKS;
        const moved = migrateAgentFlash(change.from, change.to, securityBlocks);
        change.commit();
        o.onLog?.(`[host] flash image ${change.from.blockCount} -> ${o.flashBlockCount} blocks: ${moved.map((m) => `${m.queue} ${m.live} live, ${m.dropped} dropped, next seq ${m.nextSeq}`).join('; ')}`);
      }
    } finally {
      flash.close();
    }
  }

  /**
   * Powers the device on: boots the firmware of the active slot (or the
   * factory bundle), which installs handleCommand and starts its own timers.
   * A boot that raises is retried (FirmwareSlots reverts a trial that did not
   * come up); after MAX_BOOT_ATTEMPTS failures in a row this rejects.
   * Called again after powerCut(), it powers the device back on.
   */
  async start(): Promise<void> {
    if (this.stopped) throw new Error('VirtualDevice: stopped');
    await this.transition.catch(() => undefined);
    if (this.engine !== null) throw new Error('VirtualDevice: already running');
    const boot = this.bootChain('power-on');
    this.transition = boot;
    await boot;
  }

  /** What FirmwareSlots decided at the last boot; null without a firmware file or before the first boot. */
  get bootState(): BootState | null {
    return this.boots.length ? this.boots[this.boots.length - 1]!.state : null;
  }

  /** The first exception the firmware raised while handling an event (or the last boot loop's), if any. */
  get error(): Error | null {
    return this.failure;
  }

  /** True while an engine runs the firmware. */
  get running(): boolean {
    return this.engine !== null && !this.engine.halted;
  }

  /**
   * Resolves at the first boot that comes up (does not raise) with a count
   * above `after` (default: the boots so far); rejects when the device gives
   * up booting or is stopped first.
   */
  rebooted(after = this.bootCount): Promise<BootRecord> {
    const done = this.boots.find((b) => b.count > after && b.error === null);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => this.bootWaiters.push({ after, resolve, reject }));
  }

  /** Makes the raw tick counter jump by `ms` (negative: backwards), as a glitching timer would. */
  jumpTicks(ms: number): void {
    this.tickShift += ms;
  }

  /** Calls a firmware command (`globalThis.handleCommand` with ev `control`); during a reset, once it booted. */
  async control(head: Head): Promise<unknown> {
    await this.transition.catch(() => undefined);
    return this.engine ? this.deliver(this.engine, { ev: 'control', ...head }) : undefined;
  }

  /**
   * Cuts the power now: from this moment no op of the firmware reaches a file
   * (a crank in progress is abandoned half way), timers and sockets are gone.
   * The files keep what was written before. start() powers on again.
   */
  async powerCut(): Promise<void> {
    await this.transition.catch(() => undefined);
    const engine = this.engine;
    if (engine === null) return;
    engine.dead = true;
    this.options.onLog?.('[host] power cut');
    await this.teardown(engine);
  }

  /**
   * Arms a power cut at the first persistent write (flash, firmware flash,
   * kv) that `when` picks, in this boot or a later one. That write is torn: a
   * flash write keeps its first half, an erase erases the first half of its
   * block, a kv set does not happen (the settings file is replaced whole).
   * From then on nothing the firmware does reaches a file, as with
   * powerCut(). Resolves with the torn write once the device is off; start()
   * powers it on again. Writes made while an image is being evaluated (the
   * boot itself) are not offered to `when`.
   */
  powerCutAt(when: (w: PersistentWrite) => boolean): Promise<PersistentWrite> {
    return new Promise((resolve) => {
      this.cutAt = { when, done: resolve };
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.transition.catch(() => undefined);
    if (this.engine) await this.teardown(this.engine);
    this.flash.close();
    this.firmwareFlash?.close();
    this.firmwareFile?.close();
    for (const w of this.bootWaiters.splice(0)) w.reject(new Error('VirtualDevice: stopped'));
  }

  /** Boots until one attempt comes up, at most MAX_BOOT_ATTEMPTS in a row. */
  private async bootChain(cause: BootRecord['cause']): Promise<BootRecord> {
    let failed = 0;
    for (;;) {
      if (this.stopped) throw new Error('VirtualDevice: stopped');
      const record = await this.bootOnce(cause);
      if (record.error === null) {
        for (const w of this.bootWaiters.filter((x) => record.count > x.after)) {
          this.bootWaiters.splice(this.bootWaiters.indexOf(w), 1);
          w.resolve(record);
        }
        if (this.engine?.rebootRequested) this.reset(this.engine);
        return record;
      }
      failed++;
      if (failed >= MAX_BOOT_ATTEMPTS) {
        const e = new Error(`firmware failed to boot ${failed} times in a row; last: ${record.error}`);
        this.failure ??= e;
        this.options.onLog?.(`[host] giving up: ${e.message}`);
        for (const w of this.bootWaiters.splice(0)) w.reject(e);
        throw e;
      }
      cause = 'failed-boot';
    }
  }

  /** One boot: the bootloader picks the image, a fresh engine evaluates it. */
  private async bootOnce(cause: BootRecord['cause']): Promise<BootRecord> {
    this.bootCount++;
    const record: BootRecord = { count: this.bootCount, cause, state: null, source: 'factory', refused: null, error: null };
    // As after a reset: settings are read back from their medium.
    this.kv = existsSync(this.options.kvFile) ? (JSON.parse(readFileSync(this.options.kvFile, 'utf8')) as Record<string, string>) : {};
    this.heapSlots = null;
    // A reset restarts the board's tick counter (at tickStart again, glitches gone).
    this.t0 = -1;
    this.tickShift = 0;
    let text: string | null = null;
    try {
      text = this.selectImage(record);
    } catch (e) {
      record.error = `bootloader: ${(e as Error).message}`;
    }
    if (text !== null) {
      const engine: Engine = new Engine(
        new XsWorker({ onCommand: (m): Uint8Array => this.handle(engine, m), onPrint: (l) => this.options.onLog?.(`[print] ${l}`) }),
      );
      this.engine = engine;
      try {
        this.account(await engine.worker.evaluate(text));
      } catch (e) {
        record.error = (e as Error).message;
        await this.teardown(engine);
      } finally {
        engine.booting = false;
      }
    }
    const s = record.state;
    this.options.onLog?.(
      `[host] boot ${record.count} (${cause}): ${record.source === 'factory' ? 'factory bundle' : `slot ${s!.slot}`}` +
        `${s?.trial ? ' on trial' : ''}${s?.revertedFrom ? `, reverted from ${s.revertedFrom.sha256.slice(0, 12)}` : ''}` +
        `${record.error === null ? '' : `: failed: ${record.error}`}`,
    );
    this.boots.push(record);
    if (this.boots.length > MAX_BOOT_HISTORY) this.boots.shift();
    this.options.onBoot?.(record);
    return record;
  }

  /**
   * The bootloader: FirmwareSlots decides which slot boots; its image runs
   * only if its length and SHA-256 match the boot record, else the trial is
   * reverted and the confirmed slot boots. No image: the factory bundle.
   */
  private selectImage(record: BootRecord): string {
    if (this.firmwareFile === null) return readFileSync(this.options.bundle, 'utf8');
    const slots = new FirmwareSlots(this.firmwareFile);
    let state = slots.boot();
    // The booted slot, then (after a revert) the confirmed one.
    for (let tries = 0; tries < 2; tries++) {
      record.state = state;
      if (state.image === null) {
        record.source = 'factory';
        return readFileSync(this.options.bundle, 'utf8');
      }
      const text = this.readImage(slots, state.slot, state.image);
      if (text !== null) {
        record.source = 'slot';
        return text;
      }
      record.refused = state.image;
      this.options.onLog?.(`[host] slot ${state.slot}: image does not match its boot record (${state.image.length} bytes, sha256 ${state.image.sha256}): not run`);
      if (!state.trial) break;
      slots.revert();
      state = slots.boot();
    }
    throw new Error('no bootable firmware image');
  }

  /** The image's text, or null when its bytes do not match the boot record (length, SHA-256, UTF-8). */
  private readImage(slots: FirmwareSlots, slot: 0 | 1, image: SlotImage): string | null {
    if (!(Number.isSafeInteger(image.length) && image.length > 0 && image.length <= slots.slotBytes)) return null;
    const bytes = new Uint8Array(image.length);
    slots.readSlot(slot, 0, bytes, 0, image.length);
    if (createHash('sha256').update(bytes).digest('hex') !== String(image.sha256).toLowerCase()) return null;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return null;
    }
  }

  /** The firmware asked for a reset: tear this engine down, boot again with the same files. */
  private reset(engine: Engine): void {
    if (engine.halted || this.stopped) return;
    engine.halted = true;
    const cycle = this.teardown(engine).then(() => this.bootChain('reboot'));
    this.transition = cycle;
    // A boot loop that gives up is recorded in `error` and rejects rebooted() waiters.
    cycle.catch(() => undefined);
  }

  /** Everything the engine owned goes: timers, sockets, pending HTTP, the worker. */
  private async teardown(engine: Engine): Promise<void> {
    engine.halted = true;
    for (const t of engine.timers.values()) clearTimeout(t);
    engine.timers.clear();
    for (const s of engine.udp.values()) s.close();
    engine.udp.clear();
    for (const ws of engine.sockets.values()) ws.terminate();
    engine.sockets.clear();
    for (const r of engine.http.values()) r.destroy();
    engine.http.clear();
    await engine.delivering.catch(() => undefined);
    await engine.worker.close();
    if (this.engine === engine) this.engine = null;
  }

  private account(run: { meter: { compute: number; currentHeapCount: number | null } }): void {
    this.computrons += run.meter.compute;
    if (run.meter.currentHeapCount !== null) this.heapSlots = run.meter.currentHeapCount;
  }

  private deliver(engine: Engine, head: Head, payload?: Uint8Array): Promise<unknown> {
    if (engine.halted) return Promise.resolve();
    const frame = new Uint8Array(encodeFrame(head, payload));
    engine.delivering = engine.delivering.then(() =>
      engine.halted
        ? undefined
        : engine.worker.command(frame).then(
            (run) => {
              this.account(run);
              if (engine.rebootRequested) this.reset(engine);
            },
            (e: Error) => {
              if (engine.dead) return;
              this.failure ??= e;
              this.options.onLog?.(`[host] firmware raised: ${e.message}`);
              if (engine.rebootRequested) this.reset(engine);
            },
          ),
    );
    return engine.delivering;
  }

  private reply(head: Head = {}, payload?: Uint8Array): Uint8Array {
    return new Uint8Array(encodeFrame(head, payload));
  }

  private handle(engine: Engine, message: Uint8Array): Uint8Array {
    if (engine.dead) return this.reply({ error: 'power cut', code: 'POWER_CUT' });
    const buffer = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) as ArrayBuffer;
    const { head, payload } = decodeFrame(buffer);
    try {
      return this.dispatch(engine, head, payload);
    } catch (e) {
      return this.reply({ error: (e as Error).message, code: e instanceof NoFirmwareFlash ? e.code : 'HOST' });
    }
  }

  /** True when an armed powerCutAt() picks this write: the power is off from now (the caller tears the write). */
  private cutHere(engine: Engine, w: PersistentWrite): boolean {
    const cut = this.cutAt;
    if (cut === null || engine.booting || !cut.when(w)) return false;
    this.cutAt = null;
    engine.dead = true;
    this.options.onLog?.(`[host] power cut at ${w.chip} ${w.op} ${w.key ?? w.offset}`);
    // The crank in progress runs on against a dead board; the reset waits for it.
    const off = this.teardown(engine).then(() => cut.done(w));
    this.transition = off;
    return true;
  }

  private firmwareOps(): NorFile {
    if (this.firmwareFlash === null) throw new NoFirmwareFlash();
    return this.firmwareFlash;
  }

  private dispatch(engine: Engine, head: Head, payload: Uint8Array): Uint8Array {
    switch (head.op) {
      case 'config':
        return this.reply({ config: this.options.config });
      case 'log':
        this.options.onLog?.(String(head.line));
        return this.reply();
      case 'status':
        this.options.onStatus?.(head.status as Record<string, unknown>);
        return this.reply();
      case 'ticks': {
        if (this.t0 < 0) this.t0 = performance.now();
        const raw = this.tickBase + this.tickShift + Math.floor(performance.now() - this.t0);
        return this.reply({ ticks: ((raw % 2 ** 32) + 2 ** 32) % 2 ** 32 });
      }
      case 'random':
        return this.reply({}, randomBytes(Math.min(Number(head.length), 4096)));
      case 'reboot':
        engine.rebootRequested = true;
        return this.reply();
      case 'timer.set': {
        const id = Number(head.id);
        engine.timers.set(
          id,
          setTimeout(() => {
            engine.timers.delete(id);
            void this.deliver(engine, { ev: 'timer', id });
          }, Number(head.delay)),
        );
        return this.reply();
      }
      case 'timer.clear': {
        const id = Number(head.id);
        clearTimeout(engine.timers.get(id));
        engine.timers.delete(id);
        return this.reply();
      }
      case 'udp.open': {
        const id = Number(head.id);
        const s = createSocket('udp4');
        s.on('message', (msg, rinfo) => void this.deliver(engine, { ev: 'udp', id, address: rinfo.address, port: rinfo.port }, msg));
        s.on('error', (e) => this.options.onLog?.(`[host] udp ${id}: ${e.message}`));
        s.bind(0);
        engine.udp.set(id, s);
        return this.reply();
      }
      case 'udp.send':
        engine.udp.get(Number(head.id))?.send(Buffer.from(payload), Number(head.port), String(head.address));
        return this.reply();
      case 'udp.close':
        engine.udp.get(Number(head.id))?.close();
        engine.udp.delete(Number(head.id));
        return this.reply();
      case 'http.request':
        // Whatever goes wrong is the request's failure, reported as its event, never thrown into the firmware.
        try {
          this.httpRequest(engine, head, payload);
        } catch (e) {
          void this.deliver(engine, { ev: 'http', id: Number(head.id), error: (e as Error).message });
        }
        return this.reply();
      case 'http.cancel':
        engine.http.get(Number(head.id))?.destroy();
        engine.http.delete(Number(head.id));
        return this.reply();
      case 'ws.open':
        this.wsOpen(engine, head);
        return this.reply();
      case 'ws.send':
        engine.sockets.get(Number(head.id))?.send(Buffer.from(payload));
        return this.reply();
      case 'ws.close':
        engine.sockets.get(Number(head.id))?.close();
        return this.reply();
      case 'flash.info':
      case 'fw.info': {
        const chip = head.op === 'fw.info' ? this.firmwareOps() : this.flash;
        return this.reply({ blockSize: chip.blockSize, blockCount: chip.blockCount });
      }
      case 'flash.read':
      case 'fw.read':
        return this.reply({}, (head.op === 'fw.read' ? this.firmwareOps() : this.flash).read(Number(head.offset), Number(head.length)));
      case 'flash.write':
      case 'fw.write': {
        const chip = head.op === 'fw.write' ? this.firmwareOps() : this.flash;
        const offset = Number(head.offset);
        if (this.cutHere(engine, { chip: head.op === 'fw.write' ? 'fw' : 'flash', op: 'write', offset, length: payload.length, key: null, value: null })) {
          chip.write(offset, payload.subarray(0, payload.length >> 1));
          return this.reply({ error: 'power cut', code: 'POWER_CUT' });
        }
        chip.write(offset, payload);
        return this.reply();
      }
      case 'flash.erase':
      case 'fw.erase': {
        const chip = head.op === 'fw.erase' ? this.firmwareOps() : this.flash;
        const block = Number(head.block);
        if (this.cutHere(engine, { chip: head.op === 'fw.erase' ? 'fw' : 'flash', op: 'erase', offset: block * chip.blockSize, length: chip.blockSize, key: null, value: null })) {
          chip.eraseTorn(block, chip.blockSize >> 1);
          return this.reply({ error: 'power cut', code: 'POWER_CUT' });
        }
        chip.erase(block);
        return this.reply();
      }
      case 'kv.get':
        return this.reply(Object.prototype.hasOwnProperty.call(this.kv, String(head.key)) ? { value: this.kv[String(head.key)] } : {});
      case 'kv.set':
        if (this.cutHere(engine, { chip: 'kv', op: 'set', offset: 0, length: String(head.value).length, key: String(head.key), value: String(head.value) })) {
          return this.reply({ error: 'power cut', code: 'POWER_CUT' });
        }
        this.kv[String(head.key)] = String(head.value);
        writeFileSync(this.options.kvFile, JSON.stringify(this.kv));
        return this.reply();
      default:
        return this.reply({ error: `unknown op ${String(head.op)}`, code: 'UNKNOWN_OP' });
    }
  }

  private httpRequest(engine: Engine, head: Head, body: Uint8Array): void {
    const id = Number(head.id);
    // Repeated names stay repeated (Node sends an array as several header lines); single ones are plain strings.
    const grouped: Record<string, string[]> = {};
    for (const [name, value] of head.headers as Array<[string, string]>) (grouped[name.toLowerCase()] ??= []).push(value);
    const headers: Record<string, string | string[]> = {};
    for (const [name, values] of Object.entries(grouped)) headers[name] = values.length === 1 ? values[0]! : values;
    // One event per request: whichever of answer, over-cap and error comes first.
    let answered = false;
    const answer = (event: Head, body?: Uint8Array): void => {
      if (answered) return;
      answered = true;
      void this.deliver(engine, { ev: 'http', id, ...event }, body);
    };
    const req = httpsRequest(
      {
        host: String(head.host),
        port: Number(head.port),
        method: String(head.method),
        path: String(head.path),
        headers,
        ca: this.options.tls.ca,
        ...(this.options.tls.cert ? { cert: this.options.tls.cert, key: this.options.tls.key } : {}),
        ...(isIP(String(head.host)) ? {} : { servername: String(head.host) }),
        agent: false,
        // No timeout here: a board's HTTP stack has none either. The core's
        // own deadline cancels the request (http.cancel).
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (answered) return;
          size += c.length;
          if (size <= MAX_HTTP_RESPONSE_BYTES) {
            chunks.push(c);
            return;
          }
          // A board's stack has a fixed receive buffer: it stops reading and says why, so the
          // firmware can tell an answer over its bound (endless data) from a network failure.
          answer({ error: `response over ${MAX_HTTP_RESPONSE_BYTES} bytes`, code: HTTP_TOO_LARGE_CODE });
          req.destroy();
        });
        res.on('end', () => {
          const list: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) list.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          answer({ status: res.statusCode, headers: list }, Buffer.concat(chunks));
        });
        res.on('error', (e) => answer({ error: e.message }));
      },
    );
    engine.http.set(id, req);
    req.on('close', () => engine.http.delete(id));
    req.on('error', (e) => answer({ error: e.message }));
    req.end(body.length ? Buffer.from(body) : undefined);
  }

  private wsOpen(engine: Engine, head: Head): void {
    const id = Number(head.id);
    const ws = new WebSocket(String(head.url), String(head.protocol ?? 'mqtt'), {
      ca: this.options.tls.ca,
      ...(this.options.tls.cert ? { cert: this.options.tls.cert, key: this.options.tls.key } : {}),
    });
    engine.sockets.set(id, ws);
    let closed = false;
    const close = (reason: string) => {
      if (closed) return;
      closed = true;
      engine.sockets.delete(id);
      void this.deliver(engine, { ev: 'ws', id, kind: 'close', reason });
    };
    ws.on('open', () => void this.deliver(engine, { ev: 'ws', id, kind: 'open' }));
    ws.on('message', (data: Buffer) => void this.deliver(engine, { ev: 'ws', id, kind: 'message' }, data));
    ws.on('unexpected-response', (_req, res) => {
      close(`http ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (e) => close(e.message));
    ws.on('close', (code) => close(`closed ${code}`));
  }
}
