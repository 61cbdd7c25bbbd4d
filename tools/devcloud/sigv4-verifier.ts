// Verifies a received request's SigV4 signature with an implementation that
// is independent of the project's signer: aws-crt (AWS's own aws-c-auth,
// native). It re-signs the request as received (same method, path, query,
// signed headers, body, credentials, time and flags) and compares the
// signature aws-crt computes with the one the client sent.
//
// Order of checks (each one answers like AWS, see aws-answers.ts):
// claim parsing -> credential scope (date, region, service) -> access key ->
// session token (present, same, not expired) -> time window (±5 min, or
// presign expiry) -> signature.
import { createHash, timingSafeEqual } from 'node:crypto';
import { auth, http } from 'aws-crt';
import { MESSAGES, SKEW_WINDOW_MS, presignExpiredMessage, reject, skewMessage, type Rejection } from './aws-answers.js';
import type { CredentialStore, IssuedCredentials } from './credential-store.js';
import { isRejection, parseSignatureClaim, type SignatureClaim } from './sigv4-claim.js';

export interface ReceivedRequest {
  method: string;
  /** Path and query exactly as on the request line. */
  wirePath: string;
  /** Node's rawHeaders: [name, value, ...] in wire order, duplicates kept. */
  rawHeaders: readonly string[];
  body: Buffer;
}

export interface VerifyPolicy {
  region: string;
  /** Signing names accepted for this route (e.g. iotdata and iotdevicegateway for HTTPS publish). */
  services: readonly string[];
  /**
   * Payload hash to use instead of sha256(body): AWS IoT's WebSocket
   * handshake signs sha256("") whatever the GET carries.
   */
  emptyPayloadHash?: boolean;
  /** Remove `.`/`..`/empty path segments before encoding (AWS, non-S3: true). Default true. */
  normalizePath?: boolean;
  /**
   * Presigned URLs: the session token is part of the canonical query (generic
   * SigV4 query signing). Default false: AWS IoT's WebSocket handshake wants the
   * token appended after signing, and refuses a signature that covers it.
   */
  queryTokenSigned?: boolean;
}

export type VerifyResult = { ok: true; claim: SignatureClaim; credentials: IssuedCredentials } | { ok: false; rejection: Rejection };

/** Headers the signer itself adds from the config; they must not be passed in again. */
const SIGNER_ADDED = new Set(['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']);

function fail(rejection: Rejection): VerifyResult {
  return { ok: false, rejection };
}

function sameSecretString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Recomputes the signature with aws-crt. Returns [signature, signedHeaders] as aws-crt produced them. */
async function signWithCrt(
  req: ReceivedRequest,
  claim: SignatureClaim,
  creds: IssuedCredentials,
  policy: VerifyPolicy,
): Promise<{ signature: string; signedHeaders: string } | null> {
  const pairs: Array<[string, string]> = [];
  const signed = new Set(claim.signedHeaders);
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (signed.has(name) && !SIGNER_ADDED.has(name)) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  }
  // The payload hash is computed here (OpenSSL via node:crypto) and handed to
  // aws-crt as signed_body_value: aws-crt's Node binding deadlocks when it
  // reads a body stream during signing (measured: aws_sign_request with an
  // io.InputStream never resolves and blocks the event loop).
  const request = new http.HttpRequest(req.method, claim.pathToSign, new http.HttpHeaders(pairs));
  const query = claim.mode === 'query';
  // Header signing: the token is signed when the client listed it. Presigned
  // URLs: AWS IoT wants the token appended after signing, never signed.
  const omitToken = query ? !policy.queryTokenSigned : !signed.has('x-amz-security-token');
  const config: auth.AwsSigningConfig = {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: query ? auth.AwsSignatureType.HttpRequestViaQueryParams : auth.AwsSignatureType.HttpRequestViaHeaders,
    provider: auth.AwsCredentialsProvider.newStatic(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken ?? undefined),
    region: claim.region,
    service: claim.service,
    date: new Date(claim.requestMs),
    use_double_uri_encode: true,
    should_normalize_uri_path: policy.normalizePath ?? true,
    omit_session_token: omitToken,
    signed_body_value: policy.emptyPayloadHash ? auth.AwsSignedBodyValue.EmptySha256 : createHash('sha256').update(req.body).digest('hex'),
    signed_body_header: signed.has('x-amz-content-sha256') ? auth.AwsSignedBodyHeaderType.XAmzContentSha256 : auth.AwsSignedBodyHeaderType.None,
  };
  if (claim.expiresSeconds !== null) config.expiration_in_seconds = claim.expiresSeconds;
  let out: http.HttpRequest;
  try {
    out = await auth.aws_sign_request(request, config);
  } catch {
    // aws-crt refuses requests it cannot canonicalise: what cannot be re-signed cannot be verified.
    return null;
  }
  if (query) {
    const q = out.path.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : out.path.slice(q + 1));
    const signature = params.get('X-Amz-Signature');
    const signedHeaders = params.get('X-Amz-SignedHeaders');
    return signature === null || signedHeaders === null ? null : { signature, signedHeaders };
  }
  const authorization = out.headers.get('authorization');
  const m = /SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})/.exec(authorization ?? '');
  return m === null ? null : { signedHeaders: m[1]!, signature: m[2]! };
}

export class SigV4Verifier {
  constructor(private readonly store: CredentialStore) {}

  async verify(req: ReceivedRequest, policy: VerifyPolicy, nowMs: number): Promise<VerifyResult> {
    const claim = parseSignatureClaim(req.wirePath, req.rawHeaders);
    if (isRejection(claim)) return fail(claim);

    if (claim.scopeDate !== claim.amzDate.slice(0, 8)) {
      const from = claim.mode === 'query' ? 'X-Amz-Date' : 'x-amz-date';
      return fail(
        reject('bad-scope', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${claim.scopeDate}' != '${claim.amzDate.slice(0, 8)}', from '${from}'.`),
      );
    }
    if (claim.region !== policy.region) return fail(reject('bad-scope', `Credential should be scoped to a valid region, not '${claim.region}'. `));
    if (!policy.services.includes(claim.service)) return fail(reject('bad-scope', `Credential should be scoped to correct service: '${policy.services[0]}'. `));

    const creds = this.store.get(claim.accessKeyId);
    if (creds === undefined) return fail(reject('unknown-key', MESSAGES.invalidToken));
    const tokenOk =
      creds.sessionToken === null ? claim.sessionToken === null : claim.sessionToken !== null && sameSecretString(claim.sessionToken, creds.sessionToken);
    if (!tokenOk) return fail(reject('invalid-token', MESSAGES.invalidToken));
    if (nowMs >= creds.expirationMs) return fail(reject('expired-token', MESSAGES.expiredToken));

    if (claim.requestMs > nowMs + SKEW_WINDOW_MS) return fail(reject('skew', skewMessage(claim.requestMs, nowMs)));
    if (claim.expiresSeconds !== null) {
      if (nowMs > claim.requestMs + claim.expiresSeconds * 1000) return fail(reject('presign-expired', presignExpiredMessage(claim.requestMs, claim.expiresSeconds, nowMs)));
    } else if (claim.requestMs < nowMs - SKEW_WINDOW_MS) {
      return fail(reject('skew', skewMessage(claim.requestMs, nowMs)));
    }

    const expected = await signWithCrt(req, claim, creds, policy);
    const ok =
      expected !== null &&
      expected.signedHeaders === claim.signedHeaders.join(';') &&
      timingSafeEqual(Buffer.from(expected.signature, 'latin1'), Buffer.from(claim.signature, 'latin1'));
    if (!ok) return fail(reject('signature-mismatch', MESSAGES.signatureMismatch));
    return { ok: true, claim, credentials: creds };
  }
}
