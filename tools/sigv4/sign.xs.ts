// XS side of `sigv4 sign --engine xs` (bundled by rollup to build/xs/sign.js).
//
// The host hands out one job at a time through issueCommand; this script
// signs each with the same portable code the Node engine uses and answers
// with the result or the typed error. Two kinds of job:
// - `case` (tools/sigv4/cli.ts): a parsed vector case, signed with
//   case-parse.ts signCase over src/sigv4;
// - `request` (tools/sigv4/oracle-xs.ts): a generated request for the XS
//   differential test, signed by a debug Signer with the limits it brings.
// The script ends with a `done` report carrying the number of jobs it
// handled: the host accepts the run only with that report, since XS can stop
// early without saying so.
import type { SigningCase } from './case-parse.js';
import { caseSigner, signCase } from './case-parse.js';
import { Signer, type SignerLimits, type SigningRequest } from '../../src/sigv4/index.js';

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

/** Jobs one run accepts at most (the host never sends more: CLI_MAX_CASES x 2 modes). */
const MAX_JOBS = 20000;

interface Job {
  kind: 'job' | 'request' | 'end';
  id: number;
  mode: 'header' | 'query';
  case: SigningCase;
}

/** A generated request; `request.body` travels as an array of byte values. */
interface RequestJob {
  kind: 'request';
  id: number;
  mode: 'header' | 'query';
  limits: Partial<SignerLimits>;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service: string;
  request: Omit<SigningRequest, 'body'> & { body?: number[] };
}

function signRequest(signer: Signer, job: RequestJob): object {
  signer.setCredentials(job.credentials, job.region, job.service);
  const { body, ...rest } = job.request;
  const request: SigningRequest = body === undefined ? rest : { ...rest, body: new Uint8Array(body) };
  const out = job.mode === 'header' ? signer.sign(request) : signer.presign(request);
  return {
    signature: out.signature(),
    headers: out.headers(),
    pathAndQuery: out.pathAndQuery(),
    canonicalRequest: signer.debugCanonicalRequest,
    stringToSign: signer.debugStringToSign,
  };
}

function call(message: object): unknown {
  const bytes = new TextEncoder().encode(JSON.stringify(message));
  const reply = issueCommand(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const text = new TextDecoder().decode(new Uint8Array(reply));
  return text === '' ? null : JSON.parse(text);
}

function errorOf(e: unknown): { code: string; message: string } {
  const code = typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'INTERNAL';
  return { code, message: e instanceof Error ? e.message : String(e) };
}

function main(): void {
  let handled = 0;
  try {
    const signer = caseSigner();
    let requestSigner: Signer | null = null;
    for (let i = 0; i < MAX_JOBS; i++) {
      const job = call({ kind: 'next' }) as Job;
      if (job.kind !== 'job' && job.kind !== 'request') break;
      let reply: object;
      try {
        if (job.kind === 'request') {
          const rj = job as unknown as RequestJob;
          requestSigner ??= new Signer({ credentials: rj.credentials, region: rj.region, service: rj.service, debug: true, limits: rj.limits });
          reply = { kind: 'result', id: job.id, ...signRequest(requestSigner, rj) };
        } else {
          const r = signCase(signer, job.case, job.mode);
          reply = { kind: 'result', id: job.id, canonicalRequest: r.canonicalRequest, stringToSign: r.stringToSign, signature: r.signature, signedRequest: r.signedRequest };
        }
      } catch (e) {
        reply = { kind: 'result', id: job.id, error: errorOf(e) };
      }
      call(reply);
      handled++;
    }
  } catch (e) {
    call({ kind: 'fatal', error: errorOf(e) });
  }
  call({ kind: 'done', handled });
}

main();
