// MQTT 3.1.1 codec: expected bytes are worked out by hand from the OASIS
// MQTT 3.1.1 specification (sections 2.2.3 remaining length, 3.1 CONNECT,
// 3.3 PUBLISH, 3.4 PUBACK, 3.12-3.14), not produced by our encoder. The
// cross-check against MQTT.js and aedes is test/telemetry-mqtt-peer.test.ts.
import type { PortableSuite } from '../harness/portable.js';
import {
  MqttDecoder,
  encodeConnack,
  encodeConnect,
  encodeDisconnect,
  encodePingreq,
  encodePingresp,
  encodePuback,
  encodePublish,
  publishLength,
  type MqttPacket,
} from '../../src/telemetry/mqtt-codec.js';
import { MqttError } from '../../src/telemetry/errors.js';

const hex = (s: string): number[] => s.split(' ').filter((x) => x).map((x) => parseInt(x, 16));
const bytesOf = (s: string): Uint8Array => new Uint8Array(hex(s));
const enc = (f: (out: Uint8Array) => number): number[] => {
  const out = new Uint8Array(512);
  return Array.from(out.subarray(0, f(out)));
};
const isCode = (code: string) => (e: unknown) => e instanceof MqttError && e.code === code;

function decodeAll(input: Uint8Array, split: number, max = 1024): MqttPacket[] {
  const d = new MqttDecoder(max);
  const got: MqttPacket[] = [];
  for (let i = 0; i < input.length; i += split) {
    d.push(input, i, Math.min(input.length, i + split), (p) => {
      got.push(p.type === 3 ? { ...p, payload: p.payload.slice() } : p);
    });
  }
  return got;
}

const CONNECT_DEV1 = '10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 64 65 76 31';
const PUBLISH_AB = '32 09 00 03 61 2f 62 00 0a 68 69';

const suite: PortableSuite = () => [
  {
    name: 'encoders produce the bytes the specification prescribes',
    run(t) {
      t.deepEqual(enc((o) => encodeConnect(o, { clientId: 'dev1', keepAliveSeconds: 60, cleanSession: true })), hex(CONNECT_DEV1));
      t.deepEqual(
        enc((o) => encodeConnect(o, { clientId: 'd', keepAliveSeconds: 0, cleanSession: false, username: 'u', password: new Uint8Array([0xff]) })),
        hex('10 13 00 04 4d 51 54 54 04 c0 00 00 00 01 64 00 01 75 00 01 ff'),
      );
      t.deepEqual(enc((o) => encodePublish(o, { topic: 'a/b', qos: 1, packetId: 10 }, new Uint8Array([0x68, 0x69]))), hex(PUBLISH_AB));
      t.deepEqual(enc((o) => encodePublish(o, { topic: 'a', qos: 0, retain: true }, new Uint8Array(0))), hex('31 03 00 01 61'));
      t.deepEqual(enc((o) => encodePublish(o, { topic: 'a', qos: 1, packetId: 0x1234, dup: true }, new Uint8Array(0))), hex('3a 05 00 01 61 12 34'));
      t.deepEqual(enc((o) => encodePuback(o, 10)), hex('40 02 00 0a'));
      t.deepEqual(enc((o) => encodeConnack(o, false, 0)), hex('20 02 00 00'));
      t.deepEqual(enc(encodePingreq), hex('c0 00'));
      t.deepEqual(enc(encodePingresp), hex('d0 00'));
      t.deepEqual(enc(encodeDisconnect), hex('e0 00'));
      t.deepEqual(enc((o) => encodePublish(o, { topic: 'é', qos: 0 }, new Uint8Array(0))), hex('30 04 00 02 c3 a9'), 'topic in UTF-8');
    },
  },
  {
    name: 'remaining length uses the shortest form at the 1/2/3-byte edges (spec table 2.4)',
    run(t) {
      const out = new Uint8Array(20000);
      // PUBLISH QoS 1, topic "t": remaining = 2 + 1 + 2 + payload.
      const cases: Array<[number, number[]]> = [
        [127, [0x7f]],
        [128, [0x80, 0x01]],
        [16383, [0xff, 0x7f]],
        [16384, [0x80, 0x80, 0x01]],
      ];
      for (const [remaining, field] of cases) {
        const n = encodePublish(out, { topic: 't', qos: 1, packetId: 1 }, new Uint8Array(remaining - 5));
        t.deepEqual(Array.from(out.subarray(1, 1 + field.length)), field, `remaining ${remaining}`);
        t.equal(n, 1 + field.length + remaining);
        t.equal(publishLength('t', 1, remaining - 5), n);
      }
    },
  },
  {
    name: 'decoder handles bytes split anywhere and coalesced packets',
    run(t) {
      const stream = bytesOf(`${PUBLISH_AB} 40 02 00 0a 20 02 01 00 d0 00 ${CONNECT_DEV1}`);
      for (const split of [1, 2, 3, 7, stream.length]) {
        const got = decodeAll(stream, split);
        t.equal(got.length, 5, `split ${split}`);
        t.deepEqual(got[0], { type: 3, topic: 'a/b', qos: 1, dup: false, retain: false, packetId: 10, payload: new Uint8Array([0x68, 0x69]) });
        t.deepEqual(got[1], { type: 4, packetId: 10 });
        t.deepEqual(got[2], { type: 2, sessionPresent: true, returnCode: 0 });
        t.deepEqual(got[3], { type: 13 });
        t.deepEqual(got[4], { type: 1, clientId: 'dev1', keepAliveSeconds: 60, cleanSession: true, username: undefined, password: undefined });
      }
    },
  },
  {
    name: 'malformed input is a typed error and poisons the decoder',
    run(t) {
      const bad: Array<[string, string]> = [
        ['20 02 02 00', 'malformed-packet'], // CONNACK reserved bit
        ['20 02 00 06', 'malformed-packet'], // CONNACK return code 6
        ['20 02 01 05', 'malformed-packet'], // session present with refusal
        ['20 03 00 00 00', 'malformed-packet'], // CONNACK length
        ['41 02 00 0a', 'malformed-packet'], // PUBACK flags
        ['40 02 00 00', 'malformed-packet'], // PUBACK id 0
        ['36 05 00 01 61 00 01', 'malformed-packet'], // PUBLISH QoS 3
        ['38 03 00 01 61', 'malformed-packet'], // DUP on QoS 0
        ['32 05 00 01 61 00 00', 'malformed-packet'], // QoS 1 id 0
        ['30 03 00 01 23', 'malformed-packet'], // topic '#'
        ['30 04 00 02 c0 80', 'malformed-packet'], // overlong UTF-8
        ['30 04 00 02 ed a0', 'malformed-packet'], // truncated / surrogate
        ['30 03 00 05 61', 'malformed-packet'], // string longer than packet
        ['30 03 00 01 00', 'malformed-packet'], // U+0000 in topic
        ['c0 80 00', 'malformed-packet'], // overlong remaining length
        ['30 ff ff ff ff 01', 'malformed-packet'], // 5-byte remaining length
        ['c1 00', 'malformed-packet'], // PINGREQ flags
        ['d0 01 00', 'malformed-packet'], // PINGRESP with a body
        ['00 00', 'malformed-packet'], // reserved type 0
        ['f0 00', 'malformed-packet'], // reserved type 15
        ['90 03 00 01 00', 'unsupported-packet'], // SUBACK
        ['34 05 00 01 61 00 01', 'unsupported-packet'], // QoS 2
        ['10 0c 00 04 4d 51 54 54 05 02 00 3c 00 00', 'unsupported-protocol'], // MQTT 5
        ['10 0c 00 04 4d 51 54 54 04 03 00 3c 00 00', 'malformed-packet'], // reserved connect flag
        ['10 0c 00 04 4d 51 54 54 04 42 00 3c 00 00', 'malformed-packet'], // password without username
        ['10 0d 00 04 4d 51 54 54 04 02 00 3c 00 00 ff', 'malformed-packet'], // trailing byte
      ];
      for (const [input, code] of bad) {
        const d = new MqttDecoder(64);
        const b = bytesOf(input);
        t.throws(() => d.push(b, 0, b.length, () => undefined), isCode(code), input);
        t.throws(() => d.push(bytesOf('d0 00'), 0, 2, () => undefined), isCode('decoder-failed'), `${input}: poisoned`);
      }
      const d = new MqttDecoder(16);
      const big = new Uint8Array(40);
      const n = encodePublish(big, { topic: 't', qos: 0 }, new Uint8Array(20));
      t.throws(() => d.push(big, 0, n, () => undefined), isCode('packet-too-large'), 'above maxPacketBytes');
    },
  },
  {
    name: 'encoders refuse bad arguments with typed errors',
    run(t) {
      const out = new Uint8Array(64);
      t.throws(() => encodePublish(out, { topic: 'a/+', qos: 0 }, new Uint8Array(0)), isCode('bad-argument'));
      t.throws(() => encodePublish(out, { topic: '', qos: 0 }, new Uint8Array(0)), isCode('bad-argument'));
      t.throws(() => encodePublish(out, { topic: 'a', qos: 1 }, new Uint8Array(0)), isCode('bad-argument'), 'QoS 1 without id');
      t.throws(() => encodePublish(out, { topic: 'a', qos: 1, packetId: 65536 }, new Uint8Array(0)), isCode('bad-argument'));
      t.throws(() => encodePublish(out, { topic: 'a', qos: 0, dup: true }, new Uint8Array(0)), isCode('bad-argument'));
      t.throws(() => encodePublish(out, { topic: 'a', qos: 0 }, new Uint8Array(100)), isCode('buffer-too-small'));
      t.throws(() => encodePublish(out, { topic: '\ud800', qos: 0 }, new Uint8Array(0)), (e) => (e as { code?: string }).code === 'bad-utf16');
      t.throws(() => encodeConnect(out, { clientId: 'x', keepAliveSeconds: 70000, cleanSession: true }), isCode('bad-argument'));
      t.throws(() => encodeConnect(out, { clientId: 'x', keepAliveSeconds: 1, cleanSession: true, password: new Uint8Array(1) }), isCode('bad-argument'));
      t.throws(() => encodePuback(out, 0), isCode('bad-argument'));
    },
  },
];
export default suite;
