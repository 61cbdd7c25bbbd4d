// The Moddable adapters (src/platform/moddable/) are outside the main
// tsconfig (they import SDK modules Node cannot resolve). This test keeps them
// compiling: it type-checks them strictly against @moddable/typings plus our
// declarations in types/ (types/tsconfig.moddable.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
/** Bound on one type-check run (it takes a few seconds). */
const TSC_TIMEOUT_MS = 120_000;

function typecheck(project: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: root, encoding: 'utf8', timeout: TSC_TIMEOUT_MS });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('src/platform/moddable type-checks against @moddable/typings', () => {
  const r = typecheck(join(root, 'types', 'tsconfig.moddable.json'));
  assert.equal(r.status, 0, r.output);
});

test('the type check is not vacuous: a misuse of an SDK API is reported', () => {
  // A probe project in a temp dir: same settings and typings, plus one wrong file.
  const dir = mkdtempSync(join(tmpdir(), 'moddable-typecheck-'));
  try {
    writeFileSync(join(dir, 'probe.ts'), "import Time from 'time';\nexport const wrong: string = Time.ticks;\n");
    const base = join(root, 'types', 'tsconfig.moddable.json');
    const typings = join(root, 'node_modules', '@moddable', 'typings');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: base, include: [`${typings}/**/*.d.ts`, join(dir, 'probe.ts')] }));
    const r = typecheck(join(dir, 'tsconfig.json'));
    assert.notEqual(r.status, 0);
    assert.match(r.output, /probe\.ts.*TS2322/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
