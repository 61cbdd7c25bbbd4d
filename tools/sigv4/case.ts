// Reads SigV4 vector cases from disk (Node only; the parsing is in case-parse.ts).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Every regular file of a case folder: file name -> UTF-8 text. */
export function readCaseFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isFile()) files[f] = readFileSync(p, 'utf8');
  }
  return files;
}

/** Case folders (holding request.txt or a .req) under root, recursively, as paths relative to root. */
export function listCaseDirs(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, prefix)).sort()) {
    const rel = prefix === '' ? e : `${prefix}/${e}`;
    const p = join(root, rel);
    if (!statSync(p).isDirectory()) continue;
    const names = readdirSync(p);
    if (names.includes('request.txt') || names.some((n) => n.endsWith('.req'))) out.push(rel);
    else out.push(...listCaseDirs(root, rel));
  }
  return out;
}

/** botocore layout: `<name>/<name>.req` etc. -> {req, creq, sts, authz, sreq}. */
export function readBotocoreFiles(dir: string, name: string): { req: string; creq: string; sts: string; authz: string; sreq: string } {
  const read = (ext: string) => readFileSync(join(dir, `${name}.${ext}`), 'utf8');
  return { req: read('req'), creq: read('creq'), sts: read('sts'), authz: read('authz'), sreq: read('sreq') };
}

/** `<repo>/../shared/vectors/sigv4`, from the repository root. */
export function vectorsRoot(repoRoot: string): string {
  const root = join(repoRoot, '..', 'shared', 'vectors', 'sigv4');
  if (!existsSync(root)) throw new Error(`SigV4 vectors not found at ${root}`);
  return root;
}
