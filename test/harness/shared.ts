// `../shared` beside the repository holds the test vectors and peer suites
// some tests use; it is not part of the repository (README.md, "Test
// vectors: ../shared"). Without it those tests skip with this reason instead
// of failing, so a plain clone still runs the rest.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compiled to dist/test/harness: the repository root is three levels up. */
export function sharedDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared');
}

/** The reason to skip a test that needs `../shared/vectors`, or false when it is there. */
export function sharedMissing(): string | false {
  const vectors = join(sharedDir(), 'vectors');
  if (existsSync(vectors)) return false;
  return `../shared (test vectors and peer suites) not found beside the repository: ${vectors} is missing (README.md, "Test vectors: ../shared", says how to get it)`;
}
