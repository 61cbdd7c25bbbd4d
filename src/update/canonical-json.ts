// OLPC canonical JSON as securesystemslib encodes it (what TUF signatures
// cover): object keys sorted by Unicode code point, no whitespace, strings
// with only `"` and `\` escaped (everything else raw UTF-8), integers only
// (a float, a lone surrogate or an unsafe integer has no canonical form).
// Encoded into one caller-sized buffer: the size is a named bound.
import { encodeUtf8Into, UTF8_LONE_SURROGATE } from '../shared/utf8.js';
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

export class CanonicalJsonWriter {
  readonly #out: Uint8Array;
  #len = 0;

  constructor(capacity: number) {
    this.#out = new Uint8Array(capacity);
  }

  /** Encodes `value`; returns a view of the internal buffer valid until the next call. */
  encode(value: unknown): Uint8Array {
    this.#len = 0;
    this.#value(value, 0);
    return this.#out.subarray(0, this.#len);
  }

  #byte(b: number): void {
    if (this.#len >= this.#out.length) throw new TufError('over-limit', `canonical form over ${this.#out.length} bytes`);
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
      const end = encodeUtf8Into(s, from, i, this.#out, this.#len, this.#out.length);
      if (end === UTF8_LONE_SURROGATE) throw new TufError('malformed', 'string with a lone surrogate has no canonical form');
      if (end < 0) throw new TufError('over-limit', `canonical form over ${this.#out.length} bytes`);
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
