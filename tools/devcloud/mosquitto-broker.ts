// Debian's mosquitto as the broker, started as a child process on a loopback
// TCP port. Quirks (see ../shared/notes/platform-facts.md): mosquitto
// 2.0.11's WebSocket listener ignores its bind address, so we never configure
// one: the gateway terminates WebSocket itself and pipes each verified stream
// to mosquitto's TCP listener. The gateway publishes HTTPS messages and
// watches everyone else's through one internal MQTT 5 client that subscribes
// to `#` with No Local (so it does not see its own publishes).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import { MAX_BROKER_CONNECTIONS, MAX_MQTT_PACKET_BYTES, type Broker, type BrokerOptions } from './broker.js';
import { DevCloudError } from './errors.js';

/** How long mosquitto may take to accept its first connection. */
export const MOSQUITTO_START_TIMEOUT_MS = 5_000;
const START_POLL_MS = 50;
/** How long to wait for mosquitto to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2_000;

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The mosquitto executable: $DEVCLOUD_MOSQUITTO, else the first `mosquitto` on
 * PATH or in the sbin directories Debian installs it to (often not on a
 * non-root user's PATH). Null when there is none.
 */
export function findMosquitto(): string | null {
  const env = process.env.DEVCLOUD_MOSQUITTO;
  if (env) return existsSync(env) ? env : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, 'mosquitto'))) return join(d, 'mosquitto');
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MosquittoBroker implements Broker {
  readonly kind = 'mosquitto' as const;
  private readonly bridges = new Set<Duplex>();
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly client: MqttClient,
    private readonly dir: string,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(options: BrokerOptions): Promise<MosquittoBroker> {
    const binary = findMosquitto();
    if (binary === null) throw new DevCloudError('BROKER_START_FAILED', 'mosquitto not found (install the Debian package mosquitto, or set DEVCLOUD_MOSQUITTO)');
    const port = options.port === 0 ? await freePort(options.host) : options.port;
    const dir = await mkdtemp(join(tmpdir(), 'devcloud-mosquitto-'));
    const conf = join(dir, 'mosquitto.conf');
    await writeFile(
      conf,
      [
        `listener ${port} ${options.host}`,
        'allow_anonymous true',
        'persistence false',
        `max_connections ${MAX_BROKER_CONNECTIONS}`,
        `max_packet_size ${MAX_MQTT_PACKET_BYTES}`,
        'log_dest stderr',
        'log_type error',
        '',
      ].join('\n'),
    );
    const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    let up = false;
    for (let waited = 0; waited < MOSQUITTO_START_TIMEOUT_MS && child.exitCode === null; waited += START_POLL_MS) {
      const r = await Promise.race([canConnect(options.host, port), spawnError.then(() => false)]);
      if (r) {
        up = true;
        break;
      }
      await sleep(START_POLL_MS);
    }
    if (!up) {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new DevCloudError('BROKER_START_FAILED', `mosquitto did not start on ${options.host}:${port}: ${stderr.trim() || 'no output (is the mosquitto package installed?)'}`);
    }
    const client = await connectAsync({ host: options.host, port, protocolVersion: 5, clientId: `devcloud-gateway-${process.pid}`, reconnectPeriod: 1000, connectTimeout: MOSQUITTO_START_TIMEOUT_MS });
    client.on('message', (topic, payload, packet) => options.onMessage(topic, packet.qos, payload, null, 'broker'));
    await client.subscribeAsync('#', { qos: 1, nl: true });
    return new MosquittoBroker(child, client, dir, options.host, port);
  }

  async publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos });
  }

  attach(stream: Duplex, _request: IncomingMessage): void {
    if (this.stopped || this.bridges.size >= MAX_BROKER_CONNECTIONS) {
      stream.destroy();
      return;
    }
    const tcp = tcpConnect(this.port, this.host);
    this.bridges.add(stream);
    const close = () => {
      stream.destroy();
      tcp.destroy();
      this.bridges.delete(stream);
    };
    stream.on('error', close).on('close', close);
    tcp.on('error', close).on('close', close);
    stream.pipe(tcp).pipe(stream);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.bridges) s.destroy();
    await this.client.endAsync(true).catch(() => {});
    if (this.child.exitCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(t);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
