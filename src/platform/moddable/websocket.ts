// WebSocketPort (src/telemetry/deps.ts) over the SDK's legacy `websocket`
// Client, on SecureSocket for wss:// with the device identity, for MQTT over
// WebSocket (subprotocol "mqtt"). Binary messages only. SDK limits worth
// knowing: no fragmented messages, no 64-bit frame lengths (> 64 KiB).
// Note: the SDK client does not validate Sec-WebSocket-Accept; TLS is what
// authenticates the server.
import { Client } from 'websocket';
import SecureSocket from 'securesocket';
import { copyToArrayBuffer } from './copy-bytes.js';
import type { WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../ports.js';
import { ModdableError } from './errors.js';
import { secureOptions, type TlsIdentity } from './tls.js';

/** Longest URL accepted (host + path with a presigned query fits well inside). */
export const WEBSOCKET_MAX_URL_CHARS = 2048;

const URL_PATTERN = /^(wss?):\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)?$/;

export class ModdableWebSockets implements WebSocketPort {
  constructor(private readonly identity: TlsIdentity | null) {}

  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    const match = url.length <= WEBSOCKET_MAX_URL_CHARS ? URL_PATTERN.exec(url) : null;
    if (!match) throw new ModdableError('NETWORK', 'malformed WebSocket URL');
    const secure = match[1] === 'wss';
    const port = match[3] ? Number(match[3]) : secure ? 443 : 80;
    const dictionary: Record<string, unknown> = { host: match[2], port, path: match[4] ?? '/', protocol };
    if (secure) {
      dictionary.Socket = SecureSocket;
      dictionary.secure = secureOptions(this.identity);
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
