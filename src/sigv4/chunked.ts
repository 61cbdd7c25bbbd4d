// Chunked upload signing (S3 `aws-chunked`), in constant memory.
//
// After Signer.sign() with payloadHash STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// (or ...-PAYLOAD-TRAILER) gives the seed signature, each chunk is signed
// over the previous signature:
//   AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous \n sha256("") \n sha256(chunk)
// The last chunk is empty. With a trailer, the trailing headers are signed
// after it:
//   AWS4-HMAC-SHA256-TRAILER \n date \n scope \n previous \n sha256(canonical trailers)
// where canonical trailers are `name:value\n` lines as for headers.
import type { HeaderList, Sha256, Sha256Factory } from '../ports.js';
import { AMZ_DATE_BYTES } from './amz-date.js';
import { SigV4Error } from './errors.js';
import { HashSink } from './hash-sink.js';
import { HeaderTable } from './header-table.js';
import { hexInto, isSha256Hex } from './hex.js';
import { HMAC_SHA256_BYTES, HmacSha256 } from './hmac.js';
import type { SignerLimits } from './limits.js';
import { MAX_SCOPE_BYTES, SEED_NOT_STREAMING, SEED_STREAMING_TRAILER, SIGNATURE_HEX_BYTES, type SeedState } from './seed-state.js';
import { decodeAscii } from '../shared/utf8.js';

const EMPTY_SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CHUNK_ALGORITHM = 'AWS4-HMAC-SHA256-PAYLOAD';
const TRAILER_ALGORITHM = 'AWS4-HMAC-SHA256-TRAILER';

const CHUNK_SIGNATURE_PREFIX = ';chunk-signature=';
const CRLF_BYTES = 2;
const HEX_DIGITS = '0123456789abcdef';

/**
 * Bytes `aws-chunked` framing adds to a chunk of `size` bytes:
 * `<hex size>;chunk-signature=<64 hex>\r\n` before the data and `\r\n` after it.
 * The content-length of an upload is the sum over all chunks (including the
 * final empty one) of size + chunkFramingBytes(size), plus trailer lines if any.
 */
export function chunkFramingBytes(size: number): number {
  let digits = 1;
  for (let v = Math.floor(size / 16); v > 0; v = Math.floor(v / 16)) digits++;
  return digits + CHUNK_SIGNATURE_PREFIX.length + SIGNATURE_HEX_BYTES + CRLF_BYTES + CRLF_BYTES;
}

const IDLE = 0;
const CHUNKS = 1;
const IN_CHUNK = 2;
const FINAL_SIGNED = 3;
const DONE = 4;

export class ChunkSigner {
  /** Signature of the last chunk or trailer: 64 lower-case hex bytes. */
  readonly signature = new Uint8Array(SIGNATURE_HEX_BYTES);
  private readonly seed: SeedState;
  private readonly sha: Sha256;
  private readonly hmac: HmacSha256;
  private readonly sink: HashSink;
  /** Debug mode only: string-to-sign of the last chunk or trailer. */
  debugStringToSign = '';
  private readonly trailers: HeaderTable;
  private readonly key = new Uint8Array(HMAC_SHA256_BYTES);
  private readonly amzDate = new Uint8Array(AMZ_DATE_BYTES);
  private readonly scope = new Uint8Array(MAX_SCOPE_BYTES);
  private scopeLen = 0;
  private readonly digest = new Uint8Array(HMAC_SHA256_BYTES);
  private readonly digestHex = new Uint8Array(SIGNATURE_HEX_BYTES);
  private state = IDLE;
  private trailer = false;
  private chunkBytes = 0;

  /** `debugBytes` > 0 captures each string-to-sign (the Signer passes its debug setting). */
  constructor(seed: SeedState, sha256: Sha256Factory, limits: SignerLimits, debugBytes = 0) {
    this.seed = seed;
    this.sink = new HashSink(debugBytes);
    this.sha = sha256();
    this.hmac = new HmacSha256(sha256());
    this.trailers = new HeaderTable(limits);
  }

  /** Starts an upload from the last signing, which must have used a STREAMING-AWS4-HMAC-SHA256-* payload hash. */
  begin(): void {
    const seed = this.seed;
    if (!seed.valid || seed.streaming === SEED_NOT_STREAMING) {
      throw new SigV4Error('INVALID_STATE', 'begin() needs a preceding signing with a STREAMING-AWS4-HMAC-SHA256 payload hash');
    }
    this.key.set(seed.key);
    this.amzDate.set(seed.amzDate);
    const scopeLen = seed.scopeEnd - seed.scopeStart;
    for (let i = 0; i < scopeLen; i++) this.scope[i] = seed.scope[seed.scopeStart + i]!;
    this.scopeLen = scopeLen;
    this.signature.set(seed.signature);
    this.trailer = seed.streaming === SEED_STREAMING_TRAILER;
    this.state = CHUNKS;
  }

  /**
   * Continues an upload from a known position: `previousSignature` (64 hex)
   * is the signature the next chunk (`next` 'chunk') or the trailer (`next`
   * 'trailer', after the final empty chunk) chains on. Key, date and scope
   * come from the last STREAMING-* signing, as in begin(). For resuming after
   * a restart, and for checking a trailer against a known chain.
   */
  resume(previousSignature: string, next: 'chunk' | 'trailer'): void {
    if (typeof previousSignature !== 'string' || !isSha256Hex(previousSignature)) {
      throw new SigV4Error('INVALID_REQUEST', 'previousSignature must be 64 lower-case hex digits');
    }
    if (next !== 'chunk' && next !== 'trailer') throw new SigV4Error('INVALID_REQUEST', "next must be 'chunk' or 'trailer'");
    this.begin();
    for (let i = 0; i < SIGNATURE_HEX_BYTES; i++) this.signature[i] = previousSignature.charCodeAt(i);
    if (next === 'trailer') {
      this.trailer = true;
      this.state = FINAL_SIGNED;
    }
  }

  /** Starts a chunk whose bytes arrive through updateChunk(). */
  beginChunk(): void {
    if (this.state !== CHUNKS) throw new SigV4Error('INVALID_STATE', 'beginChunk() outside an upload (or after the final chunk)');
    this.sha.reset();
    this.chunkBytes = 0;
    this.state = IN_CHUNK;
  }

  updateChunk(bytes: Uint8Array, start: number, end: number): void {
    if (this.state !== IN_CHUNK) throw new SigV4Error('INVALID_STATE', 'updateChunk() outside a chunk');
    this.sha.update(bytes, start, end);
    this.chunkBytes += end - start;
  }

  /** Signs the chunk; an empty chunk is the final one. The signature is in `signature`. */
  finishChunk(): void {
    if (this.state !== IN_CHUNK) throw new SigV4Error('INVALID_STATE', 'finishChunk() outside a chunk');
    this.sha.finish(this.digest, 0);
    hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.digestHex, 0);
    this.hmac.setKey(this.key, 0, HMAC_SHA256_BYTES);
    this.hmac.begin();
    const sink = this.sink;
    sink.resetCapture();
    sink.begin(this.hmac);
    this.writePrefix(CHUNK_ALGORITHM);
    sink.text(EMPTY_SHA256_HEX);
    sink.byte(0x0a);
    sink.bytes(this.digestHex, 0, SIGNATURE_HEX_BYTES);
    sink.end();
    this.hmac.finish(this.digest, 0);
    if (sink.debug) this.debugStringToSign = sink.capturedSection();
    hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.signature, 0);
    this.state = this.chunkBytes === 0 ? (this.trailer ? FINAL_SIGNED : DONE) : CHUNKS;
  }

  /** One-shot: signs bytes[start, end) as the next chunk; returns the signature (allocates the string). */
  signChunk(bytes: Uint8Array, start = 0, end = bytes.length): string {
    this.beginChunk();
    this.updateChunk(bytes, start, end);
    this.finishChunk();
    return this.signatureHex();
  }

  /** Signs the trailing headers after the final (empty) chunk of a ...-PAYLOAD-TRAILER upload. */
  signTrailer(trailers: HeaderList): string {
    if (this.state !== FINAL_SIGNED) throw new SigV4Error('INVALID_STATE', 'signTrailer() needs a trailer upload whose final empty chunk is signed');
    const table = this.trailers;
    table.reset();
    if (!Array.isArray(trailers)) throw new SigV4Error('INVALID_REQUEST', 'trailers must be an array of [name, value]');
    for (let i = 0; i < trailers.length; i++) {
      const h = trailers[i];
      if (!Array.isArray(h) || h.length !== 2) throw new SigV4Error('INVALID_REQUEST', `trailer ${i} must be a [name, value] pair`);
      table.addCaller(h[0], h[1], i);
    }
    table.sort();
    const sink = this.sink;
    sink.resetCapture();
    this.sha.reset();
    sink.begin(this.sha);
    table.writeCanonical(sink);
    sink.end();
    this.sha.finish(this.digest, 0);
    hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.digestHex, 0);
    this.hmac.setKey(this.key, 0, HMAC_SHA256_BYTES);
    this.hmac.begin();
    sink.begin(this.hmac);
    this.writePrefix(TRAILER_ALGORITHM);
    sink.bytes(this.digestHex, 0, SIGNATURE_HEX_BYTES);
    sink.end();
    this.hmac.finish(this.digest, 0);
    if (sink.debug) this.debugStringToSign = sink.capturedSection();
    hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.signature, 0);
    this.state = DONE;
    return this.signatureHex();
  }

  /**
   * Writes the chunk line for a chunk of `size` bytes signed last:
   * `<hex size>;chunk-signature=<signature>\r\n` into out at offset; returns
   * the offset after it. The caller sends the data and `\r\n` next. Throws
   * LIMIT_EXCEEDED (limit 'out') if it does not fit.
   */
  writeChunkLine(size: number, out: Uint8Array, offset: number): number {
    if (!Number.isInteger(size) || size < 0) throw new SigV4Error('INVALID_REQUEST', 'chunk size must be a non-negative integer');
    const need = chunkFramingBytes(size) - CRLF_BYTES;
    if (offset < 0 || offset + need > out.length) throw new SigV4Error('LIMIT_EXCEEDED', 'chunk line does not fit the buffer', 'out');
    let digits = 1;
    for (let v = Math.floor(size / 16); v > 0; v = Math.floor(v / 16)) digits++;
    let o = offset;
    for (let i = digits - 1, v = size; i >= 0; i--, v = Math.floor(v / 16)) out[o + i] = HEX_DIGITS.charCodeAt(v % 16);
    o += digits;
    for (let i = 0; i < CHUNK_SIGNATURE_PREFIX.length; i++) out[o++] = CHUNK_SIGNATURE_PREFIX.charCodeAt(i);
    for (let i = 0; i < SIGNATURE_HEX_BYTES; i++) out[o++] = this.signature[i]!;
    out[o++] = 0x0d;
    out[o++] = 0x0a;
    return o;
  }

  /** Overwrites the copied signing key and ends any upload (Signer.wipe() calls it). */
  wipe(): void {
    this.key.fill(0);
    this.hmac.wipe();
    this.state = IDLE;
  }

  /** The last signature as a string (allocates it). */
  signatureHex(): string {
    return decodeAscii(this.signature, 0, SIGNATURE_HEX_BYTES);
  }

  /** `algorithm \n date \n scope \n previous-signature \n` */
  private writePrefix(algorithm: string): void {
    const sink = this.sink;
    sink.text(algorithm);
    sink.byte(0x0a);
    sink.bytes(this.amzDate, 0, AMZ_DATE_BYTES);
    sink.byte(0x0a);
    sink.bytes(this.scope, 0, this.scopeLen);
    sink.byte(0x0a);
    sink.bytes(this.signature, 0, SIGNATURE_HEX_BYTES);
    sink.byte(0x0a);
  }
}
