// `npm run build` (run by `npm start`, `npm test`, `npm ci`) on a copy of the
// checkout: a clean tree builds everything; a second build with nothing
// changed rewrites nothing; a changed module rebuilds what depends on it and
// nothing else; a deleted output comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const SOURCES = ['src', 'test', 'tools', 'types', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.core.json', 'rollup.config.js'];

function build(dir: string): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['run', 'build'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  assert.equal(run.status, 0, `npm run build: ${run.stdout.slice(-1000)}${run.stderr.slice(-2000)}`);
}

/** mtime of every file under `dir` (relative path -> ms). */
function mtimes(dir: string, base = dir, out = new Map<string, number>()): Map<string, number> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) mtimes(p, base, out);
    else out.set(p.slice(base.length + 1), statSync(p).mtimeMs);
  }
  return out;
}

const changed = (before: Map<string, number>, after: Map<string, number>): string[] =>
  [...after].filter(([f, t]) => before.get(f) !== t).map(([f]) => f).concat([...before.keys()].filter((f) => !after.has(f)));

test('npm run build: full on a clean tree, nothing rewritten when nothing changed, only what depends on a change rebuilt', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'build-incremental-'));
  try {
    for (const s of SOURCES) cpSync(join(repo, s), join(dir, s), { recursive: true });
    symlinkSync(realpathSync(join(repo, 'node_modules')), join(dir, 'node_modules'), 'dir');

    build(dir);
    const sourceSuites = readdirSync(join(dir, 'test', 'core')).filter((f) => f.endsWith('.suite.ts'));
    for (const f of sourceSuites) assert.ok(existsSync(join(dir, 'build', 'xs', `suite-${f.replace(/\.suite\.ts$/, '')}.js`)), `bundle for ${f}`);
    for (const b of ['vdevice', 'sign']) assert.ok(existsSync(join(dir, 'build', 'xs', `${b}.js`)), b);
    assert.ok(existsSync(join(dir, 'dist', 'tools', 'start.js')));
    const first = { dist: mtimes(join(dir, 'dist')), xs: mtimes(join(dir, 'build', 'xs')) };

    build(dir);
    assert.deepEqual(changed(first.dist, mtimes(join(dir, 'dist'))).filter((f) => !f.endsWith('.tsbuildinfo')), [], 'tsc rewrote nothing');
    assert.deepEqual(changed(first.xs, mtimes(join(dir, 'build', 'xs'))), [], 'rollup rewrote nothing');

    // A real change in the time selection: the bundles holding it are rebuilt, the SigV4-only one is not.
    appendFileSync(join(dir, 'src', 'time', 'selection.ts'), '\nexport const BUILD_TEST_MARKER = 1;\n');
    build(dir);
    const rebuilt = changed(first.xs, mtimes(join(dir, 'build', 'xs')));
    assert.ok(rebuilt.includes('vdevice.js'), `rebuilt: ${rebuilt.join(', ')}`);
    assert.ok(rebuilt.includes('suite-time-selection.js'), `rebuilt: ${rebuilt.join(', ')}`);
    assert.ok(!rebuilt.includes('sign.js'), `rebuilt: ${rebuilt.join(', ')}`);

    // A deleted output (compiled or bundled) is built again.
    rmSync(join(dir, 'dist', 'tools', 'start.js'));
    rmSync(join(dir, 'build', 'xs', 'vdevice.js'));
    build(dir);
    assert.ok(existsSync(join(dir, 'dist', 'tools', 'start.js')), 'dist/tools/start.js rebuilt');
    assert.ok(existsSync(join(dir, 'build', 'xs', 'vdevice.js')), 'build/xs/vdevice.js rebuilt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
