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
import { asciiInto, copyRange, equalsText, offsetArray, type OffsetArray } from './copy.js';
import { encodeUtf8Into, UTF8_LONE_SURROGATE } from '../shared/utf8.js';

/** Headers the signer itself may add: x-amz-date, x-amz-security-token, x-amz-content-sha256. */
export const OWN_HEADER_SLOTS = 3;
/** Room for the names of the signer's own headers: x-amz-date, x-amz-security-token, x-amz-content-sha256. */
export const OWN_NAME_BYTES = 'x-amz-date'.length + 'x-amz-security-token'.length + 'x-amz-content-sha256'.length;
/** Longest own value kept as a byte range (the payload hash; the token is a string). */
const OWN_VALUE_BYTES = 64;

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
  readonly nameStart: OffsetArray;
  readonly nameEnd: OffsetArray;
  readonly valueStart: OffsetArray;
  readonly valueEnd: OffsetArray;
  /** Entry indexes in canonical order after sort(). */
  readonly order: OffsetArray;
  /** After sort(): 1 when order[k] has the same name as order[k - 1] (a repeated header). */
  private readonly repeated: Uint8Array;
  /**
   * Own headers: the value is ownValue[e][valueStart[e], valueEnd[e]), or
   * the whole string ownValue[e] (the session token, the caller's string);
   * null: a caller header, value in `values`.
   */
  private readonly ownValue: Array<Uint8Array | string | null>;

  constructor(limits: HeaderTableLimits) {
    this.limits = limits;
    const slots = limits.maxHeaders + OWN_HEADER_SLOTS;
    this.names = new Uint8Array(limits.maxHeaderNameBytes + OWN_NAME_BYTES);
    this.values = new Uint8Array(limits.maxHeaderValueBytes);
    // Largest offset: an arena end, a slot index, or the end of an own value (at most 64 bytes).
    const maxOffset = Math.max(this.names.length, this.values.length, slots, OWN_VALUE_BYTES);
    this.nameStart = offsetArray(slots, maxOffset);
    this.nameEnd = offsetArray(slots, maxOffset);
    this.valueStart = offsetArray(slots, maxOffset);
    this.valueEnd = offsetArray(slots, maxOffset);
    this.order = offsetArray(slots, maxOffset);
    this.repeated = new Uint8Array(slots);
    this.ownValue = new Array<Uint8Array | string | null>(slots).fill(null);
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
      // Lower-case letters and '-' first: nearly every name is only those.
      if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) names[nameStart + i] = c;
      else if (c >= 0x41 && c <= 0x5a) names[nameStart + i] = c + 0x20;
      else if (isTokenChar(c)) names[nameStart + i] = c;
      else throw new SigV4Error('INVALID_HEADER_NAME', `header ${index} name is not an RFC 7230 token`);
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
    if (end > OWN_VALUE_BYTES) throw new Error('sigv4 internal: own header value beyond its offset range');
    const nameStart = this.nameLen;
    this.nameLen = asciiInto(this.names, nameStart, name);
    this.push(nameStart, nameStart + name.length, start, end);
    this.ownValue[this.count - 1] = value;
  }

  /** Adds one of the signer's own headers whose value is a whole string, already canonical (the session token). */
  addOwnText(name: string, value: string): void {
    this.addOwn(name, this.values, 0, 0);
    this.ownValue[this.count - 1] = value;
  }

  /** True when some entry's name equals the lower-case ASCII `name`. */
  has(name: string): boolean {
    const { names, nameStart, nameEnd } = this;
    const n = name.length;
    for (let e = 0; e < this.count; e++) {
      const s = nameStart[e]!;
      // Lengths first: most names differ there, without a call per entry.
      if (nameEnd[e]! - s === n && equalsText(names, s, name)) return true;
    }
    return false;
  }

  /**
   * Stable insertion sort by name bytes (a prefix sorts first), which also
   * marks repeated names. Bounded: count <= maxHeaders + 3. The comparison
   * is inlined: a method call per comparison cost more than the comparison.
   */
  sort(): void {
    const { order, repeated, names, nameStart, nameEnd } = this;
    const count = this.count;
    for (let i = 0; i < count; i++) order[i] = i;
    if (count > 0) repeated[0] = 0;
    for (let i = 1; i < count; i++) {
      const e = order[i]!;
      const es = nameStart[e]!;
      const el = nameEnd[e]! - es;
      let j = i - 1;
      let d = 0;
      for (; j >= 0; j--) {
        const f = order[j]!;
        const fs = nameStart[f]!;
        const fl = nameEnd[f]! - fs;
        const n = fl < el ? fl : el;
        let k = 0;
        while (k < n && names[fs + k] === names[es + k]) k++;
        d = k < n ? names[fs + k]! - names[es + k]! : fl - el;
        if (d <= 0) break;
        // f moves up with its flag: its predecessor moves with it.
        order[j + 1] = f;
        repeated[j + 1] = repeated[j]!;
      }
      order[j + 1] = e;
      // e repeats order[j] when equal; the first entry moved past e is strictly greater than e.
      repeated[j + 1] = j >= 0 && d === 0 ? 1 : 0;
      if (j + 2 <= i) repeated[j + 2] = 0;
    }
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
      const own = this.ownValue[e];
      if (typeof own === 'string') sink.text(own);
      else sink.bytes(own ?? values, this.valueStart[e]!, this.valueEnd[e]!);
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
      o = copyRange(names, this.nameStart[e]!, this.nameEnd[e]!, out, o);
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
    let o = start;
    let pendingSpace = false;
    let i = 0;
    const n = value.length;
    // Fast path: printable ASCII and spaces. It writes at most one byte per
    // character read, so with n bytes of room it needs no limit checks.
    // Anything else (tab, CR/LF, controls, non-ASCII) continues below.
    if (end - start >= n) {
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c > SP && c < 0x7f) {
          if (pendingSpace) {
            values[o++] = SP;
            pendingSpace = false;
          }
          values[o++] = c;
        } else if (c === SP) pendingSpace = o > start;
        else break;
      }
      if (i === n) return o;
    }
    return this.canonicalValueRest(value, index, i, o, pendingSpace, start, end);
  }

  /** canonicalValue from value[from] on, with every check: `o` and `pendingSpace` carry on from the fast path. */
  private canonicalValueRest(value: string, index: number, from: number, o: number, pendingSpace: boolean, start: number, end: number): number {
    const { values } = this;
    const which = `header ${index} value`;
    const limit = 'maxHeaderValueBytes';
    for (let i = from; i < value.length; i++) {
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
