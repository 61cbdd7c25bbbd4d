// Builds the device test program: every portable core suite
// (test/core/*.suite.ts) with its data inlined (a device has no files),
// plus a runner that prints one line per case and the closing line
// `N passed, N failed`. The same program runs inside the XS engine (target
// xs), in the Moddable simulator and on a flashed board.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rollup } from '@rollup/wasm-node';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { lowerStaticFieldsForNoble } from '../xs/lower-static-fields.js';

export interface DeviceTestBuild {
  /** IIFE script for xsnap (target xs). */
  script: string;
  /** ES module with `export default function main()` for mcconfig (targets sim and serial). */
  module: string;
  suites: string[];
  /** Suites left out because their data is not available here (e.g. no ../shared), with the reason. */
  skipped: Array<{ suite: string; reason: string }>;
  cases: number;
}

/** test/core/<name>.data.ts: skipReason says why the data is not available here. */
interface DataModule {
  loadData(): unknown;
  skipReason?(): string | false;
}

/** The device test suites there are (compiled test/core/*.suite.ts, without the harness's own). */
export function listSuites(repo: string): string[] {
  const coreDir = join(repo, 'dist', 'test', 'core');
  if (!existsSync(coreDir)) throw new Error('dist/test/core missing: run `npm run build` first');
  return readdirSync(coreDir)
    .filter((f) => f.endsWith('.suite.js'))
    .map((f) => f.slice(0, -'.suite.js'.length))
    .filter((n) => n !== 'harness')
    .sort();
}

export async function buildDeviceTests(repo: string, outDir: string, only?: string[]): Promise<DeviceTestBuild> {
  const coreDir = join(repo, 'dist', 'test', 'core');
  const all = listSuites(repo);
  // A misspelt --suite would otherwise build (and pass) nothing.
  const unknown = (only ?? []).filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`unknown suite ${unknown.join(', ')} (valid: ${all.join(', ')})`);
  const candidates = all.filter((n) => !only || only.includes(n));
  mkdirSync(outDir, { recursive: true });
  const suites: string[] = [];
  const skipped: Array<{ suite: string; reason: string }> = [];
  const loaded: Array<{ name: string; data: unknown }> = [];
  for (const name of candidates) {
    const dataFile = join(coreDir, `${name}.data.js`);
    const loader = existsSync(dataFile) ? ((await import(pathToFileURL(dataFile).href)) as DataModule) : null;
    const reason = loader?.skipReason?.() ?? false;
    if (reason) {
      skipped.push({ suite: name, reason });
      continue;
    }
    suites.push(name);
    loaded.push({ name, data: loader ? loader.loadData() : null });
  }
  let cases = 0;
  const imports: string[] = [];
  const table: string[] = [];
  for (const [i, { name, data }] of loaded.entries()) {
    const suite = (await import(pathToFileURL(join(coreDir, `${name}.suite.js`)).href)).default as (d: unknown) => unknown[];
    cases += suite(data).length;
    const dataModule = join(outDir, `data-${name}.js`);
    writeFileSync(dataModule, `export default JSON.parse(${JSON.stringify(JSON.stringify(data))});\n`);
    imports.push(`import suite${i} from ${JSON.stringify(join(coreDir, `${name}.suite.js`))};`);
    imports.push(`import data${i} from ${JSON.stringify(dataModule)};`);
    table.push(`[${JSON.stringify(name)}, suite${i}, data${i}]`);
  }
  const entry = join(outDir, 'entry.js');
  writeFileSync(
    entry,
    `${imports.join('\n')}
import { runDeviceTests } from ${JSON.stringify(join(repo, 'dist', 'tools', 'hil', 'device-runner.js'))};
export const suites = [${table.join(', ')}];
export default function main() { runDeviceTests(suites); }
`,
  );
  const bundle = await rollup({ input: entry, plugins: [nodeResolve(), lowerStaticFieldsForNoble()], onwarn: () => {} });
  const script = join(outDir, 'device-tests.js');
  const module = join(outDir, 'device-tests.mjs');
  await bundle.write({ file: script, format: 'iife', name: 'deviceTests', footer: 'deviceTests.default();' });
  await bundle.write({ file: module, format: 'es' });
  await bundle.close();
  return { script: resolve(script), module: resolve(module), suites, skipped, cases };
}
