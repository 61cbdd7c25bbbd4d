// OLPC canonical JSON as securesystemslib encodes it (what TUF signatures
// cover): object keys sorted by Unicode code point, no whitespace, strings
// with only `"` and `\` escaped (everything else raw UTF-8), integers only
// (a float, a lone surrogate or an unsafe integer has no canonical form).
// Encoded into one caller-sized buffer: the size is a named bound.
import { encodeUtf8Into, UTF8_LONE_SURROGATE, UTF8_OVERFLOW } from '../shared/utf8.js';
import { TufError } from './errors.js';
import { MAX_JSON_DEPTH } from './limits.js';

/** Compares two strings by Unicode code point (Python's str order), not by UTF-16 unit. */
export function canonicalKeyOrder(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral code point) sorts after every BMP unit above it.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Bytes a CanonicalJsonWriter allocates first; it doubles from here as a signed part needs, up to its capacity. */
export const CANONICAL_INITIAL_BYTES = 1024;

export class CanonicalJsonWriter {
  /** The bound: a canonical form longer than this is refused. */
  readonly capacity: number;
  // Grown on demand, so a writer bounded for the largest file (MiB) holds
  // only what the files it has encoded needed (KiB on a device).
  #out: Uint8Array;
  #len = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#out = new Uint8Array(Math.min(capacity, CANONICAL_INITIAL_BYTES));
  }

  /** Bytes of the buffer held now (at most `capacity`). */
  get allocatedBytes(): number {
    return this.#out.length;
  }

  /** Encodes `value`; returns a view of the internal buffer valid until the next call. */
  encode(value: unknown): Uint8Array {
    this.#len = 0;
    this.#value(value, 0);
    return this.#out.subarray(0, this.#len);
  }

  /** Makes room for at least `more` bytes past #len, or throws 'over-limit' past the capacity. */
  #grow(more: number): void {
    const need = this.#len + more;
    if (need > this.capacity) throw new TufError('over-limit', `canonical form over ${this.capacity} bytes`);
    let size = this.#out.length > 0 ? this.#out.length : 1;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(this.capacity, size));
    next.set(this.#out.subarray(0, this.#len));
    this.#out = next;
  }

  #byte(b: number): void {
    if (this.#len >= this.#out.length) this.#grow(1);
    this.#out[this.#len++] = b;
  }

  #ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.#byte(s.charCodeAt(i));
  }

  #string(s: string): void {
    this.#byte(0x22);
    let from = 0;
    for (let i = 0; i <= s.length; i++) {
      const c = i < s.length ? s.charCodeAt(i) : -1;
      if (c !== 0x22 && c !== 0x5c && c !== -1) continue;
      let end = encodeUtf8Into(s, from, i, this.#out, this.#len, this.#out.length);
      // Out of room: double the buffer (over-limit at the capacity) and encode the run again.
      while (end === UTF8_OVERFLOW) {
        this.#grow(this.#out.length - this.#len + 1);
        end = encodeUtf8Into(s, from, i, this.#out, this.#len, this.#out.length);
      }
      if (end === UTF8_LONE_SURROGATE) throw new TufError('malformed', 'string with a lone surrogate has no canonical form');
      if (end < 0) throw new TufError('over-limit', `canonical form over ${this.capacity} bytes`);
      this.#len = end;
      if (c !== -1) {
        this.#byte(0x5c);
        this.#byte(c);
      }
      from = i + 1;
    }
    this.#byte(0x22);
  }

  #value(v: unknown, depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw new TufError('over-limit', `nesting deeper than ${MAX_JSON_DEPTH}`);
    if (v === null) return this.#ascii('null');
    if (v === true) return this.#ascii('true');
    if (v === false) return this.#ascii('false');
    if (typeof v === 'string') return this.#string(v);
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TufError('malformed', 'only safe integers have a canonical form');
      return this.#ascii(String(v));
    }
    if (Array.isArray(v)) {
      this.#byte(0x5b);
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.#byte(0x2c);
        this.#value(v[i], depth + 1);
      }
      return this.#byte(0x5d);
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v as object).sort(canonicalKeyOrder);
      this.#byte(0x7b);
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) this.#byte(0x2c);
        this.#string(keys[i]!);
        this.#byte(0x3a);
        this.#value((v as Record<string, unknown>)[keys[i]!], depth + 1);
      }
      return this.#byte(0x7d);
    }
    throw new TufError('malformed', `a ${typeof v} has no canonical form`);
  }
}
