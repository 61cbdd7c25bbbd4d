// WebSocket client (binary messages) over the SDK's legacy `websocket`
// Client, on SecureSocket for wss:// with the device identity, for MQTT over
// WebSocket (subprotocol "mqtt"). Same shape as the virtual device's
// XsWebSockets (src/platform/xs/ports.ts) so the agent can take either.
// Note: the SDK client does not validate Sec-WebSocket-Accept; TLS is what
// authenticates the server.
import { Client } from 'websocket';
import SecureSocket from 'securesocket';
import { copyToArrayBuffer } from './copy-bytes.js';
import { ModdableError } from './errors.js';
import { secureOptions, type TlsIdentity } from './tls.js';

/** Longest URL accepted (host + path with a presigned query fits well inside). */
export const WEBSOCKET_MAX_URL_CHARS = 2048;

export interface WebSocketHandlers {
  onOpen(): void;
  /** `bytes` is only valid during the call. */
  onMessage(bytes: Uint8Array): void;
  onClose(reason: string): void;
}

export interface WebSocketConnection {
  send(bytes: Uint8Array): void;
  close(): void;
}

const URL_PATTERN = /^(wss?):\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)?$/;

export class ModdableWebSockets {
  constructor(private readonly identity: TlsIdentity | null) {}

  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketConnection {
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
    const closeWith = (reason: string): void => {
      if (!open) return;
      open = false;
      try {
        client.close();
      } catch {
        // the SDK may already have closed it
      }
      handlers.onClose(reason);
    };
    client.callback = function (message: number, value?: unknown): void {
      if (message === Client.handshake) handlers.onOpen();
      else if (message === Client.receive) {
        if (value instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(value));
        else closeWith('text message on a binary protocol');
      } else if (message === Client.disconnect) closeWith('disconnected');
      else if (message < 0) closeWith('error');
    };
    return {
      send(bytes: Uint8Array): void {
        if (!open) throw new ModdableError('NETWORK', 'WebSocket is closed');
        client.write(copyToArrayBuffer(bytes, 0, bytes.length));
      },
      close(): void {
        closeWith('closed by device');
      },
    };
  }
}
