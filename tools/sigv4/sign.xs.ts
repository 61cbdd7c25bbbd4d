// XS side of `sigv4 sign --engine xs` (bundled by rollup to build/xs/sign.js).
//
// The host (tools/sigv4/cli.ts) parses the case folders and hands out one job
// at a time through issueCommand; this script signs each with the same
// portable code the Node engine uses (case-parse.ts signCase over
// src/sigv4), and answers with the result or the typed error. It ends with a
// `done` report carrying the number of jobs it handled: the host accepts the
// run only with that report, since XS can stop early without saying so.
import type { SigningCase } from './case-parse.js';
import { caseSigner, signCase } from './case-parse.js';

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

/** Jobs one run accepts at most (the host never sends more: CLI_MAX_CASES x 2 modes). */
const MAX_JOBS = 20000;

interface Job {
  kind: 'job' | 'end';
  id: number;
  mode: 'header' | 'query';
  case: SigningCase;
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
    for (let i = 0; i < MAX_JOBS; i++) {
      const job = call({ kind: 'next' }) as Job;
      if (job.kind !== 'job') break;
      let reply: object;
      try {
        const r = signCase(signer, job.case, job.mode);
        reply = { kind: 'result', id: job.id, canonicalRequest: r.canonicalRequest, stringToSign: r.stringToSign, signature: r.signature, signedRequest: r.signedRequest };
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
