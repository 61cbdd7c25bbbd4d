// The independent signers the benchmark compares with, driven on Node from a
// BenchShape: aws-crt (native aws-c-auth, the reference for correctness),
// @smithy/signature-v4 (the AWS SDK v3 signer) and aws4. Each returns the
// hex signature; the smithy one also reports the canonical request and the
// string to sign it hashed, captured through a recording sha256 constructor.
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import crt from 'aws-crt';
import { SignatureV4 } from '@smithy/signature-v4';
import { nobleChecksumClass, type HashRecord } from './smithy/noble-checksum.js';
import { BENCH_ACCESS_KEY_ID, BENCH_SECRET_ACCESS_KEY, BENCH_SIGNING_TIME_MS, amzDate, wirePath, type BenchShape } from './sigv4-shapes.js';

const require = createRequire(import.meta.url);
// aws4 is CommonJS without types.
const aws4 = require('aws4') as { sign(request: object, credentials: object): { headers: Record<string, string>; path: string } };

export class PeerMismatchError extends Error {
  override name = 'PeerMismatchError';
  readonly code = 'PEER_MISMATCH';
}

const SIGNATURE_IN_AUTHORIZATION = /Signature=([0-9a-f]{64})/;
const SIGNATURE_IN_QUERY = /[?&]X-Amz-Signature=([0-9a-f]{64})/;

function signatureOf(text: string, mode: BenchShape['mode']): string {
  const m = (mode === 'header' ? SIGNATURE_IN_AUTHORIZATION : SIGNATURE_IN_QUERY).exec(text);
  if (!m) throw new PeerMismatchError(`no signature found in ${mode === 'header' ? 'Authorization header' : 'query'}`);
  return m[1]!;
}

// ---------------------------------------------------------------- aws-crt

function crtConfig(shape: BenchShape): crt.auth.AwsSigningConfig {
  const provider = crt.auth.AwsCredentialsProvider.newStatic(
    BENCH_ACCESS_KEY_ID,
    BENCH_SECRET_ACCESS_KEY,
    shape.sessionToken ?? undefined,
  );
  return {
    algorithm: crt.auth.AwsSigningAlgorithm.SigV4,
    signature_type: shape.mode === 'header' ? crt.auth.AwsSignatureType.HttpRequestViaHeaders : crt.auth.AwsSignatureType.HttpRequestViaQueryParams,
    provider,
    region: shape.region,
    service: shape.service,
    date: new Date(BENCH_SIGNING_TIME_MS),
    use_double_uri_encode: true,
    should_normalize_uri_path: true,
    omit_session_token: shape.omitSessionToken,
    // aws-crt's body InputStream never completed here (Node 20), so the payload
    // hash is handed over precomputed by node:crypto, an independent SHA-256.
    signed_body_value: createHash('sha256').update(Buffer.from(shape.body, 'latin1')).digest('hex'),
    signed_body_header: shape.signBody ? crt.auth.AwsSignedBodyHeaderType.XAmzContentSha256 : crt.auth.AwsSignedBodyHeaderType.None,
    ...(shape.expiresSeconds > 0 ? { expiration_in_seconds: shape.expiresSeconds } : {}),
  };
}

function crtRequest(shape: BenchShape): crt.http.HttpRequest {
  return new crt.http.HttpRequest(shape.method, wirePath(shape), new crt.http.HttpHeaders(shape.headers));
}

/** What aws-crt produced for a shape: the reference signature and output sizes. */
export interface CrtResult {
  signature: string;
  /** Header mode: the headers aws-crt added (name, value), in its order. */
  addedHeaders: Array<[string, string]>;
  /** Query mode: the presigned wire path and query. */
  signedPath: string;
}

/** A reusable aws-crt signing closure for one shape (config built once, like a real client). */
export function crtSigner(shape: BenchShape): () => Promise<CrtResult> {
  const config = crtConfig(shape);
  const original = new Set(shape.headers.map(([n]) => n.toLowerCase()));
  return async () => {
    const signed = await crt.auth.aws_sign_request(crtRequest(shape), config);
    if (shape.mode === 'header') {
      const addedHeaders = signed.headers._flatten().filter(([n]) => !original.has(n.toLowerCase())) as Array<[string, string]>;
      return { signature: signatureOf(signed.headers.get('Authorization'), 'header'), addedHeaders, signedPath: signed.path };
    }
    return { signature: signatureOf(signed.path, 'query'), addedHeaders: [], signedPath: signed.path };
  };
}

// ---------------------------------------------------------------- @smithy/signature-v4

export type { HashRecord };

function smithyRequest(shape: BenchShape) {
  const headers: Record<string, string> = {};
  for (const [name, value] of shape.headers) headers[name] = value;
  const query: Record<string, string> = {};
  for (const [k, v] of shape.query) query[k] = v;
  return {
    method: shape.method,
    protocol: 'https:',
    hostname: shape.host,
    path: shape.path,
    query,
    headers,
    ...(shape.body.length ? { body: Buffer.from(shape.body, 'latin1') } : {}),
  };
}

/**
 * A smithy signing closure. smithy cannot leave the token out of a presign's
 * canonical query, so for `omitSessionToken` it signs without the token and the
 * caller appends it (what the IoT docs tell smithy users to do).
 */
export function smithySigner(shape: BenchShape, records: HashRecord[] | null = null): () => Promise<string> {
  const withToken = shape.sessionToken !== null && !shape.omitSessionToken;
  const signer = new SignatureV4({
    service: shape.service,
    region: shape.region,
    sha256: nobleChecksumClass(records),
    applyChecksum: shape.signBody,
    credentials: {
      accessKeyId: BENCH_ACCESS_KEY_ID,
      secretAccessKey: BENCH_SECRET_ACCESS_KEY,
      ...(withToken ? { sessionToken: shape.sessionToken! } : {}),
    },
  });
  const signingDate = new Date(BENCH_SIGNING_TIME_MS);
  return async () => {
    if (shape.mode === 'header') {
      const signed = await signer.sign(smithyRequest(shape), { signingDate });
      return signatureOf(String(signed.headers['authorization']), 'header');
    }
    const signed = await signer.presign(smithyRequest(shape), { signingDate, expiresIn: shape.expiresSeconds });
    return String(signed.query?.['X-Amz-Signature']);
  };
}

// ---------------------------------------------------------------- aws4

/** aws4 signs header-mode shapes here (the Node throughput comparison uses shape 1 only). */
export function aws4Signer(shape: BenchShape): () => string {
  if (shape.mode !== 'header' || shape.signBody) throw new Error('aws4 bench driver: header signing without body signing only');
  const credentials = { accessKeyId: BENCH_ACCESS_KEY_ID, secretAccessKey: BENCH_SECRET_ACCESS_KEY, ...(shape.sessionToken ? { sessionToken: shape.sessionToken } : {}) };
  const date = amzDate(BENCH_SIGNING_TIME_MS);
  return () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of shape.headers) headers[name] = value;
    // A preset X-Amz-Date is how aws4 takes a fixed signing time; it is signed either way.
    headers['X-Amz-Date'] = date;
    const signed = aws4.sign(
      { host: shape.host, method: shape.method, path: wirePath(shape), headers, body: shape.body, service: shape.service, region: shape.region },
      credentials,
    );
    return signatureOf(signed.headers['Authorization']!, 'header');
  };
}

// ---------------------------------------------------------------- canonical request from smithy's hash inputs

export interface CapturedSigning {
  canonicalRequest: Uint8Array;
  stringToSign: Uint8Array;
  signingKey: Uint8Array;
  /** Bytes the payload hash covered, or null when the signer used a constant (empty body). */
  payload: Uint8Array | null;
}

const TEXT = new TextDecoder();

/**
 * Finds, among the hash operations smithy performed, the canonical request
 * (plain hash whose hex appears in the string to sign), the string to sign
 * (HMAC input starting with the algorithm) and its key, and the payload hash.
 * Each is checked against node:crypto so nothing here trusts smithy's output.
 */
export function captureFromRecords(records: HashRecord[], shape: BenchShape, expectedSignature: string): CapturedSigning {
  const sts = records.find((r) => r.secret && TEXT.decode(r.data).startsWith('AWS4-HMAC-SHA256\n'));
  if (!sts || !sts.secret) throw new PeerMismatchError(`${shape.name}: smithy string to sign not found`);
  const stsText = TEXT.decode(sts.data);
  const creqHash = stsText.slice(stsText.lastIndexOf('\n') + 1);
  const creq = records.find((r) => !r.secret && createHash('sha256').update(r.data).digest('hex') === creqHash);
  if (!creq) throw new PeerMismatchError(`${shape.name}: smithy canonical request not found`);
  const signature = createHmac('sha256', sts.secret).update(sts.data).digest('hex');
  if (signature !== expectedSignature) throw new PeerMismatchError(`${shape.name}: HMAC of the captured string to sign is not aws-crt's signature`);
  const body = Buffer.from(shape.body, 'latin1');
  const payload = records.find((r) => !r.secret && r.data.length === body.length && Buffer.compare(Buffer.from(r.data), body) === 0 && r !== creq);
  return { canonicalRequest: creq.data, stringToSign: sts.data, signingKey: sts.secret, payload: payload && body.length ? payload.data : null };
}
