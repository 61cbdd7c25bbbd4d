// The TUF conformance suite (../shared/peers/tuf-conformance, the suite
// python-tuf, go-tuf and tuf-js run in CI) against `tuf-client`: every test
// must pass, with no expected failures (no .xfails file beside our entry
// point). It needs the Python packages .ci/run installs into .venv-tuf/
// (or TUF_CONFORMANCE_PYTHON naming a python that has them) and Debian's
// faketime; without them it skips with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDir, sharedMissing } from './harness/shared.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const suite = join(sharedDir(), 'peers', 'tuf-conformance', 'tuf_conformance');
const python = process.env['TUF_CONFORMANCE_PYTHON'] ?? join(repo, '.venv-tuf', 'bin', 'python');
const entry = join(repo, 'bin', 'tuf-client.js');

/**
 * Suite tests that fail today, by engine. Empty: a test that starts failing
 * fails this file. `xs` runs the same core inside the XS engine with the
 * portable verifier (src/update/verify-noble.ts), the host doing the I/O.
 */
const KNOWN_FAILING: Record<string, string[]> = {
  node: [],
  xs: [],
};

function skipReason(): string | false {
  const shared = sharedMissing();
  if (shared) return shared;
  if (!existsSync(suite)) return `${suite} is missing`;
  if (!existsSync(python)) return `${python} is missing: run .ci/run (it creates .venv-tuf with the suite's pinned packages) or set TUF_CONFORMANCE_PYTHON`;
  if (spawnSync('faketime', ['-f', '+0', 'true']).status !== 0) return 'faketime (Debian package faketime) is not installed';
  if (/\s/.test(entry)) return `the suite splits its entry point on spaces, and ${entry} has one`;
  return false;
}

interface JsonReport {
  summary: Record<string, number>;
  tests: Array<{ nodeid: string; outcome: string }>;
}

for (const engine of Object.keys(KNOWN_FAILING)) {
  test(`tuf-conformance: every test passes against tuf-client --engine ${engine}`, { skip: skipReason(), timeout: 20 * 60_000 }, () => {
    const work = mkdtempSync(join(tmpdir(), 'tuf-conformance-'));
    try {
      const report = join(work, 'report.json');
      const run = spawnSync(
        python,
        // --basetemp: pytest's shared /tmp/pytest-of-<user> prunes other runs' folders, so two runs at once broke each other.
        ['-m', 'pytest', suite, '--entrypoint', `${entry} --engine ${engine}`, '-q', '-p', 'no:cacheprovider', `--basetemp=${join(work, 'pytest')}`, '--json-report', `--json-report-file=${report}`],
        { cwd: work, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      assert.ok(existsSync(report), `pytest wrote no report (exit ${run.status}):\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`);
      const r = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
      const name = (t: { nodeid: string }): string => t.nodeid.slice(t.nodeid.indexOf('::') + 2);
      const failing = r.tests.filter((t) => t.outcome !== 'passed').map((t) => `${name(t)} (${t.outcome})`);
      const known = KNOWN_FAILING[engine]!;
      assert.ok(r.tests.length >= 100, `only ${r.tests.length} tests ran`);
      assert.deepEqual(
        failing.map((f) => f.slice(0, f.lastIndexOf(' ('))).sort(),
        [...known].sort(),
        `outcomes other than passed:\n${failing.join('\n')}\n\n${run.stdout.slice(-6000)}`,
      );
      process.stdout.write(`# tuf-conformance (${engine}): ${r.tests.length - failing.length} of ${r.tests.length} passed\n`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
