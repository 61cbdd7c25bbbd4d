// Bundles @smithy/signature-v4 (with the bench entry smithy-entry.ts, after
// tsc) into one IIFE script for the XS engine, with esbuild. Run at bench
// time; the output goes to build/ and is never committed.
//
// Every option that changes the emitted code is pinned here, and the esbuild
// version is reported with the figures: computron counts depend on the
// bundle's exact code, so they are only comparable between identical bundles.
import { build, version } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url)); // dist/tools/bench/smithy
const repo = join(here, '..', '..', '..', '..');

export const SMITHY_XS_BUNDLE = join(repo, 'build', 'bench', 'sigv4-smithy.js');

export interface SmithyBundle {
  path: string;
  esbuildVersion: string;
  bytes: number;
}

export async function bundleSmithyForXs(): Promise<SmithyBundle> {
  const entry = join(here, 'smithy-entry.js');
  if (!existsSync(entry)) throw new Error(`${entry} missing: run npm run build first`);
  const result = await build({
    entryPoints: [entry],
    outfile: SMITHY_XS_BUNDLE,
    bundle: true,
    format: 'iife',
    target: 'es2022',
    // Browser field variants: TextEncoder instead of Buffer (XS has no Buffer).
    platform: 'browser',
    mainFields: ['module', 'main'],
    minify: false,
    treeShaking: true,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    metafile: true,
  });
  const out = Object.values(result.metafile.outputs)[0];
  return { path: SMITHY_XS_BUNDLE, esbuildVersion: version, bytes: out ? out.bytes : 0 };
}
