// Canonical query in a fixed arena: each `key=value` of the wire query is
// percent-decoded and RFC 3986 re-encoded (`+` is a literal plus: %2B), then
// pairs are sorted by encoded key, then encoded value (after encoding: the
// order of the bytes AWS hashes, not of the decoded text).
//
// The signer's own parameters take no room in the arena: their keys are the
// signer's string constants, and their values stay where they already are
// (credential, token, date, signed headers) and are encoded while being
// streamed into the hash (the token alone would need 3x maxTokenBytes). Own
// keys are distinct from each other and from every caller key (the signer
// refuses reserved caller keys), so sorting never compares own values.
import { equalsText, offsetArray, type OffsetArray } from './copy.js';
import { SigV4Error, limitExceeded } from './errors.js';
import type { HashSink } from './hash-sink.js';
import { hexDigitValue } from './hex.js';
import { encodeByteInto, encodedSize, isUnreserved, upperHexDigit } from './uri-encode.js';


/** Streams the RFC 3986 encoding of src[start, end): unreserved runs as ranges. */
function writeEncoded(sink: HashSink, src: Uint8Array, start: number, end: number): void {
  let run = start;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (isUnreserved(b)) continue;
    if (i > run) sink.bytes(src, run, i);
    sink.byte(0x25);
    sink.byte(upperHexDigit(b >> 4));
    sink.byte(upperHexDigit(b & 15));
    run = i + 1;
  }
  if (end > run) sink.bytes(src, run, end);
}

/** X-Amz-Algorithm, -Credential, -Date, -Expires, -Security-Token, -SignedHeaders. */
export const OWN_QUERY_SLOTS = 6;

export interface QueryTableLimits {
  maxQueryPairs: number;
  maxQueryBytes: number;
}

export class QueryTable {
  count = 0;
  private len = 0;
  private readonly limits: QueryTableLimits;
  readonly arena: Uint8Array;
  readonly keyStart: OffsetArray;
  readonly keyEnd: OffsetArray;
  readonly valueEnd: OffsetArray;
  readonly order: OffsetArray;
  /** Own parameters: the key (an unreserved ASCII constant); null: a caller pair, key in the arena. */
  private readonly ownKey: Array<string | null>;
  /**
   * Own parameters: the raw value is ownValue[e][ownStart[e], ownEnd[e]),
   * or the whole string ownValue[e] (the session token, the caller's
   * string); null: a caller pair, value in the arena.
   */
  private readonly ownValue: Array<Uint8Array | string | null>;
  private readonly ownStart: OffsetArray;
  private readonly ownEnd: OffsetArray;
  private readonly maxOwnOffset: number;

  /** `ownValueBytes`: length of the longest buffer an own value is read from (offsets must fit). */
  constructor(limits: QueryTableLimits, ownValueBytes: number) {
    this.limits = limits;
    const slots = limits.maxQueryPairs + OWN_QUERY_SLOTS;
    const maxOffset = Math.max(limits.maxQueryBytes, slots, ownValueBytes);
    this.maxOwnOffset = maxOffset;
    this.arena = new Uint8Array(limits.maxQueryBytes);
    this.ownKey = new Array<string | null>(slots).fill(null);
    this.keyStart = offsetArray(slots, maxOffset);
    this.keyEnd = offsetArray(slots, maxOffset); // the value starts at keyEnd
    this.valueEnd = offsetArray(slots, maxOffset);
    this.order = offsetArray(slots, maxOffset);
    this.ownValue = new Array<Uint8Array | string | null>(slots).fill(null);
    this.ownStart = offsetArray(slots, maxOffset);
    this.ownEnd = offsetArray(slots, maxOffset);
  }

  reset(): void {
    this.count = 0;
    this.len = 0;
  }

  /** Parses the wire query wire[start, end) (UTF-8 bytes, without `?`). Empty `&&` parts are skipped. */
  parseWire(wire: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end) {
      let stop = p;
      while (stop < end && wire[stop] !== 0x26) stop++;
      if (stop > p) {
        if (this.count >= this.limits.maxQueryPairs) throw limitExceeded('maxQueryPairs', 'query');
        let eq = p;
        while (eq < stop && wire[eq] !== 0x3d) eq++;
        const e = this.count;
        this.ownKey[e] = null;
        this.ownValue[e] = null;
        this.keyStart[e] = this.len;
        this.appendDecoded(wire, p, eq);
        this.keyEnd[e] = this.len;
        if (eq < stop) this.appendDecoded(wire, eq + 1, stop);
        this.valueEnd[e] = this.len;
        this.count++;
      }
      p = stop + 1;
    }
  }

  /**
   * Adds a signer parameter: `key` is unreserved ASCII; the raw value
   * value[start, end) is not copied, it is encoded when written, and must
   * not change until writeCanonical(). Returns its entry.
   */
  addOwn(key: string, value: Uint8Array, start: number, end: number): number {
    this.assertRoom();
    if (end > this.maxOwnOffset) throw new Error('sigv4 internal: own query value beyond its offset range');
    const e = this.count++;
    this.keyStart[e] = this.keyEnd[e] = this.valueEnd[e] = 0;
    this.ownKey[e] = key;
    this.ownValue[e] = value;
    this.ownStart[e] = start;
    this.ownEnd[e] = end;
    return e;
  }

  /** Adds a signer parameter whose raw value is a whole string (valid UTF-16), encoded when written. */
  addOwnText(key: string, value: string): number {
    const e = this.addOwn(key, this.arena, 0, 0);
    this.ownValue[e] = value;
    return e;
  }

  /** True when a caller pair has this (encoded) key; compared case-sensitively, as AWS does. */
  hasCallerKey(key: string): boolean {
    for (let e = 0; e < this.count; e++) {
      const s = this.keyStart[e]!;
      if (this.keyEnd[e]! - s === key.length && equalsText(this.arena, s, key)) return true;
    }
    return false;
  }

  /** Insertion sort by encoded key, then encoded value. Bounded: count <= maxQueryPairs + 6. */
  sort(): void {
    const { order } = this;
    for (let i = 0; i < this.count; i++) order[i] = i;
    for (let i = 1; i < this.count; i++) {
      const e = order[i]!;
      let j = i - 1;
      while (j >= 0 && this.compare(order[j]!, e) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = e;
    }
  }

  writeCanonical(sink: HashSink): void {
    const { arena, order } = this;
    for (let k = 0; k < this.count; k++) {
      const e = order[k]!;
      if (k > 0) sink.byte(0x26);
      const ownKey = this.ownKey[e] ?? null;
      if (ownKey !== null) sink.text(ownKey);
      else sink.bytes(arena, this.keyStart[e]!, this.keyEnd[e]!);
      sink.byte(0x3d);
      const own = this.ownValue[e] ?? null;
      if (typeof own === 'string') sink.encodedText(own);
      else if (own !== null) writeEncoded(sink, own, this.ownStart[e]!, this.ownEnd[e]!);
      else sink.bytes(arena, this.keyEnd[e]!, this.valueEnd[e]!);
    }
  }

  /** Invariant: the signer sized the arena and slots for its own parameters (a typed array would drop writes silently). */
  private assertRoom(): void {
    if (this.count >= this.keyStart.length) throw new Error('sigv4 internal: query table overflow');
  }

  private compare(a: number, b: number): number {
    const ka = this.ownKey[a] ?? null;
    const kb = this.ownKey[b] ?? null;
    if (ka === null && kb === null) {
      const d = this.compareRange(this.keyStart[a]!, this.keyEnd[a]!, this.keyStart[b]!, this.keyEnd[b]!);
      return d !== 0 ? d : this.compareRange(this.keyEnd[a]!, this.valueEnd[a]!, this.keyEnd[b]!, this.valueEnd[b]!);
    }
    // Own keys are ASCII: code-unit order is byte order.
    const d = ka !== null && kb !== null ? (ka < kb ? -1 : ka > kb ? 1 : 0) : ka !== null ? this.compareKeyText(ka, b) : -this.compareKeyText(kb!, a);
    if (d === 0) throw new Error('sigv4 internal: an own query key is not unique');
    return d;
  }

  /** Compares the ASCII `text` with the (encoded) key of caller entry e, bytewise. */
  private compareKeyText(text: string, e: number): number {
    const { arena } = this;
    const s = this.keyStart[e]!;
    const kl = this.keyEnd[e]! - s;
    const n = text.length < kl ? text.length : kl;
    for (let i = 0; i < n; i++) {
      const d = text.charCodeAt(i) - arena[s + i]!;
      if (d !== 0) return d;
    }
    return text.length - kl;
  }

  private compareRange(as: number, ae: number, bs: number, be: number): number {
    const { arena } = this;
    const al = ae - as;
    const bl = be - bs;
    const n = al < bl ? al : bl;
    for (let i = 0; i < n; i++) {
      const d = arena[as + i]! - arena[bs + i]!;
      if (d !== 0) return d;
    }
    return al - bl;
  }

  /** Percent-decodes wire[start, end) and appends its RFC 3986 encoding, within maxQueryBytes. */
  private appendDecoded(wire: Uint8Array, start: number, end: number): void {
    const { arena } = this;
    const limit = this.limits.maxQueryBytes;
    for (let i = start; i < end; i++) {
      let b = wire[i]!;
      if (b === 0x25) {
        const hi = i + 2 < end ? hexDigitValue(wire[i + 1]!) : -1;
        const lo = hi >= 0 ? hexDigitValue(wire[i + 2]!) : -1;
        if (lo < 0) throw new SigV4Error('INVALID_PERCENT_ENCODING', 'query has a % not followed by two hex digits');
        b = (hi << 4) | lo;
        i += 2;
      }
      if (this.len + encodedSize(b, false) > limit) throw limitExceeded('maxQueryBytes', 'canonical query');
      this.len = encodeByteInto(b, false, arena, this.len);
    }
  }
}
