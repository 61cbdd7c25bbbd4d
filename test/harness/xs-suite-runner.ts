// Host side of test/harness/xs-entry.ts: runs a bundled portable suite in XS.
import { readFileSync } from 'node:fs';
import { XsWorker } from '../../tools/xs/worker.js';

export interface XsCaseResult {
  name: string;
  ok: boolean;
  error?: string;
}

export interface XsSuiteRun {
  results: XsCaseResult[];
  /** True only when the engine sent its final report and the counts agree. */
  complete: boolean;
  computrons: number;
}

export async function runSuiteOnXs(bundlePath: string, data: unknown): Promise<XsSuiteRun> {
  const results: XsCaseResult[] = [];
  let done: { passed: number; failed: number } | null = null;
  const dataText = JSON.stringify(data ?? null);
  const worker = new XsWorker({
    onCommand(message) {
      const m = JSON.parse(Buffer.from(message).toString('utf8')) as { kind: string } & Record<string, unknown>;
      if (m.kind === 'data') return Buffer.from(dataText, 'utf8');
      if (m.kind === 'result') results.push({ name: String(m.name), ok: m.ok === true, ...(m.error ? { error: String(m.error) } : {}) });
      if (m.kind === 'done') done = { passed: Number(m.passed), failed: Number(m.failed) };
      return new Uint8Array(0);
    },
  });
  try {
    const run = await worker.evaluate(readFileSync(bundlePath, 'utf8'));
    const d = done as { passed: number; failed: number } | null;
    const complete = d !== null && d.passed + d.failed === results.length && d.failed === results.filter((r) => !r.ok).length;
    return { results, complete, computrons: run.meter.compute };
  } finally {
    await worker.close();
  }
}
