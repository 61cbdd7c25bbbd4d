// A minimal SNTP server (RFC 4330 server side) for `npm start` and the dev
// cloud: serves this machine's clock, optionally shifted to play a liar.
// The peer tests use real chrony; this exists so that `npm start` needs no
// system package and no privileged port.
import { createSocket, type Socket } from 'node:dgram';

export interface SntpServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Added to the served time, to make a liar. */
  offsetMs?: number;
  stratum?: number;
  /** Root dispersion we claim, in ms. */
  rootDispersionMs?: number;
}

const NTP_PACKET_BYTES = 48;
const NTP_UNIX_OFFSET_S = 2208988800;

function writeTimestamp(view: DataView, at: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 2 ** 32);
  view.setUint32(at, seconds >>> 0);
  view.setUint32(at + 4, fraction >>> 0);
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class SntpServer {
  private readonly socket: Socket;
  private readonly options: Required<SntpServerOptions>;
  served = 0;

  constructor(options: SntpServerOptions = {}) {
    this.options = { host: '127.0.0.1', port: 0, offsetMs: 0, stratum: 2, rootDispersionMs: 2, ...options };
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, rinfo) => this.answer(msg, rinfo.address, rinfo.port));
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.options.port, this.options.host, () => resolve());
    });
    return { host: this.options.host, port: this.socket.address().port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(request: Buffer, address: string, port: number): void {
    const received = nowMs() + this.options.offsetMs;
    if (request.length < NTP_PACKET_BYTES) return;
    const mode = request[0]! & 7;
    if (mode !== 3) return; // only client requests
    const out = Buffer.alloc(NTP_PACKET_BYTES);
    const view = new DataView(out.buffer, out.byteOffset, out.length);
    const version = (request[0]! >> 3) & 7 || 4;
    out[0] = (0 << 6) | (version << 3) | 4; // LI 0, server mode
    out[1] = this.options.stratum;
    out[2] = request[2]!; // poll
    out[3] = 0xec; // precision 2^-20 s
    view.setUint32(4, 0); // root delay
    view.setUint32(8, Math.round((this.options.rootDispersionMs / 1000) * 65536)); // root dispersion, 16.16 s
    out.write('LOCL', 12, 'latin1');
    writeTimestamp(view, 16, received - 1000); // reference: "last set a second ago"
    request.copy(out, 24, 40, 48); // originate = client's transmit (its nonce)
    writeTimestamp(view, 32, received);
    writeTimestamp(view, 40, nowMs() + this.options.offsetMs);
    this.served++;
    this.socket.send(out, port, address);
  }
}
