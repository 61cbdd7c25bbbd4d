// Host side of build/xs/sign.js (tools/sigv4/sign.xs.ts): runs a list of
// signing jobs inside the XS engine, one job per issueCommand round trip.
// Used by the CLI (`--engine xs`) and the XS differential test.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsWorker } from '../xs/worker.js';

export class EngineError extends Error {
  override name = 'EngineError';
}

/** <repo>/build/xs/sign.js, from dist/tools/sigv4 (compiled) or tools/sigv4 (source). */
export function xsBundlePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', '..', 'build', 'xs', 'sign.js'), join(here, '..', '..', 'build', 'xs', 'sign.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

export interface XsJob {
  /** 'job' (a parsed vector case) or 'request' (a generated request): see sign.xs.ts. */
  kind: 'job' | 'request';
  id: number;
}

export interface XsJobsRun {
  /** Reply per job id: the result fields, or `error: {code, message}`. */
  results: Map<number, Record<string, unknown>>;
  /** Computrons of the whole run (XS meter: deterministic for the same bundle and jobs). */
  computrons: number;
}

interface XsMessage {
  kind: 'next' | 'result' | 'fatal' | 'done';
  id?: number;
  handled?: number;
  error?: { code: string; message: string };
}

/** Runs `jobs` in a fresh XS engine; throws EngineError unless every job was answered and the final report came. */
export async function runJobsOnXs(jobs: readonly XsJob[], bundle = xsBundlePath()): Promise<XsJobsRun> {
  if (!existsSync(bundle)) throw new EngineError(`XS bundle ${bundle} missing: run \`npm run build\``);
  const results = new Map<number, Record<string, unknown>>();
  let next = 0;
  let done: number | null = null;
  let fatal: { code: string; message: string } | null = null;
  const encode = (value: object): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
  const worker = new XsWorker({
    onCommand(message) {
      const m = JSON.parse(new TextDecoder().decode(message)) as XsMessage & Record<string, unknown>;
      if (m.kind === 'next') return encode(jobs[next++] ?? { kind: 'end' });
      if (m.kind === 'result' && typeof m.id === 'number') results.set(m.id, m);
      else if (m.kind === 'fatal') fatal = m.error ?? { code: 'INTERNAL', message: 'unknown' };
      else if (m.kind === 'done') done = m.handled ?? -1;
      return new Uint8Array(0);
    },
  });
  let computrons = 0;
  try {
    computrons = (await worker.evaluate(readFileSync(bundle, 'utf8'))).meter.compute;
  } finally {
    await worker.close();
  }
  const failed = fatal as { code: string; message: string } | null;
  if (failed !== null) throw new EngineError(`XS signer failed: ${failed.code}: ${failed.message}`);
  if (done !== jobs.length || results.size !== jobs.length) throw new EngineError(`XS run ended without its final report (handled ${done ?? 'none'} of ${jobs.length} jobs)`);
  return { results, computrons };
}
