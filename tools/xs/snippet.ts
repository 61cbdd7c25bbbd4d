// Runs a snippet of ES module code inside the XS engine and returns the JSON
// object it reports with `issueCommand`. The snippet may import the compiled
// project modules (paths relative to `resolveDir`); esbuild bundles it into
// one script first. Used by bench sections that meter core code on XS.
import { build } from 'esbuild';
import { XsWorker } from './worker.js';

export async function runXsSnippet<T>(source: string, resolveDir: string): Promise<T | null> {
  const bundle = await build({
    stdin: { contents: source, resolveDir, loader: 'js' },
    bundle: true,
    format: 'iife',
    target: 'es2022',
    write: false,
  });
  let report: T | null = null;
  const worker = new XsWorker({
    onCommand(message) {
      report = JSON.parse(Buffer.from(message).toString('utf8')) as T;
      return new Uint8Array(0);
    },
  });
  try {
    await worker.evaluate(bundle.outputFiles[0]!.text);
  } finally {
    await worker.close();
  }
  return report;
}
