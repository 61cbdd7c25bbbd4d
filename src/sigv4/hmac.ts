// HMAC-SHA256 (RFC 2104) on the Sha256 port, with preallocated pad blocks.
//
// One HmacSha256 owns one Sha256 instance and is used sequentially:
// setKey(), then any number of begin()/update()/finish() rounds.
//
// When the backend can save and restore its state (the optional
// Sha256.saveState/restoreState), setKey() absorbs the ipad and opad blocks
// once and keeps the two keyed states (10 words each): every MAC then costs
// only the message blocks plus one outer block, instead of two more
// compressions per MAC. Without them (Moddable's `crypt` Digest), the pad
// blocks are rehashed per MAC as before.
import type { Sha256 } from '../ports.js';

const BLOCK_BYTES = 64;
export const HMAC_SHA256_BYTES = 32;
const IPAD = 0x36;
const OPAD = 0x5c;
/** Words of a saved Sha256 state (see Sha256.saveState). */
const STATE_WORDS = 10;

export class HmacSha256 {
  private readonly sha: Sha256;
  /** True when the backend can save and restore its state: the keyed states are kept, the pads are not. */
  private readonly canCache: boolean;
  /** The key block: ipad while setKey() absorbs it, then opad; kept only without state caching. */
  private readonly ipad: Uint8Array;
  private readonly opad: Uint8Array;
  private readonly inner = new Uint8Array(HMAC_SHA256_BYTES);
  /** Keyed states after the ipad / opad block (valid when `cached`). */
  private readonly innerState: Int32Array;
  private readonly outerState: Int32Array;
  private cached = false;

  constructor(sha: Sha256) {
    this.sha = sha;
    this.canCache = sha.saveState !== undefined && sha.restoreState !== undefined;
    this.ipad = new Uint8Array(BLOCK_BYTES);
    // With caching, one pad block serves both (opad = ipad ^ 0x36 ^ 0x5c, in place).
    this.opad = this.canCache ? this.ipad : new Uint8Array(BLOCK_BYTES);
    this.innerState = new Int32Array(this.canCache ? STATE_WORDS : 0);
    this.outerState = new Int32Array(this.canCache ? STATE_WORDS : 0);
  }

  /** Sets the key key[start, end). Keys longer than a block are hashed first, as RFC 2104 says. */
  setKey(key: Uint8Array, start: number, end: number): void {
    const { ipad, opad, sha } = this;
    ipad.fill(0);
    if (end - start > BLOCK_BYTES) {
      sha.reset();
      sha.update(key, start, end);
      sha.finish(ipad, 0);
    } else {
      for (let i = start; i < end; i++) ipad[i - start] = key[i]!;
    }
    this.cached = false;
    if (this.canCache) {
      for (let i = 0; i < BLOCK_BYTES; i++) ipad[i] = ipad[i]! ^ IPAD;
      sha.reset();
      sha.update(ipad, 0, BLOCK_BYTES);
      const innerSaved = sha.saveState!(this.innerState);
      for (let i = 0; i < BLOCK_BYTES; i++) ipad[i] = ipad[i]! ^ (IPAD ^ OPAD);
      sha.reset();
      sha.update(ipad, 0, BLOCK_BYTES);
      this.cached = innerSaved && sha.saveState!(this.outerState);
      // The pad is key material and is not needed again: clear it.
      ipad.fill(0);
      if (!this.cached) throw new Error('sigv4 internal: a Sha256 with saveState refused to save a block-aligned state');
      return;
    }
    for (let i = 0; i < BLOCK_BYTES; i++) {
      opad[i] = ipad[i]! ^ OPAD;
      ipad[i] = ipad[i]! ^ IPAD;
    }
  }

  begin(): void {
    if (this.cached) this.sha.restoreState!(this.innerState);
    else {
      this.sha.reset();
      this.sha.update(this.ipad, 0, BLOCK_BYTES);
    }
  }

  update(bytes: Uint8Array, start: number, end: number): void {
    this.sha.update(bytes, start, end);
  }

  /** Writes the 32-byte MAC to out[offset, offset + 32). */
  finish(out: Uint8Array, offset: number): void {
    const { sha, inner } = this;
    sha.finish(inner, 0);
    if (this.cached) sha.restoreState!(this.outerState);
    else {
      sha.reset();
      sha.update(this.opad, 0, BLOCK_BYTES);
    }
    sha.update(inner, 0, HMAC_SHA256_BYTES);
    sha.finish(out, offset);
  }

  /** One-shot: MAC of message[start, end) into out at offset. */
  mac(message: Uint8Array, start: number, end: number, out: Uint8Array, offset: number): void {
    this.begin();
    this.update(message, start, end);
    this.finish(out, offset);
  }

  /** Overwrites the key material (call when the key must not linger in RAM). */
  wipe(): void {
    this.ipad.fill(0);
    this.opad.fill(0);
    this.inner.fill(0);
    this.innerState.fill(0);
    this.outerState.fill(0);
    this.cached = false;
  }
}
