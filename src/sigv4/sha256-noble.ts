// The portable SHA-256 backend: @noble/hashes behind the Sha256 port.
//
// Drives only noble's compression function and does the framing here, so
// that hashing allocates nothing sized by the request: why and how in
// docs/signer.md ("The @noble/hashes adapter").
import { _SHA256 } from '@noble/hashes/sha2.js';
import type { Sha256, Sha256Factory } from '../ports.js';
import { copyRange } from './copy.js';

const BLOCK_BYTES = 64;
/** SHA-256 initial hash value (FIPS 180-4, 5.3.3). */
const IV: readonly number[] = Object.freeze([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
/** Words of a saved state (Sha256.saveState): 8 chaining words, absorbed length low and high. */
export const SHA256_STATE_WORDS = 10;
/** Padding needs 1 byte (0x80) and an 8-byte bit length. */
const LENGTH_OFFSET = BLOCK_BYTES - 8;

/** The parts of noble's _SHA256 we use (protected in its typings). */
interface NobleCore {
  A: number;
  B: number;
  C: number;
  D: number;
  E: number;
  F: number;
  G: number;
  H: number;
  process(view: DataView, offset: number): void;
  roundClean(): void;
  /** noble's partial-block buffer and its view (HashMD); we use them as our block. */
  buffer: Uint8Array;
  view: DataView;
}

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
}

export class NobleSha256 implements Sha256 {
  private readonly core: NobleCore;
  private readonly block: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  /** Total bytes absorbed (exact as a double up to 2^53). */
  private length = 0;

  constructor() {
    const core = new _SHA256() as unknown as NobleCore;
    if (!(core.buffer instanceof Uint8Array) || core.buffer.length !== BLOCK_BYTES || !(core.view instanceof DataView)) {
      throw new Error('sha256-noble: @noble/hashes internals changed (no 64-byte buffer/view)');
    }
    this.core = core;
    this.block = core.buffer;
    this.view = core.view;
    this.reset();
  }

  reset(): void {
    const core = this.core;
    core.A = IV[0]! | 0; core.B = IV[1]! | 0; core.C = IV[2]! | 0; core.D = IV[3]! | 0;
    core.E = IV[4]! | 0; core.F = IV[5]! | 0; core.G = IV[6]! | 0; core.H = IV[7]! | 0;
    this.pos = 0;
    this.length = 0;
  }

  update(bytes: Uint8Array, start: number, end: number): void {
    const { block, core, view } = this;
    let pos = this.pos;
    let i = start;
    // Top up a partial block first.
    if (pos > 0) {
      const stop = end - i < BLOCK_BYTES - pos ? end : i + (BLOCK_BYTES - pos);
      pos = copyRange(bytes, i, stop, block, pos);
      i = stop;
      if (pos === BLOCK_BYTES) {
        core.process(view, 0);
        pos = 0;
      }
    }
    // Whole blocks straight from the input.
    if (end - i >= BLOCK_BYTES) {
      const input = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (; end - i >= BLOCK_BYTES; i += BLOCK_BYTES) core.process(input, i);
    }
    // The tail waits in the block.
    if (i < end) pos = copyRange(bytes, i, end, block, pos);
    this.length += end - start;
    this.pos = pos;
  }

  saveState(state: Int32Array): boolean {
    if (this.pos !== 0 || state.length < SHA256_STATE_WORDS) return false;
    const { core } = this;
    state[0] = core.A; state[1] = core.B; state[2] = core.C; state[3] = core.D;
    state[4] = core.E; state[5] = core.F; state[6] = core.G; state[7] = core.H;
    state[8] = this.length % 0x100000000;
    state[9] = Math.floor(this.length / 0x100000000);
    return true;
  }

  restoreState(state: Int32Array): void {
    const { core } = this;
    core.A = state[0]!; core.B = state[1]!; core.C = state[2]!; core.D = state[3]!;
    core.E = state[4]!; core.F = state[5]!; core.G = state[6]!; core.H = state[7]!;
    this.length = (state[8]! >>> 0) + (state[9]! >>> 0) * 0x100000000;
    this.pos = 0;
  }

  finish(out: Uint8Array, offset: number): void {
    const { block, core, view } = this;
    let pos = this.pos;
    block[pos++] = 0x80;
    if (pos > LENGTH_OFFSET) {
      block.fill(0, pos);
      core.process(view, 0);
      pos = 0;
    }
    block.fill(0, pos, LENGTH_OFFSET);
    const bits = this.length * 8;
    view.setUint32(LENGTH_OFFSET, Math.floor(bits / 0x100000000), false);
    view.setUint32(LENGTH_OFFSET + 4, bits >>> 0, false);
    core.process(view, 0);
    // Hygiene as in noble: no message-derived words left in its shared schedule or our block.
    core.roundClean();
    block.fill(0);
    put32(out, offset, core.A);
    put32(out, offset + 4, core.B);
    put32(out, offset + 8, core.C);
    put32(out, offset + 12, core.D);
    put32(out, offset + 16, core.E);
    put32(out, offset + 20, core.F);
    put32(out, offset + 24, core.G);
    put32(out, offset + 28, core.H);
    this.pos = 0;
  }
}

export const nobleSha256: Sha256Factory = () => new NobleSha256();
