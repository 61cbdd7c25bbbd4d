// Streams a verified target into a staging flash region: one chunk at a time
// by HTTP Range, each block erased before its first write, SHA-256 absorbed
// as the bytes arrive, the length from the trusted metadata enforced on the
// way (no byte past it is ever asked for or written), the digest compared at
// the end. The caller's buffer is the only one: each written chunk is read
// back into it and compared, so a flash that stores other bytes is the
// device's failure ('storage'), never blamed on the target ('bad-hash').
//
// Fetches: ceil(length / chunk) chunks plus one probe at `length` (the file
// must end there). No retries here: a failed stage is retried whole by the
// caller with its backoff; the region then starts over from block 0.
import type { FlashPort, Sha256 } from '../ports.js';
import { hexDigitValue } from '../sigv4/hex.js';
import type { RangeFetchPort } from './ports.js';
import { UpdateError } from './update-error.js';

/** Bytes asked for per fetch (and the size of the caller's buffer). */
export const STAGING_CHUNK_BYTES = 4096;

const SHA256_BYTES = 32;

export interface StageOptions {
  source: RangeFetchPort;
  url: string;
  length: number;
  sha256Hex: string;
  /** Where the image goes (e.g. FirmwareSlots.inactive()); erased block by block as it fills. */
  region: FlashPort;
  /** From the Sha256Factory: streamed. */
  sha256: Sha256;
  /** Chunk buffer, allocated once by the caller (STAGING_CHUNK_BYTES); chunks are at most its length. */
  buffer: Uint8Array;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The 32 digest bytes of a 64-digit hex SHA-256 (either case), or null. */
function digestOf(text: string): Uint8Array | null {
  if (typeof text !== 'string' || text.length !== SHA256_BYTES * 2) return null;
  const out = new Uint8Array(SHA256_BYTES);
  for (let i = 0; i < SHA256_BYTES; i++) {
    const hi = hexDigitValue(text.charCodeAt(2 * i));
    const lo = hexDigitValue(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** One range of the target: its bytes (at most `length`), or UpdateError 'fetch'. */
async function fetchChunk(o: StageOptions, offset: number, length: number): Promise<Uint8Array> {
  let got: Uint8Array | null;
  try {
    got = await o.source.fetchRange(o.url, offset, length);
  } catch (e) {
    throw new UpdateError('fetch', `${o.url} at ${offset}: ${message(e)}`);
  }
  if (got === null) throw new UpdateError('fetch', `${o.url}: not in the repository`);
  if (!(got instanceof Uint8Array)) throw new UpdateError('fetch', `${o.url} at ${offset}: not bytes`);
  if (got.length > length) throw new UpdateError('fetch', `${o.url} at ${offset}: ${got.length} bytes for ${length} asked`);
  return got;
}

/**
 * Streams the target into region, hashing as it goes; throws UpdateError
 * too-large | fetch | bad-hash | storage (and an UpdateError the region
 * itself throws, e.g. FirmwareSlots' 'busy'). Length enforced while downloading.
 */
export async function stageTarget(o: StageOptions): Promise<void> {
  try {
    await stage(o);
  } catch (e) {
    if (e instanceof UpdateError) throw e;
    throw new UpdateError('storage', `staging: ${message(e)}`);
  }
}

async function stage(o: StageOptions): Promise<void> {
  const { region, sha256, buffer } = o;
  const { length } = o;
  if (!(Number.isInteger(length) && length >= 0)) throw new UpdateError('bad-hash', `${o.url}: length ${String(length)} is not a byte count`);
  const want = digestOf(o.sha256Hex);
  if (want === null) throw new UpdateError('bad-hash', `${o.url}: sha256 is not 64 hex digits`);
  if (!(buffer instanceof Uint8Array && buffer.length > 0)) throw new UpdateError('storage', 'no staging buffer');
  const capacity = region.blockSize * region.blockCount;
  if (!(length <= capacity)) throw new UpdateError('too-large', `${o.url}: ${length} bytes, staging region of ${capacity}`);
  const chunk = buffer.length;
  // Each iteration either advances by its chunk or throws: ceil(length / chunk) fetches at most.
  let erasedTo = 0;
  try {
    sha256.reset();
  } catch (e) {
    throw new UpdateError('storage', `sha256: ${message(e)}`);
  }
  for (let offset = 0; offset < length; ) {
    const ask = Math.min(chunk, length - offset);
    const got = await fetchChunk(o, offset, ask);
    if (got.length < ask) throw new UpdateError('fetch', `${o.url}: ended at ${offset + got.length} of ${length} bytes`);
    try {
      // Blocks are erased as the image reaches them; erasedTo <= capacity as offset + ask <= length.
      while (erasedTo < offset + ask) {
        region.erase(erasedTo / region.blockSize);
        erasedTo += region.blockSize;
      }
      region.write(offset, got, 0, ask);
      region.read(offset, buffer, 0, ask);
      sha256.update(got, 0, ask);
    } catch (e) {
      if (e instanceof UpdateError) throw e;
      throw new UpdateError('storage', `staging at ${offset}: ${message(e)}`);
    }
    for (let i = 0; i < ask; i++) {
      if (buffer[i] !== got[i]) throw new UpdateError('storage', `staging at ${offset + i}: flash did not read back as written`);
    }
    offset += ask;
  }
  // The file must end at the trusted length: a longer one is not the target (nothing past length was written).
  const past = await fetchChunk(o, length, 1);
  if (past.length !== 0) throw new UpdateError('bad-hash', `${o.url}: longer than the ${length} bytes its metadata lists`);
  const digest = new Uint8Array(SHA256_BYTES);
  try {
    sha256.finish(digest, 0);
  } catch (e) {
    throw new UpdateError('storage', `sha256: ${message(e)}`);
  }
  for (let i = 0; i < SHA256_BYTES; i++) {
    if (digest[i] !== want[i]) throw new UpdateError('bad-hash', `${o.url}: sha256 differs from its metadata`);
  }
}
