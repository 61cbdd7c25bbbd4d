// Node side of the virtual device: runs a firmware bundle inside the XS
// engine and gives it real I/O. Every port call from XS (src/platform/xs/)
// arrives here as a frame; events (timers, datagrams, HTTP responses,
// WebSocket messages) go back into XS through handleCommand.
import { createSocket, type Socket } from 'node:dgram';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { XsWorker } from '../xs/worker.js';
import { decodeFrame, encodeFrame } from '../../src/platform/xs/bridge.js';
import { FileFlash } from '../../src/platform/node/flash-file.js';
import { migrateAgentFlash } from '../../src/agent/flash-region.js';
import { DEFAULT_SECURITY_BLOCKS } from '../../src/agent/config.js';

export interface VirtualDeviceOptions {
  /** Firmware bundle (IIFE) to evaluate, e.g. build/xs/vdevice.js. */
  bundle: string;
  /** JSON-serialisable configuration handed to the firmware (`config` op). */
  config: Record<string, unknown>;
  /** TLS material for every HTTPS / WSS connection the device makes. */
  tls: { ca: string; cert?: string; key?: string };
  /** File that plays the flash chip (created erased when missing). */
  flashFile: string;
  flashBlockSize: number;
  flashBlockCount: number;
  /** Small settings (trusted time floor, ...) as a JSON file. */
  kvFile: string;
  /** Initial raw tick value; start near 2^32 to make every run cross the 32-bit wrap. */
  tickStart?: number;
  onLog?: (line: string) => void;
  /** Structured status the firmware reports (`status` op). */
  onStatus?: (status: Record<string, unknown>) => void;
}

type Head = Record<string, unknown>;

const MAX_HTTP_RESPONSE_BYTES = 256 * 1024;

export class VirtualDevice {
  private readonly worker: XsWorker;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly udp = new Map<number, Socket>();
  private readonly sockets = new Map<number, WebSocket>();
  private readonly http = new Map<number, ClientRequest>();
  private readonly flashFd: number;
  private readonly kv: Record<string, string>;
  private readonly tickBase: number;
  /** Host time of the firmware's first tick read: the raw counter starts at `tickStart` then. */
  private t0 = -1;
  /** Added to the raw counter: a test makes the board's tick counter jump (backwards = a disruption). */
  private tickShift = 0;
  private stopped = false;
  /** Event delivery is serialised: XS runs one crank at a time. */
  private delivering: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  /** Computrons the firmware used so far (every crank: boot, events, commands). */
  computrons = 0;
  /** XS heap slots in use after the last crank, as the engine reports it. */
  heapSlots: number | null = null;

  constructor(private readonly options: VirtualDeviceOptions) {
    this.worker = new XsWorker({ onCommand: (m) => this.handle(m), onPrint: (l) => options.onLog?.(`[print] ${l}`) });
    this.prepareFlash();
    this.flashFd = openSync(options.flashFile, 'r+');
    this.kv = existsSync(options.kvFile) ? (JSON.parse(readFileSync(options.kvFile, 'utf8')) as Record<string, string>) : {};
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

  /** Evaluates the firmware; it installs handleCommand and starts its own timers. */
  async start(): Promise<void> {
    this.account(await this.worker.evaluate(readFileSync(this.options.bundle, 'utf8')));
  }

  private account(run: { meter: { compute: number; currentHeapCount: number | null } }): void {
    this.computrons += run.meter.compute;
    if (run.meter.currentHeapCount !== null) this.heapSlots = run.meter.currentHeapCount;
  }

  /** The first exception the firmware raised while handling an event, if any. */
  get error(): Error | null {
    return this.failure;
  }

  /** Makes the raw tick counter jump by `ms` (negative: backwards), as a glitching timer would. */
  jumpTicks(ms: number): void {
    this.tickShift += ms;
  }

  /** Calls a firmware command (`globalThis.handleCommand` with ev `control`). */
  control(head: Head): Promise<unknown> {
    return this.deliver({ ev: 'control', ...head });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const s of this.udp.values()) s.close();
    this.udp.clear();
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
    await this.delivering.catch(() => undefined);
    await this.worker.close();
    closeSync(this.flashFd);
  }

  private deliver(head: Head, payload?: Uint8Array): Promise<unknown> {
    if (this.stopped) return Promise.resolve();
    const frame = new Uint8Array(encodeFrame(head, payload));
    this.delivering = this.delivering.then(() =>
      this.stopped
        ? undefined
        : this.worker.command(frame).then((run) => this.account(run), (e: Error) => {
            this.failure ??= e;
            this.options.onLog?.(`[host] firmware raised: ${e.message}`);
          }),
    );
    return this.delivering;
  }

  private reply(head: Head = {}, payload?: Uint8Array): Uint8Array {
    return new Uint8Array(encodeFrame(head, payload));
  }

  private handle(message: Uint8Array): Uint8Array {
    const buffer = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) as ArrayBuffer;
    const { head, payload } = decodeFrame(buffer);
    try {
      return this.dispatch(head, payload);
    } catch (e) {
      return this.reply({ error: (e as Error).message, code: 'HOST' });
    }
  }

  private dispatch(head: Head, payload: Uint8Array): Uint8Array {
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
      case 'timer.set': {
        const id = Number(head.id);
        this.timers.set(
          id,
          setTimeout(() => {
            this.timers.delete(id);
            void this.deliver({ ev: 'timer', id });
          }, Number(head.delay)),
        );
        return this.reply();
      }
      case 'timer.clear': {
        const id = Number(head.id);
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        return this.reply();
      }
      case 'udp.open': {
        const id = Number(head.id);
        const s = createSocket('udp4');
        s.on('message', (msg, rinfo) => void this.deliver({ ev: 'udp', id, address: rinfo.address, port: rinfo.port }, msg));
        s.on('error', (e) => this.options.onLog?.(`[host] udp ${id}: ${e.message}`));
        s.bind(0);
        this.udp.set(id, s);
        return this.reply();
      }
      case 'udp.send':
        this.udp.get(Number(head.id))?.send(Buffer.from(payload), Number(head.port), String(head.address));
        return this.reply();
      case 'udp.close':
        this.udp.get(Number(head.id))?.close();
        this.udp.delete(Number(head.id));
        return this.reply();
      case 'http.request':
        // Whatever goes wrong is the request's failure, reported as its event, never thrown into the firmware.
        try {
          this.httpRequest(head, payload);
        } catch (e) {
          void this.deliver({ ev: 'http', id: Number(head.id), error: (e as Error).message });
        }
        return this.reply();
      case 'http.cancel':
        this.http.get(Number(head.id))?.destroy();
        this.http.delete(Number(head.id));
        return this.reply();
      case 'ws.open':
        this.wsOpen(head);
        return this.reply();
      case 'ws.send':
        this.sockets.get(Number(head.id))?.send(Buffer.from(payload));
        return this.reply();
      case 'ws.close':
        this.sockets.get(Number(head.id))?.close();
        return this.reply();
      case 'flash.info':
        return this.reply({ blockSize: this.options.flashBlockSize, blockCount: this.options.flashBlockCount });
      case 'flash.read': {
        const out = Buffer.alloc(Number(head.length));
        readSync(this.flashFd, out, 0, out.length, Number(head.offset));
        return this.reply({}, out);
      }
      case 'flash.write': {
        // Real NOR flash can only clear bits: AND the new bytes into the old ones.
        const offset = Number(head.offset);
        const old = Buffer.alloc(payload.length);
        readSync(this.flashFd, old, 0, old.length, offset);
        for (let i = 0; i < old.length; i++) old[i] = old[i]! & payload[i]!;
        writeSync(this.flashFd, old, 0, old.length, offset);
        return this.reply();
      }
      case 'flash.erase': {
        const size = this.options.flashBlockSize;
        writeSync(this.flashFd, Buffer.alloc(size, 0xff), 0, size, Number(head.block) * size);
        return this.reply();
      }
      case 'kv.get':
        return this.reply(Object.prototype.hasOwnProperty.call(this.kv, String(head.key)) ? { value: this.kv[String(head.key)] } : {});
      case 'kv.set':
        this.kv[String(head.key)] = String(head.value);
        writeFileSync(this.options.kvFile, JSON.stringify(this.kv));
        return this.reply();
      default:
        return this.reply({ error: `unknown op ${String(head.op)}`, code: 'UNKNOWN_OP' });
    }
  }

  private httpRequest(head: Head, body: Uint8Array): void {
    const id = Number(head.id);
    // Repeated names stay repeated (Node sends an array as several header lines); single ones are plain strings.
    const grouped: Record<string, string[]> = {};
    for (const [name, value] of head.headers as Array<[string, string]>) (grouped[name.toLowerCase()] ??= []).push(value);
    const headers: Record<string, string | string[]> = {};
    for (const [name, values] of Object.entries(grouped)) headers[name] = values.length === 1 ? values[0]! : values;
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
          size += c.length;
          if (size <= MAX_HTTP_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('end', () => {
          const list: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) list.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          void this.deliver({ ev: 'http', id, status: res.statusCode, headers: list }, Buffer.concat(chunks));
        });
        res.on('error', (e) => void this.deliver({ ev: 'http', id, error: e.message }));
      },
    );
    this.http.set(id, req);
    req.on('close', () => this.http.delete(id));
    req.on('error', (e) => void this.deliver({ ev: 'http', id, error: e.message }));
    req.end(body.length ? Buffer.from(body) : undefined);
  }

  private wsOpen(head: Head): void {
    const id = Number(head.id);
    const ws = new WebSocket(String(head.url), String(head.protocol ?? 'mqtt'), {
      ca: this.options.tls.ca,
      ...(this.options.tls.cert ? { cert: this.options.tls.cert, key: this.options.tls.key } : {}),
    });
    this.sockets.set(id, ws);
    let closed = false;
    const close = (reason: string) => {
      if (closed) return;
      closed = true;
      this.sockets.delete(id);
      void this.deliver({ ev: 'ws', id, kind: 'close', reason });
    };
    ws.on('open', () => void this.deliver({ ev: 'ws', id, kind: 'open' }));
    ws.on('message', (data: Buffer) => void this.deliver({ ev: 'ws', id, kind: 'message' }, data));
    ws.on('unexpected-response', (_req, res) => {
      close(`http ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (e) => close(e.message));
    ws.on('close', (code) => close(`closed ${code}`));
  }
}
