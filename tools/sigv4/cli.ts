// `sigv4` CLI: signs SigV4 vector cases with our signer, on Node or inside
// the XS engine, and prints what a developer needs to compare with a peer.
//
//   sigv4 sign [--mode header|query] [--engine node|xs] CASE_DIR...
//
// One JSON object per case and mode per line, in argument order (header
// before query):
//   {"case","mode","canonicalRequest","stringToSign","signature","signedRequest"}
//   {"case","mode","error":{"code","message"}}
// Exit status: 0 every case signed, 1 some case failed (its line says why),
// 2 usage error or the engine failed. Error codes are the signer's
// (SigV4Error) and case-parse.ts's INVALID_CASE, plus CASE_NOT_FOUND and
// CASE_UNREADABLE for folders. The signed request shows the session token
// (it is part of the request); the secret key is never printed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listCaseDirs, readCaseFiles } from './case.js';
import { caseSigner, parseBotocoreCase, parseCase, signCase, type SigningCase } from './case-parse.js';
import { runJobsOnXs } from './xs-jobs.js';

export { EngineError, xsBundlePath } from './xs-jobs.js';

export type Mode = 'header' | 'query';
export type Engine = 'node' | 'xs';

/** Case folders one invocation accepts (bounds the work and the XS job loop). */
export const CLI_MAX_CASES = 5000;

export const USAGE = `Usage: sigv4 sign [--mode header|query] [--engine node|xs] CASE_DIR...
       sigv4 --help

Signs each case folder with the project's SigV4 signer and prints one JSON
line per case and mode:
  {"case","mode","canonicalRequest","stringToSign","signature","signedRequest"}
or, when the case cannot be signed,
  {"case","mode","error":{"code","message"}}

A case folder holds request.txt + context.json (the layout of
../shared/vectors/sigv4/aws-c-auth-v4 and s3-examples; context keys:
credentials {access_key_id, secret_access_key, token?}, region, service,
timestamp, normalize, double_uri_encode, sign_body, payload_hash,
omit_session_token, expiration_in_seconds), or botocore's <name>.req files.
A folder that is not a case stands for every case folder below it, so
\`sigv4 sign ../shared/vectors/sigv4\` signs every vector.

Options:
  --mode header|query  sign with the Authorization header, or presign the
                       query; default: both, header first
  --engine node|xs     run the signer on Node (default) or inside the XS
                       engine (build/xs/sign.js; run \`npm run build\` first)
  -h, --help           this text

Exit status: 0 all signed, 1 some case failed, 2 usage or engine error.
`;

export interface CliOptions {
  modes: Mode[];
  engine: Engine;
  dirs: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses the arguments after the program name; returns null for --help. */
export function parseArgs(argv: readonly string[]): CliOptions | null {
  const args = [...argv];
  if (args.some((a) => a === '--help' || a === '-h')) return null;
  if (args.length === 0) throw new UsageError('no command given');
  const command = args.shift();
  if (command !== 'sign') throw new UsageError(`unknown command ${JSON.stringify(command)} (expected "sign")`);
  let modes: Mode[] = ['header', 'query'];
  let engine: Engine = 'node';
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--mode') {
      const v = value();
      if (v !== 'header' && v !== 'query') throw new UsageError(`--mode must be header or query, got ${JSON.stringify(v)}`);
      modes = [v];
    } else if (flag === '--engine') {
      const v = value();
      if (v !== 'node' && v !== 'xs') throw new UsageError(`--engine must be node or xs, got ${JSON.stringify(v)}`);
      engine = v;
    } else if (flag.startsWith('-') && flag !== '-') {
      throw new UsageError(`unknown option ${flag}`);
    } else {
      dirs.push(arg);
    }
  }
  if (dirs.length === 0) throw new UsageError('no CASE_DIR given');
  if (dirs.length > CLI_MAX_CASES) throw new UsageError(`at most ${CLI_MAX_CASES} case folders per run`);
  return { modes, engine, dirs };
}

export interface CaseError {
  code: string;
  message: string;
}

export interface SignedLine {
  case: string;
  mode: Mode;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  signedRequest: string;
}

export interface ErrorLine {
  case: string;
  mode: Mode;
  error: CaseError;
}

export type OutputLine = SignedLine | ErrorLine;

function errorOf(e: unknown, fallback: string): CaseError {
  const code = typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : fallback;
  return { code, message: e instanceof Error ? e.message : String(e) };
}

/** Reads and parses one case folder (aws-c-auth / S3 layout, or botocore's .req layout). */
export function loadCase(dir: string): SigningCase {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw Object.assign(new Error(`no such case folder: ${dir}`), { code: 'CASE_NOT_FOUND' });
  let files: Record<string, string>;
  try {
    files = readCaseFiles(dir);
  } catch (e) {
    // Not our error type: report a stable code, not the file system's.
    throw Object.assign(new Error(`cannot read case folder ${dir}: ${e instanceof Error ? e.message : String(e)}`), { code: 'CASE_UNREADABLE' });
  }
  const name = dir;
  if (files['request.txt'] !== undefined) {
    return parseCase({ request: files['request.txt'], ...(files['context.json'] !== undefined ? { context: files['context.json'] } : {}) }, name);
  }
  const req = `${basename(name)}.req`;
  if (files[req] !== undefined && files[`${basename(name)}.creq`] !== undefined && files[`${basename(name)}.sreq`] !== undefined) {
    return parseBotocoreCase({ req: files[req], creq: files[`${basename(name)}.creq`]!, sreq: files[`${basename(name)}.sreq`]! }, name);
  }
  throw Object.assign(new Error(`${dir} holds neither request.txt nor ${req}/.creq/.sreq`), { code: 'INVALID_CASE' });
}

interface Job {
  id: number;
  name: string;
  mode: Mode;
  parsed: SigningCase | null;
  parseError: CaseError | null;
}

function isCaseFolder(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  const names = readdirSync(dir);
  return names.includes('request.txt') || names.some((n) => n.endsWith('.req'));
}

/** Case folders as given; a folder that is not a case stands for every case below it (sorted). */
export function expandCaseDirs(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    const trimmed = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
    if (existsSync(trimmed) && statSync(trimmed).isDirectory() && !isCaseFolder(trimmed)) {
      const below = listCaseDirs(trimmed).map((rel) => join(trimmed, rel));
      if (below.length > 0) {
        out.push(...below);
        continue;
      }
    }
    out.push(trimmed);
  }
  if (out.length > CLI_MAX_CASES) throw new UsageError(`at most ${CLI_MAX_CASES} case folders per run (got ${out.length})`);
  return out;
}

function jobsFor(options: CliOptions): Job[] {
  const jobs: Job[] = [];
  for (const dir of expandCaseDirs(options.dirs)) {
    let parsed: SigningCase | null = null;
    let parseError: CaseError | null = null;
    try {
      parsed = loadCase(dir);
    } catch (e) {
      parseError = errorOf(e, 'INVALID_CASE');
    }
    for (const mode of options.modes) jobs.push({ id: jobs.length, name: dir, mode, parsed, parseError });
  }
  return jobs;
}

type Result = { ok: true; canonicalRequest: string; stringToSign: string; signature: string; signedRequest: string } | { ok: false; error: CaseError };

function signOnNode(jobs: Job[]): Map<number, Result> {
  const signer = caseSigner();
  const results = new Map<number, Result>();
  for (const job of jobs) {
    if (job.parsed === null) continue;
    try {
      results.set(job.id, { ok: true, ...signCase(signer, job.parsed, job.mode) });
    } catch (e) {
      results.set(job.id, { ok: false, error: errorOf(e, 'INTERNAL') });
    }
  }
  return results;
}

/** Runs the jobs inside XS (tools/sigv4/sign.xs.ts). */
async function signOnXs(jobs: Job[]): Promise<Map<number, Result>> {
  const todo = jobs.filter((j) => j.parsed !== null);
  const run = await runJobsOnXs(todo.map((j) => ({ kind: 'job' as const, id: j.id, mode: j.mode, case: j.parsed })));
  const results = new Map<number, Result>();
  for (const [id, m] of run.results) {
    const error = m.error as CaseError | undefined;
    results.set(
      id,
      error
        ? { ok: false, error }
        : { ok: true, canonicalRequest: String(m.canonicalRequest), stringToSign: String(m.stringToSign), signature: String(m.signature), signedRequest: String(m.signedRequest) },
    );
  }
  return results;
}

function lineFor(job: Job, result: Result | undefined): OutputLine {
  if (job.parseError !== null) return { case: job.name, mode: job.mode, error: job.parseError };
  if (result === undefined) return { case: job.name, mode: job.mode, error: { code: 'INTERNAL', message: 'no result' } };
  if (!result.ok) return { case: job.name, mode: job.mode, error: result.error };
  return { case: job.name, mode: job.mode, canonicalRequest: result.canonicalRequest, stringToSign: result.stringToSign, signature: result.signature, signedRequest: result.signedRequest };
}

/** Signs the cases and returns the output lines (the CLI prints them). */
export async function signCases(options: CliOptions): Promise<OutputLine[]> {
  const jobs = jobsFor(options);
  const results = options.engine === 'xs' ? await signOnXs(jobs) : signOnNode(jobs);
  return jobs.map((j) => lineFor(j, results.get(j.id)));
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (e) => (e ? reject(e) : resolve())));
}

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions | null;
  try {
    options = parseArgs(argv);
  } catch (e) {
    await write(process.stderr, `sigv4: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    await write(process.stdout, USAGE);
    return 0;
  }
  let lines: OutputLine[];
  try {
    lines = await signCases(options);
  } catch (e) {
    await write(process.stderr, `sigv4: ${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError ? `\n${USAGE}` : ''}`);
    return 2;
  }
  await write(process.stdout, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return lines.some((l) => 'error' in l) ? 1 : 0;
}
