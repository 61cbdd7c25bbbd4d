// Port adapters for the virtual device: each port of src/ports.ts forwarded to
// the Node host through the HostBridge. The host decides what is real (UDP to
// real NTP servers, HTTPS with the device certificate, a file as flash).
import type {
  FirmwarePort,
  FlashPort,
  HttpExchange,
  HttpPort,
  HttpRequest,
  HttpResponse,
  KeyValuePort,
  RandomPort,
  TickSource,
  TimerPort,
  UdpPort,
  UdpSocket,
} from '../../ports.js';
import { HostError, type HostBridge } from './bridge.js';
import type { WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../ports.js';

export class XsTimers implements TimerPort {
  private readonly pending = new Map<number, () => void>();
  constructor(private readonly bridge: HostBridge) {
    bridge.on('timer', (head) => {
      const id = Number(head.id);
      const callback = this.pending.get(id);
      if (!callback) return;
      this.pending.delete(id);
      callback();
    });
  }
  set(callback: () => void, delayMs: number): unknown {
    const id = this.bridge.id();
    this.pending.set(id, callback);
    this.bridge.call('timer.set', { id, delay: Math.max(0, delayMs) });
    return id;
  }
  clear(handle: unknown): void {
    const id = Number(handle);
    if (this.pending.delete(id)) this.bridge.call('timer.clear', { id });
  }
}

/**
 * Millisecond ticks as a board gives them: a 32-bit counter that wraps. The
 * host can start it close to the wrap so every run of the virtual device
 * crosses it.
 */
export class XsTicks implements TickSource {
  readonly ticksPerSecond = 1000;
  readonly wrapBits = 32;
  constructor(private readonly bridge: HostBridge) {}
  ticks(): number {
    return Number(this.bridge.call('ticks').head.ticks);
  }
}

export class XsRandom implements RandomPort {
  /** The host answers from node:crypto's randomBytes. */
  readonly strong = true;
  constructor(private readonly bridge: HostBridge) {}
  fill(bytes: Uint8Array): void {
    const { payload } = this.bridge.call('random', { length: bytes.length });
    bytes.set(payload.subarray(0, bytes.length));
  }
}

class XsUdpSocket implements UdpSocket {
  onReceive: ((bytes: Uint8Array, address: string, port: number) => void) | null = null;
  constructor(
    private readonly bridge: HostBridge,
    readonly id: number,
    private readonly sockets: Map<number, XsUdpSocket>,
  ) {}
  send(bytes: Uint8Array, address: string, port: number): void {
    this.bridge.call('udp.send', { id: this.id, address, port }, bytes);
  }
  close(): void {
    if (this.sockets.delete(this.id)) this.bridge.call('udp.close', { id: this.id });
  }
}

export class XsUdp implements UdpPort {
  private readonly sockets = new Map<number, XsUdpSocket>();
  constructor(private readonly bridge: HostBridge) {
    bridge.on('udp', (head, payload) => {
      const socket = this.sockets.get(Number(head.id));
      if (socket && socket.onReceive) socket.onReceive(payload, String(head.address), Number(head.port));
    });
  }
  open(): UdpSocket {
    const id = this.bridge.id();
    const socket = new XsUdpSocket(this.bridge, id, this.sockets);
    this.sockets.set(id, socket);
    this.bridge.call('udp.open', { id });
    return socket;
  }
}

type HttpCallback = (error: Error | null, response: HttpResponse | null) => void;

export class XsHttp implements HttpPort {
  private readonly pending = new Map<number, HttpCallback>();
  constructor(private readonly bridge: HostBridge) {
    bridge.on('http', (head, payload) => {
      const id = Number(head.id);
      const callback = this.pending.get(id);
      if (!callback) return;
      this.pending.delete(id);
      if (typeof head.error === 'string') {
        const error = new Error(head.error) as Error & { code?: string };
        // The host's classification (e.g. 'too-large', see HttpPort) reaches the core.
        if (typeof head.code === 'string') error.code = head.code;
        callback(error, null);
      }
      else callback(null, { status: Number(head.status), headers: head.headers as Array<[string, string]>, body: payload.slice() });
    });
  }
  request(req: HttpRequest, callback: HttpCallback): HttpExchange {
    const id = this.bridge.id();
    this.pending.set(id, callback);
    const { body, ...rest } = req;
    this.bridge.call('http.request', { id, ...rest }, body ?? undefined);
    return {
      cancel: () => {
        if (this.pending.delete(id)) this.bridge.call('http.cancel', { id });
      },
    };
  }
}

/**
 * A flash chip of the host (NOR: erase sets a block to 0xFF, a write can only
 * clear bits). `device` names the host's ops: 'flash' is the agent's queue
 * flash, 'fw' the firmware flash holding the A/B slots.
 */
export class XsFlash implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  constructor(
    private readonly bridge: HostBridge,
    private readonly device: 'flash' | 'fw' = 'flash',
  ) {
    const { head } = bridge.call(`${device}.info`);
    this.blockSize = Number(head.blockSize);
    this.blockCount = Number(head.blockCount);
  }
  erase(block: number): void {
    this.bridge.call(`${this.device}.erase`, { block });
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    const { payload } = this.bridge.call(`${this.device}.read`, { offset, length });
    into.set(payload.subarray(0, length), start);
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.bridge.call(`${this.device}.write`, { offset }, bytes.subarray(start, start + length));
  }
}

/** Asks the host for a reset; it happens once the current callback returns (a board would not return at all). */
export function xsReboot(bridge: HostBridge): void {
  bridge.call('reboot');
}

/** The firmware flash (A/B slots, see src/update/slots.ts) and reset, as the host's bootloader sees them. */
export class XsFirmware implements FirmwarePort {
  readonly flash: FlashPort;
  constructor(private readonly bridge: HostBridge) {
    this.flash = new XsFlash(bridge, 'fw');
  }
  reboot(): void {
    xsReboot(this.bridge);
  }
}

/** The firmware port, or null when the host has no firmware flash file (or is older than the fw ops). */
export function xsFirmware(bridge: HostBridge): FirmwarePort | null {
  try {
    return new XsFirmware(bridge);
  } catch (e) {
    if (e instanceof HostError && (e.code === 'NO_FIRMWARE_FLASH' || e.code === 'UNKNOWN_OP')) return null;
    throw e;
  }
}

export class XsKeyValue implements KeyValuePort {
  constructor(private readonly bridge: HostBridge) {}
  get(key: string): string | undefined {
    const { head } = this.bridge.call('kv.get', { key });
    return typeof head.value === 'string' ? head.value : undefined;
  }
  set(key: string, value: string): void {
    this.bridge.call('kv.set', { key, value });
  }
}

/** The device log: a line to the host, which prints it with a timestamp. */
export function xsTrace(bridge: HostBridge): (line: string) => void {
  return (line) => {
    bridge.call('log', { line });
  };
}

/** WebSocket client (binary messages) over the host's `ws`: the uploader's WebSocketPort. */
export class XsWebSockets implements WebSocketPort {
  private readonly open = new Map<number, WebSocketHandlers>();
  constructor(private readonly bridge: HostBridge) {
    bridge.on('ws', (head, payload) => {
      const id = Number(head.id);
      const h = this.open.get(id);
      if (!h) return;
      if (head.kind === 'open') h.onOpen();
      else if (head.kind === 'message') h.onMessage(payload);
      else if (head.kind === 'close') {
        this.open.delete(id);
        const reason = String(head.reason);
        // The host reports a refused upgrade as "http <status>".
        const refused = /^http (\d{3})$/.exec(reason);
        h.onClose(reason === 'closed 1000' ? null : new Error(reason), refused ? Number(refused[1]) : undefined);
      }
    });
  }
  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    const id = this.bridge.id();
    this.open.set(id, handlers);
    this.bridge.call('ws.open', { id, url, protocol });
    return {
      send: (bytes, start, end) => {
        this.bridge.call('ws.send', { id }, bytes.subarray(start, end));
      },
      close: () => {
        if (this.open.has(id)) this.bridge.call('ws.close', { id });
      },
    };
  }
}
