// The portable SHA-256 backend: @noble/hashes behind the Sha256 port.
//
// reset() must not allocate a new hasher per digest, so we keep one pristine
// (never updated) instance and copy its state into the working instance with
// noble's `_cloneInto` (public in noble 2.x: it is what `clone()` uses).
// noble itself still makes a few small temporaries per call (a DataView for
// block-aligned input, an array in `_cloneInto`); none grows with the input.
import { _SHA256 } from '@noble/hashes/sha2.js';
import type { Sha256, Sha256Factory } from '../ports.js';

export class NobleSha256 implements Sha256 {
  private readonly pristine = new _SHA256();
  private readonly working = new _SHA256();

  reset(): void {
    this.pristine._cloneInto(this.working);
  }

  update(bytes: Uint8Array, start: number, end: number): void {
    // A whole-array update avoids allocating a subarray view.
    this.working.update(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
  }

  finish(out: Uint8Array, offset: number): void {
    if (offset === 0) this.working.digestInto(out); // writes out[0, 32) only
    else this.working.digestInto(out.subarray(offset, offset + 32));
  }
}

export const nobleSha256: Sha256Factory = () => new NobleSha256();
