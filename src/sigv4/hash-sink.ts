// Streams bytes into an incremental hash (or HMAC) through a small staging
// buffer, so the canonical request is never materialised whole. Staging
// keeps the per-byte cost low: the hash sees few, block-sized updates.
//
// Debug mode (opt-in, for the CLI and tests) also copies every byte into a
// capture buffer allocated once at construction.
import { limitExceeded } from './errors.js';
import { encodeTextInto, isUnreserved } from './uri-encode.js';
import { decodeUtf8, encodeUtf8Into } from '../shared/utf8.js';

/** Staging size: two SHA-256 blocks. */
export const SINK_STAGE_BYTES = 128;
/** Ranges at least this long bypass the stage (the target absorbs them in place). */
export const SINK_DIRECT_BYTES = 64;
/**
 * `text.charCodeAt(i)` on a string primitive allocates a wrapper on XS (2
 * slots a call: 2,048 garbage slots per 1 KB token per signature); calling
 * the built-in on the primitive allocates none, for ~5 computrons more.
 */
const charCodeAt = String.prototype.charCodeAt;
/** UTF-8 bytes of one character (a surrogate pair), and of its percent-encoding. */
const MAX_CHAR_BYTES = 4;
const MAX_ENCODED_CHAR_BYTES = 12;

/** Code units of the character at text[i]: 2 for a surrogate pair (valid UTF-16 assumed), else 1. */
function unitsAt(text: string, i: number): number {
  const c = charCodeAt.call(text, i);
  return c >= 0xd800 && c <= 0xdbff ? 2 : 1;
}

export interface ByteTarget {
  update(bytes: Uint8Array, start: number, end: number): void;
}

export class HashSink {
  private readonly stage = new Uint8Array(SINK_STAGE_BYTES);
  private pos = 0;
  private target: ByteTarget | null = null;
  private readonly capture: Uint8Array | null;
  private captureLen = 0;
  private captureFrom = 0;

  /** `debugBytes` > 0 turns on capture of everything written, up to that many bytes. */
  constructor(debugBytes: number) {
    this.capture = debugBytes > 0 ? new Uint8Array(debugBytes) : null;
  }

  get debug(): boolean {
    return this.capture !== null;
  }

  /** Starts writing to `target`; debug capture of this section starts at the current capture end. */
  begin(target: ByteTarget): void {
    this.target = target;
    this.pos = 0;
    this.captureFrom = this.captureLen;
  }

  /** Clears the debug capture (start of a new signing). */
  resetCapture(): void {
    this.captureLen = 0;
    this.captureFrom = 0;
  }

  byte(b: number): void {
    if (this.pos === SINK_STAGE_BYTES) this.flush();
    this.stage[this.pos++] = b;
  }

  /**
   * Writes src[start, end). Ranges that already sit in an arena are not
   * staged byte by byte (a method call per byte costs ~3x a bare loop on
   * XS): a long range goes to the target directly after the staged bytes,
   * a short one is copied into the stage in one tight loop per stage fill.
   */
  bytes(src: Uint8Array, start: number, end: number): void {
    if (end - start >= SINK_DIRECT_BYTES) {
      this.flush();
      this.deliver(src, start, end);
      return;
    }
    const stage = this.stage;
    let i = start;
    // Bounded: each pass fills the stage or consumes the range.
    while (i < end) {
      if (this.pos === SINK_STAGE_BYTES) this.flush();
      let pos = this.pos;
      const room = SINK_STAGE_BYTES - pos;
      const stop = end - i < room ? end : i + room;
      while (i < stop) stage[pos++] = src[i++]!;
      this.pos = pos;
    }
  }

  /**
   * Writes the UTF-8 of `text`, valid UTF-16 (the method, constants, the
   * session token kept as the caller's string). Reading a string costs a
   * native call per character on XS, so the ASCII loop does nothing else:
   * one stage fill per pass, no per-character room check.
   */
  text(text: string): void {
    const stage = this.stage;
    const n = text.length;
    let pos = this.pos;
    let i = 0;
    // Bounded: each pass consumes at least one character.
    while (i < n) {
      pos = this.room(pos, MAX_CHAR_BYTES);
      const stop = n - i < SINK_STAGE_BYTES - pos ? n : i + (SINK_STAGE_BYTES - pos);
      for (; i < stop; i++) {
        const c = charCodeAt.call(text, i);
        if (c >= 0x80) break;
        stage[pos++] = c;
      }
      if (i < stop) {
        // One non-ASCII character (or surrogate pair).
        pos = this.room(pos, MAX_CHAR_BYTES);
        const units = unitsAt(text, i);
        pos = encodeUtf8Into(text, i, i + units, stage, pos, SINK_STAGE_BYTES);
        i += units;
      }
    }
    this.pos = pos;
  }

  /** Writes the RFC 3986 encoding of the UTF-8 of `text` (valid UTF-16; a presigned token). */
  encodedText(text: string): void {
    const stage = this.stage;
    let pos = this.pos;
    for (let i = 0; i < text.length; i++) {
      pos = this.room(pos, MAX_ENCODED_CHAR_BYTES);
      const c = charCodeAt.call(text, i);
      if (c < 0x80 && isUnreserved(c)) {
        stage[pos++] = c;
        continue;
      }
      const units = unitsAt(text, i);
      pos = encodeTextInto(text, i, i + units, stage, pos);
      i += units - 1;
    }
    this.pos = pos;
  }

  /** Flushes staged bytes to the target; the caller then finishes the target. */
  end(): void {
    this.flush();
    this.target = null;
  }

  /** Text captured since the last begin() (debug mode only; allocates the string). */
  capturedSection(): string {
    return this.capture === null ? '' : decodeUtf8(this.capture, this.captureFrom, this.captureLen);
  }

  /** The stage position after making room for `bytes` more (flushing when needed). */
  private room(pos: number, bytes: number): number {
    if (pos <= SINK_STAGE_BYTES - bytes) return pos;
    this.pos = pos;
    this.flush();
    return 0;
  }

  private flush(): void {
    if (this.pos > 0) this.deliver(this.stage, 0, this.pos);
    this.pos = 0;
  }

  /** Everything reaches the target here, so debug capture sees exactly what was hashed. */
  private deliver(src: Uint8Array, start: number, end: number): void {
    if (this.capture !== null) this.captureRange(src, start, end);
    if (this.target !== null) this.target.update(src, start, end);
  }

  private captureRange(src: Uint8Array, start: number, end: number): void {
    const capture = this.capture!;
    if (this.captureLen + (end - start) > capture.length) throw limitExceeded('maxDebugBytes', 'debug capture');
    let o = this.captureLen;
    for (let i = start; i < end; i++) capture[o++] = src[i]!;
    this.captureLen = o;
  }
}
