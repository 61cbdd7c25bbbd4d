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
    if (this.capture !== null) this.captureByte(b);
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) this.byte(src[i]!);
  }

  /** Writes a string of code units < 0x80 (constants, digits, hex). */
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

  private captureByte(b: number): void {
    const capture = this.capture!;
    if (this.captureLen >= capture.length) throw limitExceeded('maxDebugBytes', 'debug capture');
    capture[this.captureLen++] = b;
  }
}
