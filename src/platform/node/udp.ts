// Node adapter for UdpPort: one dgram socket per open(), bound to an
// ephemeral port on all IPv4 interfaces (or `bindAddress`).
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { UdpPort, UdpSocket } from '../../ports.js';

class NodeUdpSocket implements UdpSocket {
  onReceive: ((bytes: Uint8Array, address: string, port: number) => void) | null = null;
  private readonly socket: dgram.Socket;
  private closed = false;

  constructor(type: 'udp4' | 'udp6', bindAddress: string | undefined) {
    this.socket = dgram.createSocket(type);
    this.socket.on('message', (msg, rinfo) => {
      const cb = this.onReceive;
      if (cb && !this.closed) cb(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), rinfo.address, rinfo.port);
    });
    // Errors (ICMP port unreachable and the like) end nothing: the core times out.
    this.socket.on('error', () => {});
    this.socket.bind({ port: 0, ...(bindAddress ? { address: bindAddress } : {}) });
  }

  send(bytes: Uint8Array, address: string, port: number): void {
    if (this.closed) return;
    // dgram copies nothing before the callback: hand it a private copy.
    this.socket.send(Uint8Array.prototype.slice.call(bytes), port, address, () => {});
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onReceive = null;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

export class NodeUdp implements UdpPort {
  private readonly bindAddress: string | undefined;
  private readonly type: 'udp4' | 'udp6';
  constructor(options: { bindAddress?: string; ipv6?: boolean } = {}) {
    this.bindAddress = options.bindAddress;
    this.type = options.ipv6 || (options.bindAddress !== undefined && isIPv6(options.bindAddress)) ? 'udp6' : 'udp4';
  }
  open(): UdpSocket {
    return new NodeUdpSocket(this.type, this.bindAddress);
  }
}
