// Explicit bounds of a Signer. All working memory is sized from these at
// construction; a request that does not fit is refused with
// SigV4Error('LIMIT_EXCEEDED', limit: <the key below>), and nothing is output.

export interface SignerLimits {
  /** Headers the caller passes per request (the signer's own x-amz-* headers are extra). */
  maxHeaders: number;
  /** Total UTF-8 bytes of all caller header names. */
  maxHeaderNameBytes: number;
  /** Total UTF-8 bytes of all caller header values after trimming (also the bound for one raw value). */
  maxHeaderValueBytes: number;
  /** Query parameters in the wire query (the signer's own X-Amz-* parameters are extra). */
  maxQueryPairs: number;
  /** UTF-8 bytes of the wire query, and of its canonical (re-encoded) form. */
  maxQueryBytes: number;
  /** UTF-8 bytes of the wire path (before `?`). */
  maxPathBytes: number;
  /** UTF-8 bytes of the session token. */
  maxTokenBytes: number;
  /**
   * Bytes kept for the session token's percent-encoded form, encoded once by
   * setCredentials() and copied into every presigned URL (0, the default:
   * encode it per presign, no memory). A token whose encoding does not fit is
   * encoded per presign. Size it to ~1.1x maxTokenBytes for base64 tokens
   * (each `+`, `/`, `=` takes 3 bytes), 3x for the worst case.
   */
  maxEncodedTokenBytes: number;
  /** Bytes of the output buffer (Authorization value and added header values, or the presigned path and query). */
  maxOutputBytes: number;
  /** Bytes of canonical request plus string-to-sign kept in debug mode (0 unless `debug`). */
  maxDebugBytes: number;
}

/** Defaults sized for AWS IoT / S3 style device requests on a microcontroller. */
export const DEFAULT_LIMITS: SignerLimits = Object.freeze({
  maxHeaders: 24,
  maxHeaderNameBytes: 512,
  maxHeaderValueBytes: 2048,
  maxQueryPairs: 16,
  maxQueryBytes: 1024,
  maxPathBytes: 1024,
  maxTokenBytes: 2048,
  maxEncodedTokenBytes: 0,
  maxOutputBytes: 8192,
  maxDebugBytes: 16384,
});

/** Hard ceiling for any single limit: keeps typed-array sizes and loop counts sane. */
export const MAX_LIMIT_VALUE = 1 << 20;

/** Fixed bounds on credential and scope fields (not configurable: AWS's own are far smaller). */
export const MAX_ACCESS_KEY_ID_BYTES = 128;
export const MAX_SECRET_KEY_BYTES = 128;
export const MAX_REGION_BYTES = 64;
export const MAX_SERVICE_BYTES = 64;
/** HTTP method token (GET, POST, ...). */
export const MAX_METHOD_BYTES = 16;
