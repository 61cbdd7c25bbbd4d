// Sha256 port over the SDK's native `crypt` Digest (C, software SHA-256 on
// every platform; no ESP32 hardware acceleration in the SDK).
//
// Digest.write() reads any buffer view through xsmcGetBufferReadable, so a
// subarray (a small view object, no copy of the bytes) is enough; the SDK's
// typing only says ArrayBuffer, hence the cast. Digest.close() always
// allocates a fresh 32-byte ArrayBuffer: that is the one allocation per
// digest we cannot avoid without native code.
import { Digest } from 'crypt';
import type { Sha256, Sha256Factory } from '../../ports.js';

/** SHA-256 output size in bytes. */
export const SHA256_BYTES = 32;

export class CryptSha256 implements Sha256 {
  private readonly digest = new Digest('SHA256');
  private open = true;
  reset(): void {
    this.digest.reset();
    this.open = true;
  }
  update(bytes: Uint8Array, start: number, end: number): void {
    if (!this.open) throw new Error('CryptSha256: update() after finish() without reset()');
    if (!(start >= 0 && start <= end && end <= bytes.length)) throw new RangeError('CryptSha256: bad range');
    if (end > start) this.digest.write(bytes.subarray(start, end) as unknown as ArrayBuffer);
  }
  finish(out: Uint8Array, offset: number): void {
    if (!this.open) throw new Error('CryptSha256: finish() twice without reset()');
    if (!(offset >= 0 && offset + SHA256_BYTES <= out.length)) throw new RangeError('CryptSha256: output does not fit');
    out.set(new Uint8Array(this.digest.close()), offset);
    this.open = false;
  }
}

export const cryptSha256Factory: Sha256Factory = () => new CryptSha256();
