// Node adapter for RandomPort: the platform CSPRNG. getRandomValues accepts
// at most 65536 bytes per call, so larger requests are filled in chunks.
import { getRandomValues } from 'node:crypto';
import type { RandomPort } from '../../ports.js';

const MAX_CHUNK_BYTES = 65536;

export class NodeRandom implements RandomPort {
  readonly strong = true;
  fill(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += MAX_CHUNK_BYTES) {
      getRandomValues(bytes.subarray(at, Math.min(bytes.length, at + MAX_CHUNK_BYTES)));
    }
  }
}
