// Node side of the SigV4 vector suite: reads every case of the shared vectors
// (`<repo>/../shared/vectors/sigv4`) as raw text; the portable suite parses.
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCaseDirs, readBotocoreFiles, readCaseFiles, vectorsRoot } from '../../tools/sigv4/case.js';
import { sharedMissing } from '../harness/shared.js';

export interface VectorCase {
  name: string;
  files: Record<string, string>;
}

export interface SigV4VectorData {
  awsCAuth: VectorCase[];
  botocore: VectorCase[];
  s3: VectorCase[];
}

/** Why the suite cannot run here (no ../shared), or false; the runners skip it then and never call loadData. */
export function skipReason(): string | false {
  return sharedMissing();
}

export function loadData(): SigV4VectorData {
  // dist/test/core -> repository root is three levels up.
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const root = vectorsRoot(repo);
  const folder = (set: string): VectorCase[] =>
    listCaseDirs(join(root, set)).map((name) => ({ name, files: readCaseFiles(join(root, set, name)) }));
  const botocoreRoot = join(root, 'botocore-aws4_testsuite');
  return {
    awsCAuth: folder('aws-c-auth-v4'),
    botocore: listCaseDirs(botocoreRoot).map((name) => ({ name, files: readBotocoreFiles(join(botocoreRoot, name), basename(name)) })),
    s3: folder('s3-examples'),
  };
}
