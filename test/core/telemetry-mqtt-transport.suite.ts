// The MQTT-over-WebSocket transport's state machine with a scripted
// WebSocket port and virtual time: connect on demand with a freshly signed
// URL, success only on the matching PUBACK, bounded waits, keep-alive,
// refusal codes, malformed input. Broker bytes are hand-written from the
// MQTT 3.1.1 spec.
import type { PortableSuite } from '../harness/portable.js';
import { ManualTimer } from '../harness/fakes.js';
import { MqttWsTransport } from '../../src/telemetry/mqtt-transport.js';
import { MqttDecoder, type MqttPacket } from '../../src/telemetry/mqtt-codec.js';
import type { SendOutcome } from '../../src/telemetry/deps.js';
import type { WebSocketHandlers, WebSocketLink, WebSocketPort } from '../../src/ports.js';
// No TextEncoder on Moddable's XS: these suites also run there (hil --target sim).
import { utf8Bytes, decodeUtf8 as decodeLenient } from '../../src/shared/utf8.js';
const utf8Text = (b: Uint8Array): string => decodeLenient(b, 0, b.length);

class ScriptedWs implements WebSocketPort {
  urls: string[] = [];
  handlers: WebSocketHandlers | null = null;
  /** Packets the transport sent on the current connection, decoded. */
  sent: MqttPacket[] = [];
  closes = 0;
  private decoder = new MqttDecoder(8192);
  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink {
    if (protocol !== 'mqtt') throw new Error('subprotocol must be mqtt');
    this.urls.push(url);
    this.handlers = handlers;
    this.sent = [];
    this.decoder = new MqttDecoder(8192);
    return {
      send: (bytes, start, end) => this.decoder.push(bytes, start, end, (p) => this.sent.push(p.type === 3 ? { ...p, payload: p.payload.slice() } : p)),
      close: () => {
        this.closes++;
      },
    };
  }
  deliver(hex: string): void {
    this.handlers!.onMessage(new Uint8Array(hex.split(' ').map((x) => parseInt(x, 16))));
  }
}

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token', expirationMs: 0 };
const signer = {
  signPublish: () => {
    throw new Error('unused');
  },
  presignMqtt: (_c: unknown, timeMs: number) => `wss://example-ats.iot.us-east-1.amazonaws.com/mqtt?t=${timeMs}`,
};

function setup(keepAliveSeconds = 60) {
  const timer = new ManualTimer();
  const ws = new ScriptedWs();
  const transport = new MqttWsTransport({ ws, timer, signer, clientId: 'dev-1', keepAliveSeconds, connectTimeoutMs: 5000, pubackTimeoutMs: 4000 });
  const outcomes: SendOutcome[] = [];
  const publish = (text: string, timeMs: number) => {
    const b = utf8Bytes(text);
    transport.publish('dt/dev-1/telemetry', b, b.length, { credentials: creds, timeMs }, (o) => outcomes.push(o));
  };
  return { timer, ws, transport, outcomes, publish };
}

const CONNACK_OK = '20 02 00 00';

const suite: PortableSuite = () => [
  {
    name: 'a refused WebSocket upgrade (401/403 on the presigned URL) ends the publish as auth, so credentials are refreshed; other refusals and drops stay retry',
    run(t) {
      for (const [status, kind] of [[403, 'auth'], [401, 'auth'], [503, 'retry'], [undefined, 'retry']] as const) {
        const { ws, outcomes, publish } = setup();
        publish('{}', 1000);
        ws.handlers!.onClose(new Error(`http ${status}`), status);
        t.equal(outcomes.length, 1, `one outcome for upgrade status ${status}`);
        t.equal(outcomes[0]!.kind, kind, `upgrade status ${status}`);
      }
      // After CONNACK the upgrade is long done: a later close is a dropped connection, whatever the port says.
      const { ws, outcomes, publish } = setup();
      publish('{}', 1000);
      ws.deliver('20 02 00 00');
      ws.handlers!.onClose(new Error('http 403'), 403);
      t.equal(outcomes[0]!.kind, 'retry');
    },
  },
  {
    name: 'connects on demand with a presigned URL and succeeds only on the matching PUBACK',
    run(t) {
      const { ws, outcomes, publish } = setup();
      publish('{"a":1}', 1000);
      t.deepEqual(ws.urls, ['wss://example-ats.iot.us-east-1.amazonaws.com/mqtt?t=1000']);
      ws.handlers!.onOpen();
      t.deepEqual(ws.sent, [{ type: 1, clientId: 'dev-1', keepAliveSeconds: 60, cleanSession: true, username: undefined, password: undefined }]);
      ws.deliver(CONNACK_OK);
      t.equal(ws.sent.length, 2);
      const p = ws.sent[1] as { type: number; topic: string; qos: number; packetId: number; payload: Uint8Array };
      t.deepEqual([p.type, p.topic, p.qos, p.packetId], [3, 'dt/dev-1/telemetry', 1, 1]);
      t.deepEqual(utf8Text(p.payload), '{"a":1}');
      t.deepEqual(outcomes, [], 'no success before PUBACK');
      ws.deliver('40 02 00 01');
      t.deepEqual(outcomes, [{ kind: 'ack' }]);
      publish('{"a":2}', 2000);
      t.equal(ws.urls.length, 1, 'same connection reused');
      t.equal((ws.sent[2] as { packetId: number }).packetId, 2);
      ws.deliver('40 02 00 02');
      t.deepEqual(outcomes, [{ kind: 'ack' }, { kind: 'ack' }]);
    },
  },
  {
    name: 'a missing PUBACK times out into retry; the next publish reconnects with a fresh URL',
    run(t) {
      const { timer, ws, outcomes, publish } = setup();
      publish('1', 1000);
      ws.handlers!.onOpen();
      ws.deliver(CONNACK_OK);
      timer.advance(3999);
      t.deepEqual(outcomes, []);
      timer.advance(1);
      t.deepEqual(outcomes, [{ kind: 'retry', reason: 'puback-timeout' }]);
      t.equal(ws.closes, 1);
      ws.deliver('40 02 00 01'); // late PUBACK on the dead connection: ignored
      t.equal(outcomes.length, 1);
      publish('1', 9000);
      t.deepEqual(ws.urls[1], 'wss://example-ats.iot.us-east-1.amazonaws.com/mqtt?t=9000');
    },
  },
  {
    name: 'CONNACK refusals: 4/5 mean credentials, others retry; no CONNACK times out',
    run(t) {
      for (const [rc, kind] of [['05', 'auth'], ['04', 'auth'], ['03', 'retry']] as const) {
        const { ws, outcomes, publish } = setup();
        publish('1', 0);
        ws.handlers!.onOpen();
        ws.deliver(`20 02 00 ${rc}`);
        t.deepEqual(outcomes, [{ kind, reason: `connack-${parseInt(rc, 16)}` }]);
        t.equal(ws.closes, 1);
      }
      const { timer, outcomes, publish } = setup();
      publish('1', 0);
      timer.advance(5000);
      t.deepEqual(outcomes, [{ kind: 'retry', reason: 'connack-timeout' }]);
    },
  },
  {
    name: 'malformed or unexpected broker input drops the connection with retry',
    run(t) {
      for (const [input, reason] of [
        ['20 02 00 09', 'protocol: malformed-packet'],
        ['40 02 00 07', 'protocol: unexpected PUBACK'],
        ['90 03 00 01 00', 'protocol: unsupported-packet'],
      ] as const) {
        const { ws, outcomes, publish } = setup();
        publish('1', 0);
        ws.handlers!.onOpen();
        if (input.startsWith('20')) ws.deliver(input);
        else {
          ws.deliver(CONNACK_OK);
          ws.deliver(input);
        }
        t.deepEqual(outcomes, [{ kind: 'retry', reason }], input);
        t.equal(ws.closes, 1);
      }
    },
  },
  {
    name: 'keep-alive: PINGREQ every interval, a missing PINGRESP drops the connection',
    run(t) {
      const { timer, ws, transport, publish } = setup(30);
      publish('1', 0);
      ws.handlers!.onOpen();
      ws.deliver(CONNACK_OK);
      ws.deliver('40 02 00 01');
      timer.advance(30_000);
      t.equal(ws.sent[ws.sent.length - 1]!.type, 12, 'PINGREQ');
      ws.deliver('d0 00');
      timer.advance(30_000);
      t.ok(transport.connected, 'answered ping keeps the connection');
      timer.advance(30_000);
      t.equal(transport.connected, false, 'unanswered ping drops it');
    },
  },
  {
    name: 'incoming QoS 1 PUBLISH is acknowledged; close() sends DISCONNECT and ends the publish with retry',
    run(t) {
      const { ws, transport, outcomes, publish } = setup();
      publish('1', 0);
      ws.handlers!.onOpen();
      ws.deliver(CONNACK_OK);
      ws.deliver('32 06 00 01 61 00 2a 78'); // PUBLISH QoS 1 topic "a" id 42 payload "x"
      t.deepEqual(ws.sent[ws.sent.length - 1], { type: 4, packetId: 42 });
      transport.close();
      t.deepEqual(ws.sent[ws.sent.length - 1], { type: 14 });
      t.deepEqual(outcomes, [{ kind: 'retry', reason: 'closed' }]);
    },
  },
  {
    name: 'a broken connection before the answer ends the publish with retry',
    run(t) {
      const { ws, outcomes, publish } = setup();
      publish('1', 0);
      ws.handlers!.onOpen();
      ws.deliver(CONNACK_OK);
      ws.handlers!.onClose(new Error('reset'));
      t.deepEqual(outcomes, [{ kind: 'retry', reason: 'connection-error' }]);
    },
  },
];
export default suite;
