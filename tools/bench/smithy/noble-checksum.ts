// The `sha256` constructor @smithy/signature-v4 is given in the benchmark,
// on Node and (bundled) on XS: smithy's Checksum contract (`new (secret?)`,
// `update(data)`, `async digest()`; a secret means HMAC) backed by
// @noble/hashes, the SHA-256 code our signer and the floor use too.
// Optionally records what each instance absorbed, so the host can recover
// smithy's canonical request and string to sign. Portable (Node and XS).
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';

/** What one smithy-created hash instance absorbed (secret set = HMAC). */
export interface HashRecord {
  secret: Uint8Array | null;
  data: Uint8Array;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function nobleChecksumClass(records: HashRecord[] | null = null) {
  return class NobleChecksum {
    private readonly secret: Uint8Array | null;
    private hash: ReturnType<typeof sha256.create> | ReturnType<typeof hmac.create>;
    private readonly chunks: Uint8Array[] = [];
    constructor(secret?: SourceData) {
      this.secret = secret === undefined ? null : toBytes(secret);
      this.hash = this.secret ? hmac.create(sha256, this.secret) : sha256.create();
    }
    update(data: SourceData): void {
      const bytes = toBytes(data);
      if (records) this.chunks.push(bytes.slice());
      this.hash.update(bytes);
    }
    async digest(): Promise<Uint8Array> {
      if (records) records.push({ secret: this.secret, data: concat(this.chunks) });
      return this.hash.digest();
    }
    reset(): void {
      this.hash = this.secret ? hmac.create(sha256, this.secret) : sha256.create();
      this.chunks.length = 0;
    }
  };
}
