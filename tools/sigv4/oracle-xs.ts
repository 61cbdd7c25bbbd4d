// Our signer running INSIDE the XS engine, behind the oracle interface: a
// batch of requests goes to build/xs/sign.js (tools/sigv4/sign.xs.ts) as
// `request` jobs, one engine run per batch.
import type { SignerLimits } from '../../src/sigv4/index.js';
import { toSigningRequest, DIFFERENTIAL_LIMITS } from './oracle-ours.js';
import type { OracleRequest, OracleResult } from './oracle-request.js';
import { runJobsOnXs } from './xs-jobs.js';

export interface XsBatchResult {
  /** Per request: the result, or the signer's error `{code, message}`. */
  results: Array<OracleResult | { code: string; message: string }>;
  computrons: number;
}

export async function signBatchOnXs(requests: readonly OracleRequest[], limits: Partial<SignerLimits> = DIFFERENTIAL_LIMITS): Promise<XsBatchResult> {
  const jobs = requests.map((r, id) => {
    const { body, ...rest } = toSigningRequest(r);
    return {
      kind: 'request' as const,
      id,
      mode: r.mode,
      limits,
      credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, ...(r.sessionToken !== null ? { sessionToken: r.sessionToken } : {}) },
      region: r.region,
      service: r.service,
      request: { ...rest, ...(body ? { body: Array.from(body) } : {}) },
    };
  });
  const run = await runJobsOnXs(jobs);
  const results = requests.map((r, id) => {
    const m = run.results.get(id)!;
    if (m.error) return m.error as { code: string; message: string };
    const headers = r.headers.map(([n, v]) => [n, v] as [string, string]);
    if (r.mode === 'header') for (const h of m.headers as Array<[string, string]>) headers.push(h);
    return {
      signature: String(m.signature),
      path: r.mode === 'query' ? String(m.pathAndQuery) : r.path,
      headers,
      canonicalRequest: String(m.canonicalRequest),
      stringToSign: String(m.stringToSign),
    };
  });
  return { results, computrons: run.computrons };
}
