// The publish body: records of one stream batched into one JSON envelope,
//   {"device":"<id>","stream":"<name>","records":[{"seq":N,"data":<payload>},...]}
// Payloads are JSON texts stored verbatim by the application. The receiver
// drops duplicates by (device, stream, seq): delivery is at-least-once.
import { ConfigError } from './errors.js';

/** Names that go into the envelope unescaped. */
const NAME_PATTERN_TEXT = '[A-Za-z0-9_.:-]{1,128}';

export function checkName(what: string, value: string): void {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) throw new ConfigError('bad-config', `${what} must be 1..128 characters`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x3a || c === 0x2d;
    if (!ok) throw new ConfigError('bad-config', `${what} must match ${NAME_PATTERN_TEXT}`);
  }
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

const RECORD_OPEN = ascii('{"seq":');
const RECORD_DATA = ascii(',"data":');
const TAIL = ascii(']}');

function digits(n: number): number {
  let d = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

/** Builds one envelope into a caller-owned buffer. */
export class BatchWriter {
  readonly buf: Uint8Array;
  private readonly head: Uint8Array;
  length = 0;
  count = 0;

  constructor(buf: Uint8Array, deviceId: string, stream: string) {
    checkName('deviceId', deviceId);
    checkName('stream name', stream);
    this.buf = buf;
    this.head = ascii(`{"device":"${deviceId}","stream":"${stream}","records":[`);
    if (this.head.length + TAIL.length + 64 > buf.length) throw new ConfigError('bad-config', 'publish buffer too small for the envelope');
  }

  begin(): void {
    this.buf.set(this.head, 0);
    this.length = this.head.length;
    this.count = 0;
  }

  /** Bytes a record adds (separator included). */
  cost(seq: number, payloadLength: number): number {
    return (this.count > 0 ? 1 : 0) + RECORD_OPEN.length + digits(seq) + RECORD_DATA.length + payloadLength + 1;
  }

  /** Whether a record fits, keeping room for the closing `]}`. */
  fits(seq: number, payloadLength: number): boolean {
    return this.length + this.cost(seq, payloadLength) + TAIL.length <= this.buf.length;
  }

  /** Largest payload that fits in an otherwise empty envelope (for sizing the queue). */
  static maxPayload(bufferBytes: number, deviceId: string, stream: string): number {
    const head = `{"device":"${deviceId}","stream":"${stream}","records":[`.length;
    return bufferBytes - head - TAIL.length - RECORD_OPEN.length - 10 - RECORD_DATA.length - 1;
  }

  /** Writes the record prefix and returns where the payload goes; then call endRecord(). */
  beginRecord(seq: number): number {
    const b = this.buf;
    if (this.count > 0) b[this.length++] = 0x2c;
    b.set(RECORD_OPEN, this.length);
    this.length += RECORD_OPEN.length;
    const d = digits(seq);
    for (let i = d - 1, x = seq; i >= 0; i--, x = Math.floor(x / 10)) b[this.length + i] = 0x30 + (x % 10);
    this.length += d;
    b.set(RECORD_DATA, this.length);
    this.length += RECORD_DATA.length;
    return this.length;
  }

  endRecord(payloadLength: number): void {
    this.length += payloadLength;
    this.buf[this.length++] = 0x7d;
    this.count++;
  }

  /** Drops a record started with beginRecord (it could not be read). */
  abandonRecord(at: number, seq: number): void {
    this.length = at - RECORD_DATA.length - digits(seq) - RECORD_OPEN.length - (this.count > 0 ? 1 : 0);
  }

  finish(): number {
    this.buf.set(TAIL, this.length);
    this.length += TAIL.length;
    return this.length;
  }
}
