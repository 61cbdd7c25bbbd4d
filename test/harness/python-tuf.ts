// python-tuf (the reference TUF implementation) as an independent peer for
// tests, from the `.venv-tuf/` virtual environment `.ci/run` creates at the
// repository root (tuf 7.0.0, securesystemslib 1.4.0). Without it the tests
// that need it skip with `pythonTufMissing()`'s reason.
//   makePythonTufRepo(dir): a reference repository written by python-tuf's own
//     tooling (test/fixtures/tuf_make_reference_repo.py says what is in it).
//   ngclientFetch(...): python-tuf's client refreshes and downloads one target.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Each python run's limit: a hung peer fails the test instead of wedging it. */
export const PYTHON_TUF_TIMEOUT_MS = 60_000;

/** Compiled to dist/test/harness: the repository root is three levels up. */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function tufVenvPython(): string {
  return join(repoRoot(), '.venv-tuf', 'bin', 'python');
}

let missing: string | false | undefined;

/** The reason to skip a test that needs python-tuf, or false when the venv has it. */
export function pythonTufMissing(): string | false {
  if (missing !== undefined) return missing;
  const python = tufVenvPython();
  if (!existsSync(python)) {
    missing = `python-tuf venv not found at ${python} (.ci/run creates it: python3 -m venv .venv-tuf && .venv-tuf/bin/pip install securesystemslib[crypto]==1.4.0 tuf==7.0.0 pytest==9.1.1 pytest-json-report==1.5.0)`;
    return missing;
  }
  const probe = spawnSync(python, ['-c', 'import tuf, securesystemslib; print(tuf.__version__)'], { encoding: 'utf8', timeout: PYTHON_TUF_TIMEOUT_MS });
  missing = probe.status === 0 ? false : `python-tuf does not import in ${python}: ${(probe.stderr || '').trim().split('\n').pop()}`;
  return missing;
}

function fixture(name: string): string {
  return join(repoRoot(), 'test', 'fixtures', name);
}

export interface PythonTufTarget {
  name: string;
  length: number;
  sha256: string;
  custom: Record<string, unknown>;
  /** The role that lists it: `targets` or a delegated role. */
  role: string;
}

export interface PythonTufRepo {
  dir: string;
  /** Absolute paths. */
  metadataDir: string;
  targetsDir: string;
  /** The root a client starts from (version 1; the repository's newest is 2). */
  trustedRoot: string;
  versions: Record<string, number>;
  /** Signature scheme per role. */
  keyTypes: Record<string, string>;
  targets: PythonTufTarget[];
}

/** Writes python-tuf's reference repository into `dir` (created; must not hold one already). */
export async function makePythonTufRepo(dir: string): Promise<PythonTufRepo> {
  const why = pythonTufMissing();
  if (why) throw new Error(why);
  mkdirSync(dir, { recursive: true });
  await run(tufVenvPython(), [fixture('tuf_make_reference_repo.py'), dir], { timeout: PYTHON_TUF_TIMEOUT_MS });
  // The generator writes the same fields, with paths relative to `dir`.
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Omit<PythonTufRepo, 'dir'>;
  return {
    dir,
    metadataDir: join(dir, m.metadataDir),
    targetsDir: join(dir, m.targetsDir),
    trustedRoot: join(dir, m.trustedRoot),
    versions: m.versions,
    keyTypes: m.keyTypes,
    targets: m.targets,
  };
}

export type NgclientResult =
  | { ok: true; trusted: Record<string, number>; target: { path: string; length: number; sha256: string; custom: Record<string, unknown> } }
  | { ok: false; stage: 'refresh' | 'targetinfo' | 'download'; error: string; message: string; trusted: Record<string, number> };

export interface NgclientFetchOptions {
  /** Directory with metadata/ and targets/, served on 127.0.0.1 for the run. */
  repoDir: string;
  /** Trusted root to start from; omit to continue from what an earlier run left in `workDir`. */
  trustedRoot?: string;
  target: string;
  workDir: string;
}

/** python-tuf's ngclient: refresh, find and download one target. A refusal is a result, not a throw. */
export async function ngclientFetch(o: NgclientFetchOptions): Promise<NgclientResult> {
  const why = pythonTufMissing();
  if (why) throw new Error(why);
  const args = [fixture('tuf_ngclient_fetch.py'), '--repo', o.repoDir, '--target', o.target, '--work', o.workDir];
  if (o.trustedRoot) args.push('--root', o.trustedRoot);
  const { stdout } = await run(tufVenvPython(), args, { timeout: PYTHON_TUF_TIMEOUT_MS });
  return JSON.parse(stdout.trim().split('\n').pop()!) as NgclientResult;
}
