// An XS worker with a bundle from build/xs loaded, for tests that measure the
// engine itself (heap slots, chunk bytes): every issueCommand report from
// inside XS is kept, in order, and answered with an empty message.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { XsWorker } from '../../tools/xs/worker.js';

export async function xsWorkerWithBundle(bundle: string): Promise<{ worker: XsWorker; reports: number[][] }> {
  assert.ok(existsSync(bundle), `${bundle} missing: run npm run build`);
  const reports: number[][] = [];
  const worker = new XsWorker({
    onCommand(message) {
      reports.push(Array.from(message));
      return new Uint8Array(0);
    },
  });
  try {
    await worker.evaluate(readFileSync(bundle, 'utf8'));
  } catch (e) {
    await worker.close();
    throw e;
  }
  return { worker, reports };
}
