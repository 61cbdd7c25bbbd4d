// HMAC-SHA256 (RFC 2104) on the Sha256 port, with preallocated pad blocks.
//
// One HmacSha256 owns one Sha256 instance and is used sequentially:
// setKey(), then any number of begin()/update()/finish() rounds.
import type { Sha256 } from '../ports.js';

const BLOCK_BYTES = 64;
export const HMAC_SHA256_BYTES = 32;
const IPAD = 0x36;
const OPAD = 0x5c;

export class HmacSha256 {
  private readonly sha: Sha256;
  private readonly ipad = new Uint8Array(BLOCK_BYTES);
  private readonly opad = new Uint8Array(BLOCK_BYTES);
  private readonly inner = new Uint8Array(HMAC_SHA256_BYTES);

  constructor(sha: Sha256) {
    this.sha = sha;
  }

  /** Sets the key key[start, end). Keys longer than a block are hashed first, as RFC 2104 says. */
  setKey(key: Uint8Array, start: number, end: number): void {
    const { ipad, opad } = this;
    ipad.fill(0);
    if (end - start > BLOCK_BYTES) {
      this.sha.reset();
      this.sha.update(key, start, end);
      this.sha.finish(ipad, 0);
    } else {
      for (let i = start; i < end; i++) ipad[i - start] = key[i]!;
    }
    for (let i = 0; i < BLOCK_BYTES; i++) {
      opad[i] = ipad[i]! ^ OPAD;
      ipad[i] = ipad[i]! ^ IPAD;
    }
  }

  begin(): void {
    this.sha.reset();
    this.sha.update(this.ipad, 0, BLOCK_BYTES);
  }

  update(bytes: Uint8Array, start: number, end: number): void {
    this.sha.update(bytes, start, end);
  }

  /** Writes the 32-byte MAC to out[offset, offset + 32). */
  finish(out: Uint8Array, offset: number): void {
    const { sha, inner } = this;
    sha.finish(inner, 0);
    sha.reset();
    sha.update(this.opad, 0, BLOCK_BYTES);
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
  }
}
