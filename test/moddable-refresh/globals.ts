// @noble/hashes encodes its domain-separation strings with the global
// TextEncoder at module load (xsnap has one). Moddable's (`text/encoder`) is
// native, which a preloaded module cannot call at build time, so noble gets
// this JavaScript one (our UTF-8 encoder). Preloaded before noble.
import { utf8Bytes } from 'shared/utf8';

class Utf8Encoder {
  readonly encoding = 'utf-8';
  encode(input = ''): Uint8Array {
    return utf8Bytes(input);
  }
}

(globalThis as { TextEncoder?: unknown }).TextEncoder ??= Utf8Encoder;
