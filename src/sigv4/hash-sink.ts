// Streams bytes into an incremental hash (or HMAC) through a small staging
// buffer, so the canonical request is never materialised whole. Staging
// keeps the per-byte cost low: the hash sees few, block-sized updates.
//
// Debug mode (opt-in, for the CLI and tests) also copies every byte into a
// capture buffer allocated once at construction.
import { limitExceeded } from './errors.js';
import { decodeUtf8 } from './utf8.js';

/** Staging size: two SHA-256 blocks. */
export const SINK_STAGE_BYTES = 128;
/** Ranges at least this long bypass the stage (the target absorbs them in place). */
export const SINK_DIRECT_BYTES = 64;

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
    if (this.capture !== null) this.captureRange(this.stage, this.pos - 1, this.pos);
  }

  /**
   * Writes src[start, end). Ranges that already sit in an arena are not
   * staged byte by byte (a method call per byte costs ~3x a bare loop on
   * XS): a long range goes to the target directly after the staged bytes,
   * a short one is copied into the stage in one tight loop per stage fill.
   */
  bytes(src: Uint8Array, start: number, end: number): void {
    if (this.capture !== null) this.captureRange(src, start, end);
    if (end - start >= SINK_DIRECT_BYTES && this.target !== null) {
      this.flush();
      this.target.update(src, start, end);
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

  /** Writes a string of code units < 0x80 (short variable text such as the method). */
  ascii(text: string): void {
    for (let i = 0; i < text.length; i++) this.byte(text.charCodeAt(i));
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

  private flush(): void {
    if (this.pos > 0 && this.target !== null) this.target.update(this.stage, 0, this.pos);
    this.pos = 0;
  }

  private captureRange(src: Uint8Array, start: number, end: number): void {
    const capture = this.capture!;
    if (this.captureLen + (end - start) > capture.length) throw limitExceeded('maxDebugBytes', 'debug capture');
    let o = this.captureLen;
    for (let i = start; i < end; i++) capture[o++] = src[i]!;
    this.captureLen = o;
  }
}
