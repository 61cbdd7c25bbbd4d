// UdpPort over ECMA-419 `embedded:io/socket/udp` (lin: the SDK's Linux
// implementation; ESP32 and Pico W: lwIP, included by the board manifests).
// One socket per open(), bound to an ephemeral local port. Datagrams larger
// than `maxDatagramBytes` are dropped unread-into-core (SNTP replies are 48
// bytes; anything big is not for us). The SDK's read() allocates one
// ArrayBuffer per datagram, carrying `address` and `port`.
import UDP from 'embedded:io/socket/udp';
import type { UdpPort, UdpSocket } from '../../ports.js';
import { ModdableError } from './errors.js';

/** Largest datagram handed to the core; NTP with extension fields stays far below. */
export const UDP_MAX_DATAGRAM_BYTES = 1024;
/** Datagrams drained per readable event, so a flood cannot starve the event loop. */
export const UDP_MAX_READS_PER_EVENT = 8;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

class ModdableUdpSocket implements UdpSocket {
  onReceive: ((bytes: Uint8Array, address: string, port: number) => void) | null = null;
  private socket: UDP | null;
  constructor() {
    const self = this;
    this.socket = new UDP({
      onReadable(packets: number) {
        for (let i = 0; i < packets && i < UDP_MAX_READS_PER_EVENT; i++) {
          const packet = this.read();
          if (!packet) break;
          if (packet.byteLength > UDP_MAX_DATAGRAM_BYTES) continue;
          self.onReceive?.(new Uint8Array(packet), packet.address, packet.port);
        }
      },
    });
  }
  send(bytes: Uint8Array, address: string, port: number): void {
    if (!this.socket) throw new ModdableError('NETWORK', 'UDP socket is closed');
    if (!IPV4.test(address)) throw new ModdableError('NETWORK', 'UDP address must be an IPv4 literal (resolve names first)');
    if (!(Number.isInteger(port) && port > 0 && port < 65536)) throw new ModdableError('NETWORK', 'UDP port out of range');
    this.socket.write(bytes, address, port);
  }
  close(): void {
    const socket = this.socket;
    this.socket = null;
    this.onReceive = null;
    (socket as unknown as { close(): void } | null)?.close();
  }
}

export class ModdableUdp implements UdpPort {
  open(): UdpSocket {
    return new ModdableUdpSocket();
  }
}
