// The request shape both peer oracles (aws-crt, botocore) sign, and what they
// give back. It is deliberately independent of src/sigv4's types: the
// differential tests translate one generated request into our signer's input
// and into this shape, so a bug in one translation cannot hide in the other.

export type SigningMode = 'header' | 'query';

export interface OracleRequest {
  method: string;
  /** Wire path, including `?query` if any, exactly as it would be sent. */
  path: string;
  /** In order, duplicates allowed; must include Host. */
  headers: Array<[name: string, value: string]>;
  body: Uint8Array;
  accessKeyId: string;
  secretAccessKey: string;
  /** Session token, or null when the credentials have none. */
  sessionToken: string | null;
  region: string;
  service: string;
  /** Signing time, epoch milliseconds (whole seconds: SigV4 has second resolution). */
  timeMs: number;
  mode: SigningMode;
  /** Remove `.`/`..`/empty path segments before encoding (not for S3). */
  normalize: boolean;
  /** Encode the wire path once more for the canonical URI (not for S3). */
  doubleUriEncode: boolean;
  /** Add and sign `x-amz-content-sha256` (header mode only; query mode ignores it). */
  signBody: boolean;
  /** Canonical payload value; null = lower-case hex SHA-256 of `body`. */
  payloadHash: string | null;
  /** Token is added after signing and is not part of the canonical request. */
  omitSessionToken: boolean;
  /** Query mode: `X-Amz-Expires` value; 0 = no `X-Amz-Expires` parameter. */
  expirationInSeconds: number;
}

export interface OracleResult {
  signature: string;
  /** The signed request's wire path (query mode: with the X-Amz-* parameters). */
  path: string;
  /** Every header of the signed request, in the order the peer put them. */
  headers: Array<[name: string, value: string]>;
  /** Only peers that expose them (botocore) fill these in. */
  canonicalRequest: string | null;
  stringToSign: string | null;
}

/** Thrown when a peer refuses a request (so a test can tell it from a crash). */
export class OracleRefusal extends Error {
  override name = 'OracleRefusal';
  constructor(
    readonly peer: string,
    message: string,
  ) {
    super(`${peer} refused the request: ${message}`);
  }
}

/** A one-line, secret-free description of a request, for failure messages. */
export function describeRequest(r: OracleRequest): string {
  return JSON.stringify({
    method: r.method,
    path: r.path,
    headers: r.headers,
    bodyBytes: r.body.length,
    token: r.sessionToken === null ? null : `<${r.sessionToken.length} chars>`,
    region: r.region,
    service: r.service,
    time: new Date(r.timeMs).toISOString(),
    mode: r.mode,
    normalize: r.normalize,
    doubleUriEncode: r.doubleUriEncode,
    signBody: r.signBody,
    payloadHash: r.payloadHash,
    omitSessionToken: r.omitSessionToken,
    expirationInSeconds: r.expirationInSeconds,
  });
}

/**
 * Removes the request's secret key and session token (raw and percent-encoded)
 * from text printed in failure reports: canonical requests sign the token.
 */
export function redact(text: string | null | undefined, r: OracleRequest): string {
  let out = text ?? '';
  const secrets = [r.secretAccessKey];
  if (r.sessionToken !== null && r.sessionToken !== '') secrets.push(r.sessionToken, encodeURIComponent(r.sessionToken), encodeURIComponent(r.sessionToken).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('<redacted>');
  return out;
}
