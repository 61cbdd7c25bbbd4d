// Our signer (src/sigv4) behind the same interface as the peer oracles, so
// that the differential tests compare like with like. Portable (no Node
// module): the fuzz loop also runs it inside XS. One debug Signer is
// reused for every request (as on a device); debug mode captures the
// canonical request and string-to-sign for mismatch reports.
import { Signer, type SignerLimits, type SigningRequest } from '../../src/sigv4/index.js';
import type { OracleRequest, OracleResult } from './oracle-request.js';

/**
 * Limits for the differential tests: larger than DEFAULT_LIMITS so that every
 * request the generator makes fits (limits have their own tests; here we
 * compare canonicalisation).
 */
export const DIFFERENTIAL_LIMITS: Partial<SignerLimits> = Object.freeze({
  maxHeaders: 32,
  maxHeaderNameBytes: 1024,
  maxHeaderValueBytes: 4096,
  maxQueryPairs: 32,
  maxQueryBytes: 8192,
  maxPathBytes: 4096,
  maxTokenBytes: 4096,
  maxOutputBytes: 32768,
  maxDebugBytes: 65536,
});

export function toSigningRequest(r: OracleRequest): SigningRequest {
  return {
    method: r.method,
    path: r.path,
    headers: r.headers.map(([n, v]) => [n, v] as [string, string]),
    timeMs: r.timeMs,
    normalizePath: r.normalize,
    doubleEncodePath: r.doubleUriEncode,
    signBody: r.signBody,
    omitSessionToken: r.omitSessionToken,
    ...(r.payloadHash !== null ? { payloadHash: r.payloadHash } : { body: r.body }),
    ...(r.mode === 'query' ? { expiresSeconds: r.expirationInSeconds } : {}),
  };
}

export class OurOracle {
  readonly signer: Signer;

  constructor(limits: Partial<SignerLimits> = DIFFERENTIAL_LIMITS) {
    this.signer = new Signer({
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'placeholder' },
      region: 'us-east-1',
      service: 'service',
      debug: true,
      limits,
    });
  }

  /**
   * Signs synchronously; throws the signer's SigV4Error on refusal. With
   * `derived`, the signer gets only that signing key (for the request's date,
   * region and service), as a device provisioned without the secret would.
   */
  sign(r: OracleRequest, derived?: { signingKey: Uint8Array; date: string }): OracleResult {
    if (derived !== undefined) {
      this.signer.setCredentials({ accessKeyId: r.accessKeyId, signingKey: derived.signingKey, date: derived.date, region: r.region, service: r.service, sessionToken: r.sessionToken ?? undefined });
    } else {
      this.signer.setCredentials({ accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, sessionToken: r.sessionToken ?? undefined }, r.region, r.service);
    }
    const request = toSigningRequest(r);
    const headers = r.headers.map(([n, v]) => [n, v] as [string, string]);
    let path = r.path;
    if (r.mode === 'header') {
      const out = this.signer.sign(request);
      for (const h of out.headers()) headers.push(h);
    } else {
      path = this.signer.presign(request).pathAndQuery();
    }
    return {
      signature: this.signer.output.signature(),
      path,
      headers,
      canonicalRequest: this.signer.debugCanonicalRequest,
      stringToSign: this.signer.debugStringToSign,
    };
  }
}
