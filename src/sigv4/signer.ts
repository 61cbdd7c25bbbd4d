// The fixed-buffer SigV4 signer. See index.ts for the API summary.
//
// Construction allocates every buffer from the limits. sign()/presign()
// then validate and canonicalise the request into those buffers (tables of
// headers and query pairs), check that the output fits, and only then
// stream the canonical request into SHA-256 and the string-to-sign into
// HMAC-SHA256. A request that breaks a rule or a limit throws a SigV4Error
// before anything is written to the output.
import type { HeaderList, Sha256, Sha256Factory } from '../ports.js';
import { AMZ_DATE_BYTES, checkSigningTime, writeAmzDate } from './amz-date.js';
import { normalizePathInPlace, writeCanonicalPath } from './canonical-path.js';
import { SigV4Error, limitExceeded } from './errors.js';
import { HashSink } from './hash-sink.js';
import { HeaderTable, OWN_HEADER_SLOTS, OWN_NAME_BYTES } from './header-table.js';
import { hexInto, isSha256Hex } from './hex.js';
import { HMAC_SHA256_BYTES, HmacSha256 } from './hmac.js';
import { DEFAULT_LIMITS, MAX_LIMIT_VALUE, MAX_METHOD_BYTES, type SignerLimits } from './limits.js';
import { QueryTable } from './query-table.js';
import { nobleSha256 } from './sha256-noble.js';
import { SignedOutput } from './signed-output.js';
import { SeedState } from './seed-state.js';
import { CredentialStore, MAX_CREDENTIAL_BYTES, type SignerCredentials } from './credentials.js';
import { ChunkSigner } from './chunked.js';
import { asciiInto, copyRange } from './copy.js';
import { encodedRangeSize, encodeRangeInto, encodeTextInto } from './uri-encode.js';
import { encodeUtf8Into, utf8Length, UTF8_LONE_SURROGATE, UTF8_OVERFLOW } from '../shared/utf8.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** sha256("") in hex: the payload hash of an empty body. */
export const EMPTY_SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_PAYLOAD_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
/** Longest X-Amz-Expires AWS accepts: 7 days. */
export const MAX_EXPIRES_SECONDS = 604800;
const PAYLOAD_HASH_BYTES = 64;
const SIGNATURE_HEX_BYTES = 64;

/** Per-signer defaults of the independent signing flags (each overridable per request). */
export interface SigningFlags {
  /** Remove `.`, `..` and empty path segments (default true; S3: false). */
  normalizePath?: boolean | undefined;
  /** Encode the wire path once more (default true; S3: false). */
  doubleEncodePath?: boolean | undefined;
  /** Add and sign `x-amz-content-sha256` (header mode; default false; S3: true). */
  signBody?: boolean | undefined;
  /** Leave the session token out of the signature and append it afterwards (default false; IoT MQTT: true). */
  omitSessionToken?: boolean | undefined;
}

export interface SignerOptions extends SigningFlags {
  /**
   * Absent: the signer is built (all memory allocated) without credentials
   * and refuses to sign (INVALID_STATE) until setCredentials(); region and
   * service are then mandatory here.
   */
  credentials?: SignerCredentials | undefined;
  /** Signing region; for derived-key credentials it must match (or be omitted). */
  region?: string | undefined;
  /** Signing name (service); for derived-key credentials it must match (or be omitted). */
  service?: string | undefined;
  /** SHA-256 backend; default @noble/hashes. Called four times at construction, never afterwards. */
  sha256?: Sha256Factory | undefined;
  limits?: Partial<SignerLimits> | undefined;
  /** Capture canonical request and string-to-sign (CLI, tests). Allocates maxDebugBytes and the debug strings. */
  debug?: boolean | undefined;
  /**
   * Build the chunk signer (`signer.chunks`, S3 aws-chunked uploads): about
   * 1 KB more working memory (its own SHA-256, HMAC, trailer table and seed
   * copy). Default true; a device that never streams uploads sets false.
   */
  chunkedUploads?: boolean | undefined;
}

export interface SigningRequest extends SigningFlags {
  method: string;
  /** Wire path including the query, exactly as sent (`/a%2Fb?x=1`). */
  path: string;
  /** Ordered, duplicates allowed. Must contain `host`. */
  headers: HeaderList;
  /** Body bytes, hashed for the payload hash. Exclusive with payloadHash. */
  body?: Uint8Array | null | undefined;
  /** Precomputed payload hash: 64 lower-case hex, UNSIGNED-PAYLOAD or a STREAMING-* value. Default sha256(""). */
  payloadHash?: string | undefined;
  /** Signing time, epoch milliseconds from the secure clock. */
  timeMs: number;
  /** Presign only: X-Amz-Expires in seconds (1..604800); 0 or absent: no X-Amz-Expires. */
  expiresSeconds?: number | undefined;
  /** Presign only, with omitSessionToken: put X-Amz-Security-Token after X-Amz-Signature (AWS IoT's form). */
  sessionTokenLast?: boolean | undefined;
}

function checkLimits(partial: Partial<SignerLimits> | undefined): SignerLimits {
  const limits: SignerLimits = { ...DEFAULT_LIMITS, ...(partial ?? {}) };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof SignerLimits>) {
    const v = limits[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_LIMIT_VALUE) {
      throw new SigV4Error('INVALID_REQUEST', `limit ${key} must be an integer in 0..${MAX_LIMIT_VALUE}`);
    }
  }
  return limits;
}

/** Method characters: letters, digits, '-', '_', '.' (a subset of RFC 7230 tchar; every real method fits). */
function isMethodChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e;
}

export class Signer {
  readonly limits: Readonly<SignerLimits>;
  /** The result of the last sign()/presign() (reused; see SignedOutput). */
  readonly output: SignedOutput;
  /** Debug mode only: canonical request and string-to-sign of the last signing. */
  debugCanonicalRequest = '';
  debugStringToSign = '';

  private readonly flags: Required<SigningFlags>;
  private readonly sha: Sha256;
  private readonly hmac: HmacSha256;
  private readonly creds: CredentialStore;
  private readonly sink: HashSink;
  private readonly headers: HeaderTable;
  private readonly query: QueryTable;
  private readonly pathBuf: Uint8Array;
  private readonly queryWire: Uint8Array;
  private readonly amzDate = new Uint8Array(AMZ_DATE_BYTES);
  private readonly payload = new Uint8Array(PAYLOAD_HASH_BYTES);
  private payloadLen = 0;
  private readonly digest = new Uint8Array(HMAC_SHA256_BYTES);
  private readonly hexDigest = new Uint8Array(SIGNATURE_HEX_BYTES);
  private readonly signedHeaders: Uint8Array;
  private signedHeadersLen = 0;
  /** creds.keys.generation the HMAC was last keyed for (-1: not keyed). */
  private hmacGeneration = -1;
  /** `AWS4-HMAC-SHA256\n`, encoded once at construction. */
  private readonly algorithmLine = new Uint8Array(ALGORITHM.length + 1);
  /** Decimal X-Amz-Expires (at most 6 digits: 604800). */
  private readonly expires = new Uint8Array(8);
  /** What a chunked upload continues from: views of this signer's buffers after the last signing (read by ChunkSigner). */
  readonly seed: SeedState;
  /**
   * Chunked-upload signing, continuing from the last STREAMING-* signing
   * (see chunked.ts); null when built with `chunkedUploads: false`.
   */
  readonly chunks: ChunkSigner | null;

  constructor(options: SignerOptions) {
    if (options === null || typeof options !== 'object') throw new SigV4Error('INVALID_REQUEST', 'options must be an object');
    this.limits = Object.freeze(checkLimits(options.limits));
    const limits = this.limits;
    this.flags = {
      normalizePath: options.normalizePath ?? true,
      doubleEncodePath: options.doubleEncodePath ?? true,
      signBody: options.signBody ?? false,
      omitSessionToken: options.omitSessionToken ?? false,
    };
    asciiInto(this.algorithmLine, 0, ALGORITHM);
    this.algorithmLine[ALGORITHM.length] = 0x0a;
    const factory = options.sha256 ?? nobleSha256;
    this.sha = factory();
    this.hmac = new HmacSha256(factory());
    this.creds = new CredentialStore(this.hmac, limits.maxTokenBytes, limits.maxEncodedTokenBytes);
    this.sink = new HashSink(options.debug === true ? limits.maxDebugBytes : 0);
    this.headers = new HeaderTable(limits);
    // Every name (callers' and ours) plus one `;` per header.
    this.signedHeaders = new Uint8Array(limits.maxHeaderNameBytes + OWN_NAME_BYTES + limits.maxHeaders + OWN_HEADER_SLOTS);
    // The signer's own query parameters take no arena room (see query-table.ts); their
    // values are read from the signed-header list, the credential and short buffers.
    this.query = new QueryTable(limits, Math.max(this.signedHeaders.length, MAX_CREDENTIAL_BYTES));
    this.pathBuf = new Uint8Array(Math.max(1, limits.maxPathBytes));
    this.queryWire = new Uint8Array(limits.maxQueryBytes);
    this.output = new SignedOutput(limits.maxOutputBytes);
    this.seed = new SeedState(this.creds.keys.key, this.amzDate, this.creds.credential, this.hexDigest);
    this.chunks = options.chunkedUploads === false ? null : new ChunkSigner(this.seed, factory, limits, options.debug === true ? limits.maxDebugBytes : 0);
    if (options.credentials === undefined) this.creds.setScope(options.region, options.service);
    else this.setCredentials(options.credentials, options.region, options.service);
  }

  /**
   * Replaces the credentials (e.g. rotated STS credentials). Region and
   * service are kept unless given; derived-key credentials bring their own.
   */
  setCredentials(credentials: SignerCredentials, region?: string, service?: string): void {
    this.creds.set(credentials, region, service);
    this.seed.valid = false;
  }

  /** Signs with the Authorization header. Returns this.output (mode 'header'). */
  sign(request: SigningRequest): SignedOutput {
    return this.run(request, false);
  }

  /** Presigns: X-Amz-* query parameters. Returns this.output (mode 'query'). */
  presign(request: SigningRequest): SignedOutput {
    return this.run(request, true);
  }

  /** Convenience: sign() and return the headers to add (allocates them). */
  signHeaders(request: SigningRequest): HeaderList {
    return this.sign(request).headers();
  }

  /** Convenience: presign() and return the wire path with the presigned query (allocates it). */
  presignPath(request: SigningRequest): string {
    return this.presign(request).pathAndQuery();
  }

  /**
   * Overwrites the secret and derived keys in RAM (and the chunk signer's
   * copy) and drops the reference to the session token (the caller's
   * string: the signer never copied it). The signer is unusable until
   * setCredentials().
   */
  wipe(): void {
    this.creds.wipe();
    this.hmac.wipe();
    this.hmacGeneration = -1;
    this.output.clear();
    this.seed.valid = false;
    if (this.chunks !== null) this.chunks.wipe();
  }

  private run(request: SigningRequest, query: boolean): SignedOutput {
    const out = this.output;
    out.clear();
    this.seed.valid = false;
    if (!this.creds.usable) throw new SigV4Error('INVALID_STATE', 'signer has no credentials (not set yet, or wiped)');
    if (request === null || typeof request !== 'object') throw new SigV4Error('INVALID_REQUEST', 'request must be an object');
    const normalize = request.normalizePath ?? this.flags.normalizePath;
    const doubleEncode = request.doubleEncodePath ?? this.flags.doubleEncodePath;
    const signBody = request.signBody ?? this.flags.signBody;
    const omitToken = request.omitSessionToken ?? this.flags.omitSessionToken;
    const creds = this.creds;
    const hasToken = creds.token !== null;
    const signToken = hasToken && !omitToken;

    checkSigningTime(request.timeMs);
    writeAmzDate(request.timeMs, this.amzDate, 0);
    const method = this.checkMethod(request.method);
    const expiresLen = query ? this.checkExpires(request.expiresSeconds) : 0;
    this.payloadHash(request);

    // Path and query: UTF-8 into fixed buffers, path normalised in place.
    const path = request.path;
    if (typeof path !== 'string') throw new SigV4Error('INVALID_REQUEST', 'path must be a string');
    let q = path.indexOf('?');
    if (q < 0) q = path.length;
    if (path.length > 0 && path.charCodeAt(0) !== 0x2f) throw new SigV4Error('INVALID_REQUEST', "path must start with '/'");
    if (path.indexOf('#') >= 0) throw new SigV4Error('INVALID_REQUEST', 'path must not contain a fragment');
    let pathLen = this.utf8(path, 0, q, this.pathBuf, 'maxPathBytes', 'path');
    if (normalize) pathLen = normalizePathInPlace(this.pathBuf, pathLen);
    const queryLen = q < path.length ? this.utf8(path, q + 1, path.length, this.queryWire, 'maxQueryBytes', 'query') : 0;
    const qt = this.query;
    qt.reset();
    qt.parseWire(this.queryWire, 0, queryLen);

    // Headers.
    const ht = this.headers;
    ht.reset();
    const list = request.headers;
    if (!Array.isArray(list)) throw new SigV4Error('INVALID_REQUEST', 'headers must be an array of [name, value]');
    for (let i = 0; i < list.length; i++) {
      const h = list[i];
      if (!Array.isArray(h) || h.length !== 2) throw new SigV4Error('INVALID_REQUEST', `header ${i} must be a [name, value] pair`);
      ht.addCaller(h[0], h[1], i);
    }
    if (!ht.has('host')) throw new SigV4Error('INVALID_REQUEST', 'a host header is mandatory');
    if (ht.has('authorization')) throw new SigV4Error('RESERVED_NAME', 'authorization is added by the signer');
    if (!query) {
      if (ht.has('x-amz-date')) throw new SigV4Error('RESERVED_NAME', 'x-amz-date is added by the signer');
      if (hasToken && ht.has('x-amz-security-token')) throw new SigV4Error('RESERVED_NAME', 'x-amz-security-token is added by the signer');
      if (signBody && ht.has('x-amz-content-sha256')) throw new SigV4Error('RESERVED_NAME', 'x-amz-content-sha256 is added by the signer (signBody)');
    } else {
      for (const key of RESERVED_QUERY_KEYS) {
        if (qt.hasCallerKey(key)) throw new SigV4Error('RESERVED_NAME', `${key} is added by the signer`);
      }
    }

    // Credential scope: accessKeyId/YYYYMMDD/region/service/aws4_request.
    creds.buildCredential(this.amzDate);
    creds.ensureKey(this.amzDate);

    // The signer's own headers or parameters.
    if (!query) {
      ht.addOwn('x-amz-date', this.amzDate, 0, AMZ_DATE_BYTES);
      if (signToken) ht.addOwnText('x-amz-security-token', creds.token!);
      if (signBody) ht.addOwn('x-amz-content-sha256', this.payload, 0, this.payloadLen);
    }
    ht.sort();
    this.signedHeadersLen = ht.signedHeadersInto(this.signedHeaders, 0, false);
    if (query) {
      qt.addOwn('X-Amz-Algorithm', this.algorithmLine, 0, ALGORITHM.length);
      qt.addOwn('X-Amz-Credential', creds.credential, creds.credentialStart, creds.credentialEnd);
      qt.addOwn('X-Amz-Date', this.amzDate, 0, AMZ_DATE_BYTES);
      if (expiresLen > 0) qt.addOwn('X-Amz-Expires', this.expires, 0, expiresLen);
      // An omitted token is appended to the output only, not to the canonical query.
      if (signToken) qt.addOwnText('X-Amz-Security-Token', creds.token!);
      qt.addOwn('X-Amz-SignedHeaders', this.signedHeaders, 0, this.signedHeadersLen);
    }
    qt.sort();

    // Output size is known now: refuse before hashing anything.
    const needed = query
      ? this.presignBytes(path, expiresLen, hasToken)
      : AMZ_DATE_BYTES + this.authorizationBytes() + (signBody ? this.payloadLen : 0);
    if (needed > out.bytes.length) throw limitExceeded('maxOutputBytes', 'signed output');

    // Canonical request, streamed into SHA-256.
    const sink = this.sink;
    sink.resetCapture();
    sink.begin(this.sha);
    this.sha.reset();
    sink.text(method);
    sink.byte(0x0a);
    writeCanonicalPath(sink, this.pathBuf, 0, pathLen, doubleEncode);
    sink.byte(0x0a);
    qt.writeCanonical(sink);
    sink.byte(0x0a);
    ht.writeCanonical(sink);
    sink.byte(0x0a);
    sink.bytes(this.signedHeaders, 0, this.signedHeadersLen);
    sink.byte(0x0a);
    sink.bytes(this.payload, 0, this.payloadLen);
    sink.end();
    this.sha.finish(this.digest, 0);
    if (sink.debug) this.debugCanonicalRequest = sink.capturedSection();

    // String to sign, streamed into HMAC with the signing key.
    hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.hexDigest, 0);
    // The HMAC keeps its keyed state between signings with the same key.
    const keys = this.creds.keys;
    if (this.hmacGeneration !== keys.generation) {
      this.hmac.setKey(keys.key, 0, HMAC_SHA256_BYTES);
      this.hmacGeneration = keys.generation;
    }
    this.hmac.begin();
    sink.begin(this.hmac);
    sink.bytes(this.algorithmLine, 0, this.algorithmLine.length);
    sink.bytes(this.amzDate, 0, AMZ_DATE_BYTES);
    sink.byte(0x0a);
    sink.bytes(creds.credential, creds.scopeStart, creds.credentialEnd);
    sink.byte(0x0a);
    sink.bytes(this.hexDigest, 0, SIGNATURE_HEX_BYTES);
    sink.end();
    this.hmac.finish(this.digest, 0);
    if (sink.debug) this.debugStringToSign = sink.capturedSection();
    hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.hexDigest, 0);

    const written = query ? this.writePresigned(path, expiresLen, hasToken, signToken, request.sessionTokenLast === true) : this.writeHeaders(hasToken, signBody);
    if (written !== needed) throw new Error(`sigv4 internal: output size ${written} != computed ${needed}`);
    this.saveSeed();
    return out;
  }

  private checkMethod(method: unknown): string {
    if (typeof method !== 'string' || method.length === 0) throw new SigV4Error('INVALID_REQUEST', 'method must be a non-empty string');
    if (method.length > MAX_METHOD_BYTES) throw limitExceeded('MAX_METHOD_BYTES', 'method');
    for (let i = 0; i < method.length; i++) {
      if (!isMethodChar(method.charCodeAt(i))) throw new SigV4Error('INVALID_REQUEST', 'method is not a token');
    }
    return method;
  }

  /** Writes the decimal expiry into this.expires; returns its length (0: none). */
  private checkExpires(expires: number | undefined): number {
    if (expires === undefined || expires === 0) return 0;
    if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS) {
      throw new SigV4Error('INVALID_REQUEST', `expiresSeconds must be an integer in 1..${MAX_EXPIRES_SECONDS}`);
    }
    let n = 0;
    for (let v = expires; v > 0; v = Math.floor(v / 10)) n++;
    for (let i = n - 1, v = expires; i >= 0; i--, v = Math.floor(v / 10)) this.expires[i] = 0x30 + (v % 10);
    return n;
  }

  /** Sets this.payload to the payload hash (hex, or a literal). */
  private payloadHash(request: SigningRequest): void {
    const { body, payloadHash } = request;
    const hasBody = body !== undefined && body !== null;
    if (hasBody && payloadHash !== undefined) throw new SigV4Error('INVALID_REQUEST', 'give body or payloadHash, not both');
    if (hasBody) {
      if (!(body instanceof Uint8Array)) throw new SigV4Error('INVALID_REQUEST', 'body must be a Uint8Array');
      this.sha.reset();
      this.sha.update(body, 0, body.length);
      this.sha.finish(this.digest, 0);
      this.payloadLen = hexInto(this.digest, 0, HMAC_SHA256_BYTES, this.payload, 0);
      return;
    }
    const text = payloadHash === undefined ? EMPTY_SHA256_HEX : payloadHash;
    if (
      typeof text !== 'string' ||
      !(isSha256Hex(text) || text === UNSIGNED_PAYLOAD || text === STREAMING_PAYLOAD || text === STREAMING_PAYLOAD_TRAILER || text === STREAMING_UNSIGNED_PAYLOAD_TRAILER)
    ) {
      throw new SigV4Error('INVALID_REQUEST', 'payloadHash must be 64 lower-case hex digits, UNSIGNED-PAYLOAD or a STREAMING-* value');
    }
    for (let i = 0; i < text.length; i++) this.payload[i] = text.charCodeAt(i);
    this.payloadLen = text.length;
  }

  private utf8(text: string, from: number, to: number, out: Uint8Array, limit: string, what: string): number {
    const r = encodeUtf8Into(text, from, to, out, 0, out.length);
    if (r === UTF8_OVERFLOW) throw limitExceeded(limit, what);
    if (r === UTF8_LONE_SURROGATE) throw new SigV4Error('INVALID_UTF16', `${what} contains a lone surrogate`);
    return r;
  }

  private authorizationBytes(): number {
    // `AWS4-HMAC-SHA256 Credential=` + credential + `, SignedHeaders=` + list + `, Signature=` + 64
    return ALGORITHM.length + 12 + (this.creds.credentialEnd - this.creds.credentialStart) + 16 + this.signedHeadersLen + 12 + SIGNATURE_HEX_BYTES;
  }

  /** Exact size of the presigned path and query that writePresigned() produces. */
  private presignBytes(path: string, expiresLen: number, hasToken: boolean): number {
    // The path was encoded successfully before (no lone surrogate), so its UTF-8 length is exact here.
    let n = utf8Length(path);
    const q = path.indexOf('?');
    if (q < 0 || (q < path.length - 1 && path.charCodeAt(path.length - 1) !== 0x26)) n += 1;
    n += 'X-Amz-Algorithm='.length + ALGORITHM.length;
    n += '&X-Amz-Credential='.length + encodedRangeSize(this.creds.credential, this.creds.credentialStart, this.creds.credentialEnd);
    n += '&X-Amz-Date='.length + AMZ_DATE_BYTES;
    n += '&X-Amz-SignedHeaders='.length + encodedRangeSize(this.signedHeaders, 0, this.signedHeadersLen);
    if (expiresLen > 0) n += '&X-Amz-Expires='.length + expiresLen;
    if (hasToken) n += '&X-Amz-Security-Token='.length + this.creds.tokenEncodedLen;
    n += '&X-Amz-Signature='.length + SIGNATURE_HEX_BYTES;
    return n;
  }

  private writeHeaders(hasToken: boolean, signBody: boolean): number {
    const out = this.output;
    const b = out.bytes;
    let o = 0;
    out.amzDateStart = o;
    o = copyRange(this.amzDate, 0, AMZ_DATE_BYTES, b, o);
    out.amzDateEnd = o;
    out.authorizationStart = o;
    o = copyRange(this.algorithmLine, 0, ALGORITHM.length, b, o);
    o = asciiInto(b, o, ' Credential=');
    o = copyRange(this.creds.credential, this.creds.credentialStart, this.creds.credentialEnd, b, o);
    o = asciiInto(b, o, ', SignedHeaders=');
    o = copyRange(this.signedHeaders, 0, this.signedHeadersLen, b, o);
    o = asciiInto(b, o, ', Signature=');
    out.signatureStart = o;
    o = copyRange(this.hexDigest, 0, SIGNATURE_HEX_BYTES, b, o);
    out.authorizationEnd = o;
    // The caller's string, not copied (see SignedOutput.token).
    if (hasToken) out.token = this.creds.token;
    if (signBody) {
      out.contentSha256Start = o;
      o = copyRange(this.payload, 0, this.payloadLen, b, o);
      out.contentSha256End = o;
    }
    out.dateStart = out.amzDateStart;
    out.mode = 'header';
    return o;
  }

  private writePresigned(path: string, expiresLen: number, hasToken: boolean, signToken: boolean, tokenLast: boolean): number {
    const out = this.output;
    const b = out.bytes;
    let o = encodeUtf8Into(path, 0, path.length, b, 0, b.length);
    out.pathStart = 0;
    const q = path.indexOf('?');
    if (q < 0) b[o++] = 0x3f;
    else if (q < path.length - 1 && path.charCodeAt(path.length - 1) !== 0x26) b[o++] = 0x26;
    o = asciiInto(b, o, 'X-Amz-Algorithm=');
    o = asciiInto(b, o, ALGORITHM);
    o = asciiInto(b, o, '&X-Amz-Credential=');
    o = encodeRangeInto(this.creds.credential, this.creds.credentialStart, this.creds.credentialEnd, b, o);
    o = asciiInto(b, o, '&X-Amz-Date=');
    out.dateStart = o;
    for (let i = 0; i < AMZ_DATE_BYTES; i++) b[o++] = this.amzDate[i]!;
    o = asciiInto(b, o, '&X-Amz-SignedHeaders=');
    o = encodeRangeInto(this.signedHeaders, 0, this.signedHeadersLen, b, o);
    if (expiresLen > 0) {
      o = asciiInto(b, o, '&X-Amz-Expires=');
      for (let i = 0; i < expiresLen; i++) b[o++] = this.expires[i]!;
    }
    const tokenAtEnd = hasToken && !signToken && tokenLast;
    if (hasToken && !tokenAtEnd) o = this.writeTokenParam(b, o);
    o = asciiInto(b, o, '&X-Amz-Signature=');
    out.signatureStart = o;
    for (let i = 0; i < SIGNATURE_HEX_BYTES; i++) b[o++] = this.hexDigest[i]!;
    if (tokenAtEnd) o = this.writeTokenParam(b, o);
    out.pathEnd = o;
    out.mode = 'query';
    return o;
  }

  private writeTokenParam(b: Uint8Array, o: number): number {
    o = asciiInto(b, o, '&X-Amz-Security-Token=');
    const creds = this.creds;
    if (!creds.encodedTokenCached) return encodeTextInto(creds.token!, 0, creds.token!.length, b, o);
    // Encoded once by setCredentials(): one native copy (a subarray view is the only allocation).
    b.set(creds.encodedToken.subarray(0, creds.tokenEncodedLen), o);
    return o + creds.tokenEncodedLen;
  }

  private saveSeed(): void {
    // The seed's arrays are this signer's own buffers: only the ranges and kind are recorded.
    const seed = this.seed;
    seed.scopeStart = this.creds.scopeStart;
    seed.scopeEnd = this.creds.credentialEnd;
    const p = this.payloadLen;
    seed.streaming = p === STREAMING_PAYLOAD.length && this.payloadIs(STREAMING_PAYLOAD) ? 1 : p === STREAMING_PAYLOAD_TRAILER.length && this.payloadIs(STREAMING_PAYLOAD_TRAILER) ? 2 : 0;
    seed.valid = true;
  }

  private payloadIs(text: string): boolean {
    for (let i = 0; i < text.length; i++) if (this.payload[i] !== text.charCodeAt(i)) return false;
    return true;
  }
}

const RESERVED_QUERY_KEYS = Object.freeze([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
]);
