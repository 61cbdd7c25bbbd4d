// Peer oracle: aws-crt (npm), i.e. AWS's native aws-c-auth signer.
//
// Its flags map 1:1 onto ours: use_double_uri_encode, should_normalize_uri_path,
// omit_session_token, signed_body_value, header vs query signature type,
// expiration_in_seconds. It does not expose the canonical request.
//
// What aws-c-auth does that a caller must know (measured, see
// test/sigv4-differential.test.ts):
// - It never signs user-agent, x-amzn-trace-id, expect, upgrade,
//   transfer-encoding, sec-websocket-key (an SDK policy: proxies rewrite
//   them). The request generator does not produce these names.
// - It refuses requests that already carry headers or query parameters it
//   would add itself (Authorization, X-Amz-Date, X-Amz-Signature, ...).
// - On Node 20 it prints a deprecation notice once (to stderr). Measured here
//   (aws-crt 1.x, Node 20.20): signing opens no handle that outlives the
//   promise, so a node:test file using it ends by itself; standalone scripts
//   still call process.exit() when done, as the platform notes advise.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { OracleRefusal, type OracleRequest, type OracleResult } from './oracle-request.js';

// aws-crt is CommonJS; load it lazily so that importing this module costs nothing.
type Crt = typeof import('aws-crt');

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function loadCrt(): Crt {
  const require = createRequire(import.meta.url);
  return require('aws-crt') as Crt;
}

export function sha256Hex(bytes: Uint8Array): string {
  return bytes.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(bytes).digest('hex');
}

export class CrtOracle {
  private readonly crt: Crt = loadCrt();

  async sign(r: OracleRequest): Promise<OracleResult> {
    const { auth, http } = this.crt;
    const provider =
      r.sessionToken === null
        ? auth.AwsCredentialsProvider.newStatic(r.accessKeyId, r.secretAccessKey)
        : auth.AwsCredentialsProvider.newStatic(r.accessKeyId, r.secretAccessKey, r.sessionToken);
    const request = new http.HttpRequest(r.method, r.path, new http.HttpHeaders(r.headers));
    const config = {
      algorithm: auth.AwsSigningAlgorithm.SigV4,
      signature_type: r.mode === 'header' ? auth.AwsSignatureType.HttpRequestViaHeaders : auth.AwsSignatureType.HttpRequestViaQueryParams,
      provider,
      region: r.region,
      service: r.service,
      date: new Date(r.timeMs),
      use_double_uri_encode: r.doubleUriEncode,
      should_normalize_uri_path: r.normalize,
      omit_session_token: r.omitSessionToken,
      // The body hash is computed here (node:crypto) rather than by streaming
      // the body into aws-crt: same value, no stream plumbing.
      signed_body_value: r.payloadHash ?? sha256Hex(r.body),
      signed_body_header: r.signBody ? auth.AwsSignedBodyHeaderType.XAmzContentSha256 : auth.AwsSignedBodyHeaderType.None,
      ...(r.mode === 'query' && r.expirationInSeconds > 0 ? { expiration_in_seconds: r.expirationInSeconds } : {}),
    };
    let signed: InstanceType<Crt['http']['HttpRequest']>;
    try {
      signed = await auth.aws_sign_request(request, config);
    } catch (e) {
      throw new OracleRefusal('aws-crt', e instanceof Error ? e.message : String(e));
    }
    const headers: Array<[string, string]> = [];
    for (const [name, value] of signed.headers) headers.push([name, value]);
    return { signature: signatureOf(signed.path, headers), path: signed.path, headers, canonicalRequest: null, stringToSign: null };
  }
}

/** Reads the hex signature back out of a signed request (Authorization header or X-Amz-Signature). */
export function signatureOf(path: string, headers: ReadonlyArray<readonly [string, string]>): string {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'authorization') {
      const m = /Signature=([0-9a-f]{64})/.exec(value);
      if (m) return m[1]!;
    }
  }
  const q = /[?&]X-Amz-Signature=([0-9a-f]{64})/.exec(path);
  if (q) return q[1]!;
  throw new Error('signed request carries no signature');
}
