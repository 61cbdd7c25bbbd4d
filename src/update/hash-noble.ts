// The portable HashPort: SHA-256 and SHA-512 from @noble/hashes (pure
// ES2022; runs on XS). Other algorithms answer null, which fails the check.
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import type { HashPort } from './ports.js';

export class NobleHash implements HashPort {
  digest(algorithm: string, bytes: Uint8Array): Uint8Array | null {
    if (algorithm === 'sha256') return sha256(bytes);
    if (algorithm === 'sha512') return sha512(bytes);
    return null;
  }
}
