// WebSocketPort (src/telemetry/deps.ts) over the SDK's legacy `websocket`
// Client, on SecureSocket for wss:// with the device identity, for MQTT over
// WebSocket (subprotocol "mqtt"). Binary messages only. SDK limits worth
// knowing: no fragmented messages, no 64-bit frame lengths (> 64 KiB).
// Note: the SDK client does not validate Sec-WebSocket-Accept; TLS is what
// authenticates the server.
import { Client } from 'websocket';
import { copyToArrayBuffer } from './copy-bytes.js';
import type { WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../ports.js';
import { ModdableError } from './errors.js';
import { secureOptions, VerifyingSecureSocket, type TlsDebug, type TlsIdentity } from './tls.js';

/** Longest URL accepted (host + path with a presigned query fits well inside). */
export const WEBSOCKET_MAX_URL_CHARS = 2048;
/** Most bytes waiting for socket write space (the upgrade request, or a frame, larger than the space). */
export const WEBSOCKET_MAX_PENDING_BYTES = 16 * 1024;
/** Largest piece handed to SecureSocket at once (one TLS record). */
export const WEBSOCKET_MAX_WRITE_BYTES = 2048;
/** SecureSocket's `writable` callback message. */
const SOCKET_WRITABLE = 3;

type SocketCallback = (message: number, value?: number) => void;

/** One argument of SecureSocket.write: a byte (number), a string (UTF-8), or a buffer. */
function asBytes(part: unknown): Uint8Array {
  if (typeof part === 'number') return Uint8Array.of(part & 0xff);
  if (typeof part === 'string') return new Uint8Array(ArrayBuffer.fromString(part));
  if (part instanceof ArrayBuffer) return new Uint8Array(part);
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  throw new ModdableError('NETWORK', 'unsupported WebSocket write');
}

/** SecureSocket's native write(): with no argument it answers the write space. */
const baseWrite = VerifyingSecureSocket.prototype.write as unknown as (this: unknown, ...parts: unknown[]) => unknown;

/**
 * SecureSocket whose write() never needs more space than the socket has.
 * The SDK's WebSocket client writes its upgrade request (the presigned path
 * is 1-2 KiB) and each frame in one write() call, and SecureSocket throws
 * "can't write all data" when that exceeds the socket's write space (896
 * bytes on lin: a 1 KiB buffer less 128 for TLS). Here a write that does not
 * fit is queued (bounded) and sent in pieces as space frees up; the client's
 * own callback does not see `writable` until the queue is empty.
 */
class QueuedSecureSocket extends VerifyingSecureSocket {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #user: SocketCallback | undefined;

  constructor(dictionary: Record<string, unknown>) {
    // `host` may be host:port (the Host header); the connection and the TLS server name take the host.
    const host = String(dictionary.host);
    const colon = host.indexOf(':');
    super(colon < 0 ? dictionary : { ...dictionary, host: host.slice(0, colon) });
  }

  get callback(): SocketCallback {
    return (message, value) => {
      if (message === SOCKET_WRITABLE) {
        this.#flush();
        if (this.#pendingBytes > 0) return;
      }
      this.#user?.call(this, message, value);
    };
  }
  set callback(fn: SocketCallback) {
    this.#user = fn;
  }

  /** write(...parts) sends (queued when it does not fit); write() answers the space, 0 while a queue waits. */
  override write(...parts: unknown[]): void {
    if (parts.length === 0) return (this.#pendingBytes > 0 ? 0 : this.#room()) as unknown as void;
    let total = 0;
    const pieces = parts.map((p) => asBytes(p));
    for (const p of pieces) total += p.length;
    if (this.#pendingBytes + total > WEBSOCKET_MAX_PENDING_BYTES) throw new ModdableError('NETWORK', 'WebSocket write queue full');
    const joined = new Uint8Array(total);
    let at = 0;
    for (const p of pieces) {
      joined.set(p, at);
      at += p.length;
    }
    this.#pending.push(joined);
    this.#pendingBytes += total;
    this.#flush();
  }

  #room(): number {
    return Number(baseWrite.call(this)) || 0;
  }

  #flush(): void {
    while (this.#pending.length > 0) {
      const room = Math.min(this.#room(), WEBSOCKET_MAX_WRITE_BYTES);
      if (room <= 0) return;
      const head = this.#pending[0]!;
      const n = Math.min(room, head.length);
      // Not `super.write`: XS gives private methods no home object ("get super.write: no home").
      baseWrite.call(this, copyToArrayBuffer(head, 0, n));
      this.#pendingBytes -= n;
      if (n === head.length) this.#pending.shift();
      else this.#pending[0] = head.subarray(n);
    }
  }
}

const HOST_PATTERN = /^[A-Za-z0-9.-]{1,253}$/;
const PORT_PATTERN = /^\d{1,5}$/;

interface ParsedUrl {
  secure: boolean;
  /** host, or host:port when the URL names a port: the Host header the request is signed with. */
  authority: string;
  host: string;
  port: number;
  path: string;
}

/**
 * ws:// or wss:// URL, parsed by hand: a regular expression over the whole
 * URL (a presigned path is ~1-2 KiB) crashed the simulator in XS's
 * RegExp exec (SIGSEGV), so only the short host and port parts are matched.
 */
export function parseWebSocketUrl(url: string): ParsedUrl | null {
  if (url.length > WEBSOCKET_MAX_URL_CHARS) return null;
  const secure = url.startsWith('wss://');
  if (!secure && !url.startsWith('ws://')) return null;
  const rest = url.slice(secure ? 6 : 5);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '/' : rest.slice(slash);
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) <= 0x20 || path.charCodeAt(i) === 0x7f) return null;
  const colon = authority.indexOf(':');
  const host = colon < 0 ? authority : authority.slice(0, colon);
  const portText = colon < 0 ? null : authority.slice(colon + 1);
  if (!HOST_PATTERN.test(host)) return null;
  if (portText !== null && !PORT_PATTERN.test(portText)) return null;
  const port = portText !== null ? Number(portText) : secure ? 443 : 80;
  if (port < 1 || port > 65535) return null;
  return { secure, authority, host, port, path };
}

export class ModdableWebSockets implements WebSocketPort {
  constructor(
    private readonly identity: TlsIdentity | null,
    /** The only certificates a server chain may lead to (DER; tls.ts). */
    private readonly trustAnchors: readonly ArrayBuffer[],
    /** Bring-up switches (simulator only). */
    private readonly tlsDebug: TlsDebug = {},
  ) {}

  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    const parsed = parseWebSocketUrl(url);
    if (!parsed) throw new ModdableError('NETWORK', 'malformed WebSocket URL');
    const { secure, authority, host, port, path } = parsed;
    // The SDK client sends `Host: <host>`; a presigned URL with a port signed
    // `host:port`, so over TLS the client is given the authority and
    // QueuedSecureSocket connects to the host part.
    const dictionary: Record<string, unknown> = { host: secure ? authority : host, port, path, protocol };
    if (secure) {
      dictionary.Socket = QueuedSecureSocket;
      dictionary.trustAnchors = this.trustAnchors;
      dictionary.secure = secureOptions(this.identity, undefined, this.tlsDebug);
    }
    let open = true;
    const client = new Client(dictionary);
    const closeWith = (error: Error | null): void => {
      if (!open) return;
      open = false;
      try {
        client.close();
      } catch {
        // the SDK may already have closed it
      }
      handlers.onClose(error);
    };
    client.callback = function (message: number, value?: unknown): void {
      if (message === Client.handshake) handlers.onOpen();
      else if (message === Client.receive) {
        if (value instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(value));
        else closeWith(new ModdableError('NETWORK', 'text message on a binary protocol'));
      } else if (message === Client.disconnect) closeWith(new ModdableError('NETWORK', 'WebSocket disconnected'));
      else if (message < 0) closeWith(new ModdableError('NETWORK', 'WebSocket connection failed (DNS, TCP or TLS)'));
    };
    return {
      send(bytes: Uint8Array, start: number, end: number): void {
        if (!open) throw new ModdableError('NETWORK', 'WebSocket is closed');
        if (!(start >= 0 && start <= end && end <= bytes.length)) throw new RangeError('WebSocket send: bad range');
        client.write(copyToArrayBuffer(bytes, start, end - start));
      },
      close(): void {
        closeWith(null);
      },
    };
  }
}
