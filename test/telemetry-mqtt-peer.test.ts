// Cross-checks the core MQTT 3.1.1 codec and the MQTT-over-WebSocket
// transport against independent peers: the aedes broker and the MQTT.js
// client. Everything listens on 127.0.0.1 with ephemeral ports and is closed
// by the test, also on failure. Every wait has a timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { WebSocketServer, WebSocket, createWebSocketStream } from 'ws';
import {
  CONNACK,
  CONNECT,
  DISCONNECT,
  MqttDecoder,
  PINGREQ,
  PINGRESP,
  PUBACK,
  PUBLISH,
  encodeConnack,
  encodeConnect,
  encodeDisconnect,
  encodePingreq,
  encodePingresp,
  encodePuback,
  encodePublish,
  type MqttPacket,
} from '../src/telemetry/mqtt-codec.js';
import { MqttWsTransport } from '../src/telemetry/mqtt-transport.js';
import type { SendOutcome } from '../src/telemetry/deps.js';
import type { TimerPort, WebSocketHandlers, WebSocketLink, WebSocketPort } from '../src/ports.js';

const TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let handle: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    handle = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(handle));
}

async function startBroker(): Promise<{ broker: Aedes; tcpPort: number; wsPort: number; dropWebSockets: () => void; close: () => Promise<void> }> {
  const broker = await Aedes.createBroker();
  const tcp = net.createServer(broker.handle);
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  wss.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket) as never, req));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const close = async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => tcp.close(() => r()));
    httpServer.closeAllConnections();
    await new Promise<void>((r) => httpServer.close(() => r()));
  };
  const dropWebSockets = () => {
    for (const c of wss.clients) c.terminate();
  };
  return { broker, tcpPort: (tcp.address() as AddressInfo).port, wsPort: (httpServer.address() as AddressInfo).port, dropWebSockets, close };
}

async function subscriber(port: number, topic: string): Promise<{ client: mqtt.MqttClient; messages: Array<{ topic: string; payload: Buffer; qos: number }> }> {
  const messages: Array<{ topic: string; payload: Buffer; qos: number }> = [];
  const client = mqtt.connect({ host: '127.0.0.1', port, protocol: 'mqtt', protocolVersion: 4, reconnectPeriod: 0 });
  client.on('message', (t, payload, packet) => messages.push({ topic: t, payload, qos: packet.qos }));
  await withTimeout(new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  }), 'subscriber connect');
  await withTimeout(client.subscribeAsync(topic, { qos: 1 }), 'subscribe');
  return { client, messages };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < TIMEOUT_MS / 10; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timeout: ${what}`);
}

test('our encoder talks to aedes over TCP; MQTT.js receives what we published', async () => {
  const b = await startBroker();
  const sub = await subscriber(b.tcpPort, 'dt/dev-1/#');
  const socket = net.connect(b.tcpPort, '127.0.0.1');
  try {
    const got: MqttPacket[] = [];
    const decoder = new MqttDecoder(1024);
    socket.on('data', (d: Buffer) => decoder.push(d, 0, d.length, (p) => got.push(p.type === PUBLISH ? { ...p, payload: p.payload.slice() } : p)));
    await withTimeout(new Promise((r) => socket.once('connect', r)), 'tcp connect');
    const out = new Uint8Array(70000);
    socket.write(out.slice(0, encodeConnect(out, { clientId: 'codec-dev-1', keepAliveSeconds: 30, cleanSession: true })));
    await until(() => got.length >= 1, 'CONNACK');
    assert.deepEqual(got[0], { type: CONNACK, sessionPresent: false, returnCode: 0 });
    const payloads = [Buffer.from('{"n":1}'), Buffer.alloc(0), Buffer.from('é✓', 'utf8'), Buffer.alloc(20000, 7)];
    payloads.forEach((p, i) => socket.write(out.slice(0, encodePublish(out, { topic: `dt/dev-1/t${i}`, qos: 1, packetId: 100 + i }, p))));
    socket.write(out.slice(0, encodePingreq(out)));
    await until(() => got.length >= 6, 'PUBACKs and PINGRESP');
    assert.deepEqual(got.slice(1).map((p) => p.type === PUBACK ? p.packetId : p.type), [100, 101, 102, 103, PINGRESP]);
    await until(() => sub.messages.length >= 4, 'subscriber got the messages');
    assert.deepEqual(sub.messages.map((m) => m.topic), ['dt/dev-1/t0', 'dt/dev-1/t1', 'dt/dev-1/t2', 'dt/dev-1/t3']);
    sub.messages.forEach((m, i) => assert.ok(m.payload.equals(payloads[i]!), `payload ${i}`));
    socket.write(out.slice(0, encodeDisconnect(out)));
  } finally {
    socket.destroy();
    await sub.client.endAsync();
    await b.close();
  }
});

test('MQTT.js talks to a server made of our decoder and encoders', async () => {
  const seen: MqttPacket[] = [];
  const server = net.createServer((socket) => {
    const d = new MqttDecoder(4096);
    const out = new Uint8Array(64);
    socket.on('data', (data: Buffer) => {
      d.push(data, 0, data.length, (p) => {
        seen.push(p.type === PUBLISH ? { ...p, payload: p.payload.slice() } : p.type === CONNECT && p.password ? { ...p, password: p.password.slice() } : p);
        if (p.type === CONNECT) socket.write(out.slice(0, encodeConnack(out, false, 0)));
        if (p.type === PUBLISH && p.qos === 1) socket.write(out.slice(0, encodePuback(out, p.packetId)));
        if (p.type === PINGREQ) socket.write(out.slice(0, encodePingresp(out)));
      });
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = mqtt.connect({ host: '127.0.0.1', port, clientId: 'mqttjs-1', username: 'user', password: 'pw', keepalive: 1, protocolVersion: 4, reconnectPeriod: 0, clean: true });
  try {
    await withTimeout(new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    }), 'MQTT.js accepted our CONNACK');
    await withTimeout(client.publishAsync('a/b', Buffer.from('hello'), { qos: 1 }), 'MQTT.js accepted our PUBACK');
    await withTimeout(client.publishAsync('a/é', Buffer.from([0, 255]), { qos: 0, retain: true }), 'QoS 0');
    await until(() => seen.some((p) => p.type === PINGREQ), 'MQTT.js pings after keepalive');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(client.connected, 'MQTT.js accepted our PINGRESP and stays connected');
    await withTimeout(client.endAsync(), 'end');
    await until(() => seen.some((p) => p.type === DISCONNECT), 'DISCONNECT');
    const connect = seen.find((p) => p.type === CONNECT);
    assert.deepEqual(connect, { type: CONNECT, clientId: 'mqttjs-1', keepAliveSeconds: 1, cleanSession: true, username: 'user', password: new Uint8Array(Buffer.from('pw')) });
    const pubs = seen.filter((p) => p.type === PUBLISH);
    assert.equal(pubs.length, 2);
    assert.deepEqual(pubs[0], { type: PUBLISH, topic: 'a/b', qos: 1, dup: false, retain: false, packetId: (pubs[0] as { packetId: number }).packetId, payload: new Uint8Array(Buffer.from('hello')) });
    assert.ok((pubs[0] as { packetId: number }).packetId >= 1);
    assert.deepEqual(pubs[1], { type: PUBLISH, topic: 'a/é', qos: 0, dup: false, retain: true, packetId: 0, payload: new Uint8Array([0, 255]) });
  } finally {
    client.end(true);
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** Node WebSocket port for the core transport (binary frames, async callbacks). */
class NodeWsPort implements WebSocketPort {
  urls: string[] = [];
  sockets: WebSocket[] = [];
  connect(url: string, protocol: string, h: WebSocketHandlers): WebSocketLink {
    this.urls.push(url);
    const ws = new WebSocket(url, protocol);
    this.sockets.push(ws);
    ws.binaryType = 'nodebuffer';
    let closed = false;
    ws.on('open', () => h.onOpen());
    ws.on('message', (data: Buffer) => h.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.length)));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (!closed) {
        closed = true;
        h.onClose(null);
      }
    });
    return {
      send: (bytes, start, end) => ws.send(bytes.slice(start, end)),
      close: () => {
        closed = true;
        ws.terminate();
      },
    };
  }
}

const nodeTimer: TimerPort = { set: (cb, ms) => setTimeout(cb, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) };

test('core MQTT-over-WebSocket transport: PUBACK before success, fresh URL after a dropped connection', async () => {
  const b = await startBroker();
  const sub = await subscriber(b.tcpPort, 'dt/dev-ws/#');
  const port = new NodeWsPort();
  let signs = 0;
  const signer = {
    signPublish: () => {
      throw new Error('not used');
    },
    presignMqtt: (_c: unknown, timeMs: number) => {
      signs++;
      return `ws://127.0.0.1:${b.wsPort}/mqtt?t=${timeMs}`;
    },
  };
  const transport = new MqttWsTransport({ ws: port, timer: nodeTimer, signer, clientId: 'dev-ws', keepAliveSeconds: 30, pubackTimeoutMs: 2000, connectTimeoutMs: 2000 });
  const auth = (timeMs: number) => ({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs });
  const send = (body: string, timeMs: number) =>
    withTimeout(new Promise<SendOutcome>((resolve) => {
      const bytes = Buffer.from(body);
      transport.publish('dt/dev-ws/telemetry', bytes, bytes.length, auth(timeMs), resolve);
    }), 'publish outcome');
  try {
    assert.deepEqual(await send('{"a":1}', 1000), { kind: 'ack' });
    assert.deepEqual(await send('{"a":2}', 2000), { kind: 'ack' });
    assert.equal(port.urls.length, 1, 'one connection for both');
    // The broker drops us: the next publish reconnects with a freshly signed URL.
    b.dropWebSockets();
    await until(() => !transport.connected, 'transport noticed the close');
    assert.deepEqual(await send('{"a":3}', 3000), { kind: 'ack' });
    assert.deepEqual(port.urls, [`ws://127.0.0.1:${b.wsPort}/mqtt?t=1000`, `ws://127.0.0.1:${b.wsPort}/mqtt?t=3000`]);
    assert.equal(signs, 2);
    await until(() => sub.messages.length >= 3, `subscriber got all three (${sub.messages.map((m) => m.payload.toString()).join(' ')})`);
    assert.deepEqual(sub.messages.map((m) => m.payload.toString()), ['{"a":1}', '{"a":2}', '{"a":3}']);
    // A broker that never answers: the publish ends in 'retry' after the PUBACK timeout.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'mqtt' });
    await new Promise((r) => silent.once('listening', r));
    const silentUrl = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/mqtt`;
    const t2 = new MqttWsTransport({ ws: port, timer: nodeTimer, signer: null, url: silentUrl, clientId: 'dev-x', connectTimeoutMs: 300 });
    const outcome = await withTimeout(new Promise<SendOutcome>((resolve) => t2.publish('x', Buffer.from('1'), 1, auth(0), resolve)), 'silent broker');
    assert.deepEqual(outcome, { kind: 'retry', reason: 'connack-timeout' });
    for (const c of silent.clients) c.terminate();
    await new Promise<void>((r) => silent.close(() => r()));
  } finally {
    transport.close();
    for (const s of port.sockets) s.terminate();
    await sub.client.endAsync();
    await b.close();
  }
});

test('uploader over MQTT-over-WebSocket to aedes: every record delivered at least once across dropped connections', async () => {
  const { MemoryFlash } = await import('./harness/memory-flash.js');
  const { PersistentQueue } = await import('../src/telemetry/queue.js');
  const { Uploader } = await import('../src/telemetry/uploader.js');
  const { FakeClock, ManualTimer } = await import('./harness/fakes.js');
  const { randomFillSync } = await import('node:crypto');
  const b = await startBroker();
  const sub = await subscriber(b.tcpPort, 'dt/dev-up/#');
  const port = new NodeWsPort();
  const transport = new MqttWsTransport({ ws: port, timer: nodeTimer, signer: null, url: `ws://127.0.0.1:${b.wsPort}/mqtt`, clientId: 'dev-up', pubackTimeoutMs: 2000, connectTimeoutMs: 2000, maxPublishBytes: 2048 });
  const clock = new FakeClock(new ManualTimer());
  const WALL = Date.UTC(2026, 10, 22, 12, 0, 0);
  clock.set('SYNCED', WALL, 500);
  const queue = new PersistentQueue(new MemoryFlash({ blockSize: 2048, blockCount: 8 }), { whenFull: 'drop-oldest' });
  const up = new Uploader({
    deviceId: 'dev-up',
    streams: [{ name: 'telemetry', queue, topic: 'dt/dev-up/telemetry' }],
    transport,
    clock,
    credentials: { current: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's', sessionToken: 't', expirationMs: WALL + 3_600_000 }), refresh: () => undefined },
    timer: nodeTimer,
    random: { strong: true, fill: (bytes) => void randomFillSync(bytes) },
    maxPublishBytes: 2048,
    maxRecordsPerPublish: 8,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    healthIntervalMs: 0,
  });
  const TOTAL = 120;
  try {
    up.start();
    for (let i = 0; i < TOTAL; i++) {
      up.append('telemetry', Buffer.from(JSON.stringify({ i })));
      if (i % 40 === 20) {
        await new Promise((r) => setTimeout(r, 30));
        b.dropWebSockets(); // the broker side goes away mid-stream
      }
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => queue.depth === 0, 'queue drained');
    const seen = new Map<number, number>();
    await until(() => {
      seen.clear();
      for (const m of sub.messages) {
        const env = JSON.parse(m.payload.toString()) as { device: string; stream: string; records: Array<{ seq: number; data: { i: number } }> };
        assert.equal(env.device, 'dev-up');
        for (const r of env.records) {
          assert.equal(r.data.i, r.seq, 'payload matches its sequence number');
          seen.set(r.seq, (seen.get(r.seq) ?? 0) + 1);
        }
      }
      return seen.size === TOTAL;
    }, 'every record reached the subscriber');
    const h = up.health();
    assert.equal(h.acked, TOTAL);
    assert.ok(port.urls.length >= 2, 'reconnected after the drops');
    let duplicates = 0;
    for (const n of seen.values()) duplicates += n - 1;
    assert.ok(duplicates <= h.sent - h.acked, `duplicates (${duplicates}) only from publishes not acknowledged (${h.sent - h.acked})`);
  } finally {
    up.stop();
    for (const s of port.sockets) s.terminate();
    await sub.client.endAsync();
    await b.close();
  }
});
