// A small, bounded MQTT 3.1.1 codec (OASIS MQTT 3.1.1, sections 2-3): the
// packets a QoS 1 publisher needs, in both directions so that tests can play
// either side. Encoders write into caller-provided buffers; the decoder owns
// one buffer of maxPacketBytes and rejects anything malformed with a typed
// MqttError (after which the connection must be closed: the decoder refuses
// further input).
//
// Supported: CONNECT, CONNACK, PUBLISH (QoS 0/1), PUBACK, PINGREQ, PINGRESP,
// DISCONNECT. Anything else (QoS 2 flows, SUBSCRIBE...) is 'unsupported-packet'.
import { MqttError, TelemetryError } from './errors.js';
import { decodeUtf8, encodeUtf8Into, utf8Length, UTF8_LONE_SURROGATE } from '../shared/utf8.js';

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** Largest value of the variable-length "remaining length" field (4 bytes). */
export const MAX_REMAINING_LENGTH = 268_435_455;
/** Decoder buffer default: one AWS IoT Core message (128 KiB) is the ceiling, devices use less. */
export const DEFAULT_MAX_PACKET_BYTES = 8 * 1024;
/** AWS IoT Core's message size limit (payload), the hard ceiling for maxPacketBytes. */
export const IOT_MAX_MESSAGE_BYTES = 128 * 1024;
/** Strings in MQTT are u16-length prefixed. */
export const MAX_STRING_BYTES = 0xffff;

export interface ConnectOptions {
  clientId: string;
  keepAliveSeconds: number;
  cleanSession: boolean;
  username?: string | undefined;
  password?: Uint8Array | undefined;
}

export interface ConnectPacket extends ConnectOptions {
  type: typeof CONNECT;
}
export interface ConnackPacket {
  type: typeof CONNACK;
  sessionPresent: boolean;
  returnCode: number;
}
export interface PublishPacket {
  type: typeof PUBLISH;
  topic: string;
  qos: 0 | 1;
  dup: boolean;
  retain: boolean;
  /** 0 for QoS 0. */
  packetId: number;
  /** Valid only during the onPacket call (a view of the decoder's buffer). */
  payload: Uint8Array;
}
export interface PubackPacket {
  type: typeof PUBACK;
  packetId: number;
}
export interface EmptyPacket {
  type: typeof PINGREQ | typeof PINGRESP | typeof DISCONNECT;
}
export type MqttPacket = ConnectPacket | ConnackPacket | PublishPacket | PubackPacket | EmptyPacket;

// ---------- encoding ----------

function remainingLengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Writes the fixed header; returns the offset of the variable header. */
function fixedHeader(out: Uint8Array, first: number, remaining: number): number {
  if (remaining > MAX_REMAINING_LENGTH) throw new MqttError('packet-too-large', 'remaining length above 268435455');
  const total = 1 + remainingLengthBytes(remaining) + remaining;
  if (total > out.length) throw new MqttError('buffer-too-small', `packet needs ${total} bytes`);
  out[0] = first;
  let o = 1;
  let x = remaining;
  do {
    let digit = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) digit |= 0x80;
    out[o++] = digit;
  } while (x > 0);
  return o;
}

function putU16(out: Uint8Array, o: number, v: number): number {
  out[o] = v >>> 8;
  out[o + 1] = v & 0xff;
  return o + 2;
}

/** MQTT forbids a lone surrogate (it has no UTF-8 form): refused, never replaced. */
function loneSurrogate(): TelemetryError {
  return new TelemetryError('bad-utf16', 'lone surrogate in string');
}

function stringBytes(text: string, what: string): number {
  const n = utf8Length(text);
  if (n === UTF8_LONE_SURROGATE) throw loneSurrogate();
  if (n > MAX_STRING_BYTES) throw new MqttError('bad-argument', `${what} longer than 65535 bytes`);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0) throw new MqttError('bad-argument', `${what} contains U+0000`);
  return n;
}

function putString(out: Uint8Array, o: number, text: string, n: number): number {
  putU16(out, o, n);
  const end = encodeUtf8Into(text, 0, text.length, out, o + 2, out.length);
  if (end === UTF8_LONE_SURROGATE) throw loneSurrogate();
  if (end < 0) throw new RangeError('encodeUtf8: output buffer too small (check with utf8Length first)');
  return end;
}

function checkTopicName(topic: string): number {
  const n = stringBytes(topic, 'topic');
  if (n === 0) throw new MqttError('bad-argument', 'empty topic');
  if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) throw new MqttError('bad-argument', 'wildcard in a topic name');
  return n;
}

function checkPacketId(id: number): void {
  if (!(Number.isInteger(id) && id >= 1 && id <= 0xffff)) throw new MqttError('bad-argument', 'packet id must be in [1, 65535]');
}

export function encodeConnect(out: Uint8Array, options: ConnectOptions): number {
  const { clientId, keepAliveSeconds, cleanSession, username, password } = options;
  if (!(Number.isInteger(keepAliveSeconds) && keepAliveSeconds >= 0 && keepAliveSeconds <= 0xffff)) {
    throw new MqttError('bad-argument', 'keepAliveSeconds must be in [0, 65535]');
  }
  if (password !== undefined && username === undefined) throw new MqttError('bad-argument', 'a password needs a username');
  if (password !== undefined && password.length > MAX_STRING_BYTES) throw new MqttError('bad-argument', 'password too long');
  const idLen = stringBytes(clientId, 'clientId');
  if (idLen === 0 && !cleanSession) throw new MqttError('bad-argument', 'an empty clientId needs cleanSession');
  const userLen = username === undefined ? 0 : stringBytes(username, 'username');
  const remaining = 10 + 2 + idLen + (username === undefined ? 0 : 2 + userLen) + (password === undefined ? 0 : 2 + password.length);
  let o = fixedHeader(out, CONNECT << 4, remaining);
  o = putString(out, o, 'MQTT', 4);
  out[o++] = 4; // protocol level 3.1.1
  out[o++] = (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0) | (cleanSession ? 0x02 : 0);
  o = putU16(out, o, keepAliveSeconds);
  o = putString(out, o, clientId, idLen);
  if (username !== undefined) o = putString(out, o, username, userLen);
  if (password !== undefined) {
    o = putU16(out, o, password.length);
    out.set(password, o);
    o += password.length;
  }
  return o;
}

export function encodeConnack(out: Uint8Array, sessionPresent: boolean, returnCode: number): number {
  if (!(Number.isInteger(returnCode) && returnCode >= 0 && returnCode <= 5)) throw new MqttError('bad-argument', 'return code must be in [0, 5]');
  const o = fixedHeader(out, CONNACK << 4, 2);
  out[o] = sessionPresent && returnCode === 0 ? 1 : 0;
  out[o + 1] = returnCode;
  return o + 2;
}

export interface PublishOptions {
  topic: string;
  qos: 0 | 1;
  /** Required (1..65535) for QoS 1, ignored for QoS 0. */
  packetId?: number;
  dup?: boolean;
  retain?: boolean;
}

/** Length of the PUBLISH packet for a payload of `payloadLength` bytes. */
export function publishLength(topic: string, qos: 0 | 1, payloadLength: number): number {
  const remaining = 2 + checkTopicName(topic) + (qos ? 2 : 0) + payloadLength;
  return 1 + remainingLengthBytes(remaining) + remaining;
}

export function encodePublish(out: Uint8Array, options: PublishOptions, payload: Uint8Array, start = 0, end = payload.length): number {
  const { topic, qos } = options;
  if (qos !== 0 && qos !== 1) throw new MqttError('bad-argument', 'qos must be 0 or 1');
  const dup = options.dup === true;
  if (dup && qos === 0) throw new MqttError('bad-argument', 'dup is only for QoS 1');
  if (qos === 1) checkPacketId(options.packetId ?? 0);
  const topicLen = checkTopicName(topic);
  const length = end - start;
  const remaining = 2 + topicLen + (qos ? 2 : 0) + length;
  let o = fixedHeader(out, (PUBLISH << 4) | (dup ? 0x08 : 0) | (qos << 1) | (options.retain ? 1 : 0), remaining);
  o = putString(out, o, topic, topicLen);
  if (qos) o = putU16(out, o, options.packetId!);
  out.set(payload.subarray(start, end), o);
  return o + length;
}

export function encodePuback(out: Uint8Array, packetId: number): number {
  checkPacketId(packetId);
  const o = fixedHeader(out, PUBACK << 4, 2);
  return putU16(out, o, packetId);
}

function encodeEmpty(out: Uint8Array, type: number): number {
  return fixedHeader(out, type << 4, 0);
}
export const encodePingreq = (out: Uint8Array): number => encodeEmpty(out, PINGREQ);
export const encodePingresp = (out: Uint8Array): number => encodeEmpty(out, PINGRESP);
export const encodeDisconnect = (out: Uint8Array): number => encodeEmpty(out, DISCONNECT);

// ---------- decoding ----------

function malformed(why: string): never {
  throw new MqttError('malformed-packet', why);
}

/** Reads packets from a byte stream; bytes may arrive split or coalesced arbitrarily. */
export class MqttDecoder {
  readonly maxPacketBytes: number;
  private readonly buf: Uint8Array;
  private fill = 0;
  private failed = false;

  constructor(maxPacketBytes = DEFAULT_MAX_PACKET_BYTES) {
    if (!(Number.isInteger(maxPacketBytes) && maxPacketBytes >= 8 && maxPacketBytes <= IOT_MAX_MESSAGE_BYTES + 1024)) {
      throw new MqttError('bad-argument', 'maxPacketBytes must be in [8, 128 KiB + 1 KiB]');
    }
    this.maxPacketBytes = maxPacketBytes;
    this.buf = new Uint8Array(maxPacketBytes);
  }

  /** Forget buffered bytes (new connection). */
  reset(): void {
    this.fill = 0;
    this.failed = false;
  }

  /** Feeds bytes[start, end); calls onPacket for every complete packet. Throws MqttError on malformed input. */
  push(bytes: Uint8Array, start: number, end: number, onPacket: (packet: MqttPacket) => void): void {
    if (this.failed) throw new MqttError('decoder-failed', 'decoder saw malformed input: reconnect');
    let i = start;
    // Bound: each pass either copies >= 1 byte or consumes >= 1 packet (>= 2 bytes).
    for (let passes = 0; passes <= 2 * (end - start) + 2; passes++) {
      const room = this.buf.length - this.fill;
      const n = Math.min(room, end - i);
      this.buf.set(bytes.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
      let consumed = 0;
      try {
        consumed = this.drain(onPacket);
      } catch (e) {
        this.failed = true;
        throw e;
      }
      if (i >= end && consumed === 0) return;
      if (n === 0 && consumed === 0) {
        this.failed = true;
        throw new MqttError('packet-too-large', 'packet larger than maxPacketBytes');
      }
    }
  }

  /** Parses every complete packet in the buffer; returns bytes consumed. */
  private drain(onPacket: (packet: MqttPacket) => void): number {
    let at = 0;
    const buf = this.buf;
    for (;;) {
      const avail = this.fill - at;
      if (avail < 2) break;
      let remaining = 0;
      let mult = 1;
      let k = 1;
      let complete = false;
      for (; k <= 4 && k < avail; k++) {
        const d = buf[at + k]!;
        remaining += (d & 0x7f) * mult;
        mult *= 128;
        if ((d & 0x80) === 0) {
          if (d === 0 && k > 1) malformed('remaining length not in its shortest form');
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (k > 4) malformed('remaining length longer than 4 bytes');
        break;
      }
      const headerLen = k + 1;
      const total = headerLen + remaining;
      if (total > this.maxPacketBytes) throw new MqttError('packet-too-large', `packet of ${total} bytes above maxPacketBytes`);
      if (avail < total) break;
      onPacket(this.parse(buf[at]!, at + headerLen, at + total));
      at += total;
    }
    if (at > 0) {
      buf.copyWithin(0, at, this.fill);
      this.fill -= at;
    }
    return at;
  }

  private parse(first: number, start: number, end: number): MqttPacket {
    const type = first >> 4;
    const flags = first & 0x0f;
    const buf = this.buf;
    const len = end - start;
    switch (type) {
      case CONNACK:
        if (flags !== 0 || len !== 2) malformed('CONNACK: flags or length');
        if ((buf[start]! & 0xfe) !== 0) malformed('CONNACK: reserved bits set');
        if (buf[start + 1]! > 5) malformed('CONNACK: unknown return code');
        if (buf[start + 1]! !== 0 && buf[start]! !== 0) malformed('CONNACK: session present with a refusal');
        return { type: CONNACK, sessionPresent: buf[start] === 1, returnCode: buf[start + 1]! };
      case PUBACK: {
        if (flags !== 0 || len !== 2) malformed('PUBACK: flags or length');
        const id = (buf[start]! << 8) | buf[start + 1]!;
        if (id === 0) malformed('PUBACK: packet id 0');
        return { type: PUBACK, packetId: id };
      }
      case PINGREQ:
      case PINGRESP:
      case DISCONNECT:
        if (flags !== 0 || len !== 0) malformed('empty packet with flags or body');
        return { type };
      case PUBLISH:
        return this.parsePublish(flags, start, end);
      case CONNECT:
        if (flags !== 0) malformed('CONNECT: flags');
        return this.parseConnect(start, end);
      case 0:
      case 15:
        return malformed(`reserved packet type ${type}`);
      default:
        throw new MqttError('unsupported-packet', `packet type ${type} is not supported`);
    }
  }

  private parsePublish(flags: number, start: number, end: number): PublishPacket {
    const qos = (flags >> 1) & 3;
    const dup = (flags & 8) !== 0;
    if (qos === 3) malformed('PUBLISH: QoS 3');
    if (qos === 2) throw new MqttError('unsupported-packet', 'PUBLISH QoS 2 is not supported');
    if (qos === 0 && dup) malformed('PUBLISH: DUP set on QoS 0');
    const r = new Reader(this.buf, start, end);
    const topic = r.string('PUBLISH topic');
    if (topic.length === 0 || topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) malformed('PUBLISH: empty topic or wildcard');
    let packetId = 0;
    if (qos === 1) {
      packetId = r.u16();
      if (packetId === 0) malformed('PUBLISH: packet id 0');
    }
    return { type: PUBLISH, topic, qos: qos as 0 | 1, dup, retain: (flags & 1) !== 0, packetId, payload: this.buf.subarray(r.at, end) };
  }

  private parseConnect(start: number, end: number): ConnectPacket {
    const r = new Reader(this.buf, start, end);
    if (r.string('protocol name') !== 'MQTT') malformed('CONNECT: protocol name');
    const level = r.u8();
    if (level !== 4) throw new MqttError('unsupported-protocol', `protocol level ${level}`);
    const f = r.u8();
    if (f & 1) malformed('CONNECT: reserved flag');
    const will = (f & 0x04) !== 0;
    if (!will && (f & 0x38) !== 0) malformed('CONNECT: will QoS/retain without will');
    if (((f >> 3) & 3) === 3) malformed('CONNECT: will QoS 3');
    const hasUser = (f & 0x80) !== 0;
    const hasPassword = (f & 0x40) !== 0;
    if (hasPassword && !hasUser) malformed('CONNECT: password without username');
    const keepAliveSeconds = r.u16();
    const clientId = r.string('client id');
    if (will) {
      r.string('will topic');
      r.bytes();
    }
    const username = hasUser ? r.string('username') : undefined;
    const password = hasPassword ? r.bytes().slice() : undefined;
    if (r.at !== end) malformed('CONNECT: trailing bytes');
    return { type: CONNECT, clientId, keepAliveSeconds, cleanSession: (f & 2) !== 0, username, password };
  }
}

/** Bounds-checked reads inside one packet. */
class Reader {
  at: number;
  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
  }
  u8(): number {
    if (this.at + 1 > this.end) malformed('truncated');
    return this.buf[this.at++]!;
  }
  u16(): number {
    if (this.at + 2 > this.end) malformed('truncated');
    const v = (this.buf[this.at]! << 8) | this.buf[this.at + 1]!;
    this.at += 2;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u16();
    if (this.at + n > this.end) malformed('truncated');
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  string(what: string): string {
    const n = this.u16();
    if (this.at + n > this.end) malformed(`${what}: truncated`);
    const s = decodeUtf8(this.buf, this.at, this.at + n, 'refuse');
    if (s === null) malformed(`${what}: invalid UTF-8`);
    if (s.indexOf('\u0000') >= 0) malformed(`${what}: U+0000`);
    this.at += n;
    return s;
  }
}
