// Canonical headers in fixed arenas: lower-cased names, trimmed values with
// whitespace runs (and folded lines) collapsed to one space, a stable sort
// by name bytes (so repeated names keep arrival order and are joined with
// `,`). Caller headers are bounded by the limits; the signer's own headers
// (x-amz-date, token, content hash) have reserved slots and name room on
// top; their values are not copied (they stay in the signer's buffers, the
// token in its single copy held by the credentials) and are streamed from
// there by writeCanonical().
import { SigV4Error, limitExceeded } from './errors.js';
import type { HashSink } from './hash-sink.js';
import { encodeUtf8Into, UTF8_LONE_SURROGATE } from './utf8.js';

/** Headers the signer itself may add: x-amz-date, x-amz-security-token, x-amz-content-sha256. */
export const OWN_HEADER_SLOTS = 3;
/** Room for the names of the signer's own headers. */
export const OWN_NAME_BYTES = 64;

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/** RFC 7230 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~". */
function isTokenChar(c: number): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return true;
  switch (c) {
    case 0x21: case 0x23: case 0x24: case 0x25: case 0x26: case 0x27: case 0x2a: case 0x2b:
    case 0x2d: case 0x2e: case 0x5e: case 0x5f: case 0x60: case 0x7c: case 0x7e:
      return true;
    default:
      return false;
  }
}

export interface HeaderTableLimits {
  maxHeaders: number;
  maxHeaderNameBytes: number;
  maxHeaderValueBytes: number;
}

export class HeaderTable {
  count = 0;
  private callerNameBytes = 0;
  private callerValueBytes = 0;
  private nameLen = 0;
  private valueLen = 0;
  private readonly limits: HeaderTableLimits;
  readonly names: Uint8Array;
  readonly values: Uint8Array;
  readonly nameStart: Int32Array;
  readonly nameEnd: Int32Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Int32Array;
  /** Entry indexes in canonical order after sort(). */
  readonly order: Int32Array;
  /** After sort(): 1 when order[k] has the same name as order[k - 1] (a repeated header). */
  private readonly repeated: Uint8Array;
  /** Own headers: the value is ownValue[e][valueStart[e], valueEnd[e]) (null: a caller header, value in `values`). */
  private readonly ownValue: Array<Uint8Array | null>;

  constructor(limits: HeaderTableLimits) {
    this.limits = limits;
    const slots = limits.maxHeaders + OWN_HEADER_SLOTS;
    this.names = new Uint8Array(limits.maxHeaderNameBytes + OWN_NAME_BYTES);
    this.values = new Uint8Array(limits.maxHeaderValueBytes);
    this.nameStart = new Int32Array(slots);
    this.nameEnd = new Int32Array(slots);
    this.valueStart = new Int32Array(slots);
    this.valueEnd = new Int32Array(slots);
    this.order = new Int32Array(slots);
    this.repeated = new Uint8Array(slots);
    this.ownValue = new Array<Uint8Array | null>(slots).fill(null);
  }

  reset(): void {
    this.count = 0;
    this.callerNameBytes = 0;
    this.callerValueBytes = 0;
    this.nameLen = 0;
    this.valueLen = 0;
  }

  /** Adds a caller header (index is its position, for error messages). Call before any addOwn. */
  addCaller(name: string, value: string, index: number): void {
    if (typeof name !== 'string' || typeof value !== 'string') {
      throw new SigV4Error('INVALID_REQUEST', `header ${index} must be a [name, value] pair of strings`);
    }
    if (this.count >= this.limits.maxHeaders) throw limitExceeded('maxHeaders', `header ${index}`);
    if (name.length === 0) throw new SigV4Error('INVALID_HEADER_NAME', `header ${index} has an empty name`);
    const { names } = this;
    const nameStart = this.nameLen;
    if (this.callerNameBytes + name.length > this.limits.maxHeaderNameBytes) throw limitExceeded('maxHeaderNameBytes', `header ${index} name`);
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (!isTokenChar(c)) throw new SigV4Error('INVALID_HEADER_NAME', `header ${index} name is not an RFC 7230 token`);
      names[nameStart + i] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    }
    this.nameLen += name.length;
    this.callerNameBytes += name.length;
    const valueStart = this.valueLen;
    const valueEnd = this.canonicalValue(value, index, valueStart, valueStart + this.limits.maxHeaderValueBytes - this.callerValueBytes);
    this.callerValueBytes += valueEnd - valueStart;
    this.valueLen = valueEnd;
    this.push(nameStart, nameStart + name.length, valueStart, valueEnd);
  }

  /**
   * Adds one of the signer's own headers; `name` is lower-case ASCII, the
   * value value[start, end) is already canonical, is not copied, and must
   * not change until writeCanonical().
   */
  addOwn(name: string, value: Uint8Array, start: number, end: number): void {
    this.assertRoom(name.length);
    const nameStart = this.nameLen;
    for (let i = 0; i < name.length; i++) this.names[nameStart + i] = name.charCodeAt(i);
    this.nameLen += name.length;
    this.push(nameStart, nameStart + name.length, start, end);
    this.ownValue[this.count - 1] = value;
  }

  /** True when some entry's name equals the lower-case ASCII `name`. */
  has(name: string): boolean {
    for (let e = 0; e < this.count; e++) if (this.nameEquals(e, name)) return true;
    return false;
  }

  nameEquals(e: number, name: string): boolean {
    const s = this.nameStart[e]!;
    if (this.nameEnd[e]! - s !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (this.names[s + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  /** Stable insertion sort by name bytes (a prefix sorts first). Bounded: count <= maxHeaders + 3. */
  sort(): void {
    const { order } = this;
    for (let i = 0; i < this.count; i++) order[i] = i;
    for (let i = 1; i < this.count; i++) {
      const e = order[i]!;
      let j = i - 1;
      while (j >= 0 && this.compareNames(order[j]!, e) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = e;
    }
    // Computed once here rather than by comparing names again in every writer.
    const { repeated } = this;
    if (this.count > 0) repeated[0] = 0;
    for (let k = 1; k < this.count; k++) repeated[k] = this.compareNames(order[k - 1]!, order[k]!) === 0 ? 1 : 0;
  }

  /** Writes `name:value\n` per distinct name (repeated names joined with `,`). */
  writeCanonical(sink: HashSink): void {
    const { order, names, values } = this;
    for (let k = 0; k < this.count; k++) {
      const e = order[k]!;
      const first = this.repeated[k] === 0;
      if (first) {
        if (k > 0) sink.byte(LF);
        sink.bytes(names, this.nameStart[e]!, this.nameEnd[e]!);
        sink.byte(0x3a);
      } else sink.byte(0x2c);
      sink.bytes(this.ownValue[e] ?? values, this.valueStart[e]!, this.valueEnd[e]!);
    }
    if (this.count > 0) sink.byte(LF);
  }

  /** Writes the distinct sorted names joined with `;` into out at o; returns the end offset. */
  signedHeadersInto(out: Uint8Array, o: number, encodeSemicolon: boolean): number {
    const { order, names } = this;
    for (let k = 0; k < this.count; k++) {
      const e = order[k]!;
      if (this.repeated[k] === 1) continue;
      if (k > 0) {
        if (encodeSemicolon) {
          out[o++] = 0x25;
          out[o++] = 0x33;
          out[o++] = 0x42;
        } else out[o++] = 0x3b;
      }
      for (let i = this.nameStart[e]!; i < this.nameEnd[e]!; i++) out[o++] = names[i]!;
    }
    return o;
  }

  /** Upper bound of signedHeadersInto's output size. */
  signedHeadersBound(encodeSemicolon: boolean): number {
    return this.nameLen + this.count * (encodeSemicolon ? 3 : 1);
  }

  /** Invariant: room reserved for the signer's own headers (a typed array would drop writes silently). */
  private assertRoom(nameBytes: number): void {
    if (this.count >= this.nameStart.length || this.nameLen + nameBytes > this.names.length) {
      throw new Error('sigv4 internal: header table overflow');
    }
  }

  private compareNames(a: number, b: number): number {
    const { names } = this;
    const as = this.nameStart[a]!;
    const bs = this.nameStart[b]!;
    const al = this.nameEnd[a]! - as;
    const bl = this.nameEnd[b]! - bs;
    const n = al < bl ? al : bl;
    for (let i = 0; i < n; i++) {
      const d = names[as + i]! - names[bs + i]!;
      if (d !== 0) return d;
    }
    return al - bl;
  }

  private push(ns: number, ne: number, vs: number, ve: number): void {
    const e = this.count++;
    this.ownValue[e] = null;
    this.nameStart[e] = ns;
    this.nameEnd[e] = ne;
    this.valueStart[e] = vs;
    this.valueEnd[e] = ve;
  }

  /**
   * Writes the canonical form of `value` into values[start, end): trimmed,
   * runs of SP/HT and folded lines (CRLF or LF followed by SP/HT) collapsed
   * to one space. Any other CR, LF or control character is an error.
   */
  private canonicalValue(value: string, index: number, start: number, end: number): number {
    const { values } = this;
    const which = `header ${index} value`;
    const limit = 'maxHeaderValueBytes';
    let o = start;
    let pendingSpace = false;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === SP || c === HT) {
        pendingSpace = o > start;
        continue;
      }
      if (c === CR || c === LF) {
        const lf = c === CR ? i + 1 : i;
        const next = lf + 1 < value.length ? value.charCodeAt(lf + 1) : -1;
        if ((c === CR && value.charCodeAt(i + 1) !== LF) || (next !== SP && next !== HT)) {
          throw new SigV4Error('INVALID_HEADER_VALUE', `${which} contains CR or LF that is not a folded line`);
        }
        i = lf;
        pendingSpace = o > start;
        continue;
      }
      if (c < 0x20 || c === 0x7f) throw new SigV4Error('INVALID_HEADER_VALUE', `${which} contains a control character`);
      if (pendingSpace) {
        if (o >= end) throw limitExceeded(limit, which);
        values[o++] = SP;
        pendingSpace = false;
      }
      if (c < 0x80) {
        if (o >= end) throw limitExceeded(limit, which);
        values[o++] = c;
        continue;
      }
      const units = c >= 0xd800 && c <= 0xdbff && i + 1 < value.length ? 2 : 1;
      const r = encodeUtf8Into(value, i, i + units, values, o, end);
      if (r === UTF8_LONE_SURROGATE) throw new SigV4Error('INVALID_UTF16', `${which} contains a lone surrogate`);
      if (r < 0) throw limitExceeded(limit, which);
      o = r;
      i += units - 1;
    }
    return o;
  }
}
