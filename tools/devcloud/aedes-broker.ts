// aedes embedded in this process: a TCP listener for test clients, and the
// gateway's verified WebSocket streams fed to the same broker.
import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import { MAX_BROKER_CONNECTIONS, type Broker, type BrokerOptions } from './broker.js';

export class AedesBroker implements Broker {
  readonly kind = 'aedes' as const;
  private readonly sockets = new Set<Socket | Duplex>();
  private readonly viaWebSocket = new WeakSet<Client>();
  private stopped = false;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(options: BrokerOptions): Promise<AedesBroker> {
    const aedes = await Aedes.createBroker({ id: 'devcloud' });
    const server = createServer();
    server.maxConnections = MAX_BROKER_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    const broker = new AedesBroker(aedes, server, options.host, port);
    server.on('connection', (socket) => {
      broker.track(socket);
      aedes.handle(socket);
    });
    aedes.on('publish', (packet, client) => {
      // client is null for the broker's own publishes ($SYS, and ours from HTTPS).
      if (client === null || client === undefined) return;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      options.onMessage(packet.topic, packet.qos, payload, client.id ?? null, broker.viaWebSocket.has(client) ? 'mqtt' : 'broker');
    });
    // A misbehaving client must not take the dev cloud down.
    aedes.on('clientError', () => {});
    aedes.on('connectionError', () => {});
    return broker;
  }

  private track(s: Socket | Duplex): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  attach(stream: Duplex, request: IncomingMessage): void {
    if (this.stopped || this.sockets.size >= MAX_BROKER_CONNECTIONS) {
      stream.destroy();
      return;
    }
    this.track(stream);
    const client = this.aedes.handle(stream, request);
    this.viaWebSocket.add(client);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}
