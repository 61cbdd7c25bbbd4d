// A HashPort over the platform's incremental SHA-256 (the Sha256Factory the
// signer uses: native `crypt` Digest on Moddable). SHA-256 only: the
// repositories the device trusts (tools/tuf-repo, the release tool) list
// SHA-256; any other algorithm answers null, which fails the check.
import type { Sha256, Sha256Factory } from '../ports.js';
import type { HashPort } from './ports.js';

export class Sha256HashPort implements HashPort {
  readonly #sha256: Sha256;

  constructor(factory: Sha256Factory) {
    this.#sha256 = factory();
  }

  digest(algorithm: string, bytes: Uint8Array): Uint8Array | null {
    if (algorithm !== 'sha256') return null;
    const out = new Uint8Array(32);
    this.#sha256.reset();
    this.#sha256.update(bytes, 0, bytes.length);
    this.#sha256.finish(out, 0);
    return out;
  }
}
