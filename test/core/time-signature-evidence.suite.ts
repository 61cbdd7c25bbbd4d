// The transports tell the clock when the cloud accepted a SigV4 signature
// (TimeAuthority.acceptedSignature), and only then: a 2xx HTTPS answer, a
// CONNACK 0 on a presigned MQTT URL. Refusals, network errors and unsigned
// connections are no evidence. Last, the whole chain with the real
// SecureClock: an accepted signature raises its floor.
import type { PortableSuite } from '../harness/portable.js';
import { HttpsPublishTransport } from '../../src/telemetry/https-transport.js';
import { MqttWsTransport } from '../../src/telemetry/mqtt-transport.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import type { HttpResponse, WebSocketHandlers, WebSocketPort } from '../../src/ports.js';
import { FakeClock, ManualTicks, ManualTimer } from '../harness/fakes.js';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token', expirationMs: 0 };
const signer = {
  signPublish: (_c: unknown, topic: string) => ({ path: `/topics/${topic}?qos=1`, headers: [['host', 'data.example']] as Array<[string, string]> }),
  presignMqtt: (_c: unknown, timeMs: number) => `wss://data.example/mqtt?t=${timeMs}`,
};
const body = new Uint8Array([123, 125]);

function httpsRig(clock: { acceptedSignature(ms: number): void } & Record<string, unknown>) {
  let answer: ((e: Error | null, r: HttpResponse | null) => void) | null = null;
  const transport = new HttpsPublishTransport({
    http: {
      request(_req, cb) {
        answer = cb;
        return { cancel: () => (answer = null) };
      },
    },
    signer,
    host: 'data.example',
    clock: clock as never,
    timer: new ManualTimer(),
  });
  const send = (timeMs: number, status: number | null) => {
    transport.publish('dt/x', body, body.length, { credentials: creds, timeMs }, () => {});
    const a = answer!;
    answer = null;
    if (status === null) a(new Error('reset'), null);
    else a(null, { status, headers: [], body: new Uint8Array(0) });
  };
  return send;
}

class ScriptedWs implements WebSocketPort {
  handlers: WebSocketHandlers | null = null;
  connect(_url: string, _protocol: string, handlers: WebSocketHandlers) {
    this.handlers = handlers;
    return { send: () => {}, close: () => {} };
  }
  deliver(bytes: number[]): void {
    this.handlers!.onMessage(new Uint8Array(bytes));
  }
}

const CONNACK_OK = [0x20, 0x02, 0x00, 0x00];
const CONNACK_NOT_AUTHORIZED = [0x20, 0x02, 0x00, 0x05];

const suite: PortableSuite = () => [
  {
    name: 'HTTPS: a 2xx reports the signing time as accepted; 403, 500 and network errors do not',
    run(t) {
      const clock = new FakeClock(new ManualTimer());
      const send = httpsRig(clock as never);
      send(1000, 200);
      send(2000, 403);
      send(3000, 500);
      send(4000, null);
      send(5000, 204);
      t.deepEqual(clock.acceptedSignatures, [1000, 5000]);
    },
  },
  {
    name: 'MQTT: CONNACK 0 on a presigned URL reports the presign time; a refused CONNACK or an unsigned URL does not',
    run(t) {
      const timer = new ManualTimer();
      const clock = new FakeClock(timer);
      const ws = new ScriptedWs();
      const transport = new MqttWsTransport({ ws, timer, signer, clientId: 'dev-1', clock });
      transport.publish('dt/x', body, body.length, { credentials: creds, timeMs: 7000 }, () => {});
      ws.handlers!.onOpen();
      ws.deliver(CONNACK_NOT_AUTHORIZED);
      t.deepEqual(clock.acceptedSignatures, [], 'refused: no evidence');
      transport.publish('dt/x', body, body.length, { credentials: creds, timeMs: 8000 }, () => {});
      ws.handlers!.onOpen();
      ws.deliver(CONNACK_OK);
      t.deepEqual(clock.acceptedSignatures, [8000]);

      const plainClock = new FakeClock(timer);
      const plainWs = new ScriptedWs();
      const plain = new MqttWsTransport({ ws: plainWs, timer, signer: null, url: 'ws://127.0.0.1/mqtt', clientId: 'dev-2', clock: plainClock });
      plain.publish('dt/x', body, body.length, { credentials: creds, timeMs: 9000 }, () => {});
      plainWs.handlers!.onOpen();
      plainWs.deliver(CONNACK_OK);
      t.deepEqual(plainClock.acceptedSignatures, [], 'nothing was signed');
    },
  },
  {
    name: 'HTTPS into the real SecureClock: an accepted publish signed at T raises the (trusted) clock\'s floor to T - 5 min',
    run(t) {
      const wall0 = 1_800_000_000_000;
      const ticks = new ManualTicks(1000, 0, 0);
      const clock = new SecureClock({ ticks, buildTimeMs: wall0 - 3_600_000 });
      const send = httpsRig(clock as never);
      ticks.raw = 1000;
      send(wall0 + 1000, 403);
      t.equal(clock.floor.floorMs, wall0 - 3_600_000 + 998, 'a refusal: only uptime (1000 ms less 50 ppm and a tick)');
      // The floor follows authenticated evidence only as far as a trusted clock agrees: sync it first.
      for (const src of ['a', 'b', 'c']) clock.addSample(src, wall0 - 5, wall0 + 5, ticks.raw);
      t.ok(clock.select(), 'synced');
      send(wall0 + 1000, 200);
      t.equal(clock.floor.floorMs, wall0 + 1000 - 300_000 - 1, 'signing time - 5 min, less a tick');
    },
  },
];
export default suite;
