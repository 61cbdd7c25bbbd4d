// tuf-client: the tuf-conformance client-under-test protocol
// (../shared/peers/tuf-conformance/CLIENT-CLI.md) on the portable TUF core.
//   tuf-client --metadata-dir D init ROOT
//   tuf-client --metadata-dir D --metadata-url U refresh
//   tuf-client --metadata-dir D --metadata-url U --target-name P... --target-base-url T --target-dir O download
// Options: --engine node|xs (default node). Exit 0 on success, 1 on failure, 2 on usage errors.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufError } from '../../src/update/errors.js';
import { downloadTargets, type TargetCache } from '../../src/update/download.js';
import { Updater } from '../../src/update/updater.js';
import { DirectoryStore, NodeHttpFetch, SystemClock, writeAtomic } from './node-io.js';
import { NodeHash, NodeSignatureVerifier } from './verify-node.js';

export interface CliArgs {
  engine: 'node' | 'xs';
  metadataDir?: string;
  metadataUrl?: string;
  targetNames: string[];
  targetBaseUrl?: string;
  targetDir?: string;
  command?: string;
  rest: string[];
}

const USAGE = 'usage: tuf-client [--engine node|xs] --metadata-dir D [--metadata-url U] [--target-name P]... [--target-base-url T] [--target-dir O] init ROOT | refresh | download';

export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = { engine: 'node', targetNames: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--engine') {
      const e = value();
      if (e !== 'node' && e !== 'xs') throw new Error('--engine is node or xs');
      a.engine = e;
    } else if (arg === '--metadata-dir') a.metadataDir = value();
    else if (arg === '--metadata-url') a.metadataUrl = value();
    else if (arg === '--target-name') a.targetNames.push(value());
    else if (arg === '--target-base-url') a.targetBaseUrl = value();
    else if (arg === '--target-dir') a.targetDir = value();
    else if (arg === '-v' || arg === '--verbose') continue;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if (a.command === undefined) a.command = arg;
    else a.rest.push(arg);
  }
  return a;
}

function log(msg: string): void {
  process.stderr.write(`tuf-client: ${msg}\n`);
}

function updater(a: CliArgs): Updater {
  if (a.metadataUrl === undefined) throw new Error('--metadata-url is required');
  return new Updater({
    metadataUrl: a.metadataUrl,
    ...(a.targetBaseUrl === undefined ? {} : { targetUrl: a.targetBaseUrl }),
    verifier: new NodeSignatureVerifier(),
    hash: new NodeHash(),
    fetch: new NodeHttpFetch(),
    store: new DirectoryStore(a.metadataDir!),
    clock: new SystemClock(),
  });
}

async function download(a: CliArgs): Promise<number> {
  if (a.targetDir === undefined || a.targetBaseUrl === undefined || a.targetNames.length === 0) throw new Error('download needs --target-name, --target-base-url and --target-dir');
  mkdirSync(a.targetDir, { recursive: true });
  const dir = a.targetDir;
  const cache: TargetCache = {
    read(file) {
      try {
        return new Uint8Array(readFileSync(join(dir, file)));
      } catch {
        return null;
      }
    },
    write: (file, bytes) => writeAtomic(dir, file, bytes),
  };
  const missing = await downloadTargets(updater(a), a.targetNames, cache, log);
  if (missing !== null) {
    log(`${missing}: no trusted metadata lists this target`);
    return 1;
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let a: CliArgs;
  try {
    a = parseArgs(argv);
    if (a.metadataDir === undefined) throw new Error('--metadata-dir is required');
  } catch (e) {
    log(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  // init only copies the trusted root (no core involved): the same on both engines.
  if (a.engine === 'xs' && a.command !== 'init') {
    const { runOnXs } = await import('./xs-host.js');
    return runOnXs(a);
  }
  try {
    switch (a.command) {
      case 'init': {
        if (a.rest.length !== 1) throw new Error('init needs the trusted root file');
        mkdirSync(a.metadataDir, { recursive: true });
        copyFileSync(a.rest[0]!, join(a.metadataDir, 'root.json'));
        return 0;
      }
      case 'refresh':
        await updater(a).refresh();
        return 0;
      case 'download':
        return await download(a);
      default:
        log(USAGE);
        return 2;
    }
  } catch (e) {
    log(e instanceof TufError ? e.message : `error: ${(e as Error).message}`);
    return 1;
  }
}
