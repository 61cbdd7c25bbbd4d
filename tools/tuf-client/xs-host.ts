// --engine xs: the host side of build/xs/tuf-client.js (tools/tuf-client/tuf-client.xs.ts).
// The TUF core runs inside the XS engine; this answers its port calls
// (HTTP fetch, the metadata directory, the target directory, the clock)
// with the same Node adapters the node engine uses. The protocol is
// described in tuf-client.xs.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsWorker } from '../xs/worker.js';
import type { CliArgs } from './cli.js';
import { DirectoryStore, NodeHttpFetch, SystemClock, writeAtomic } from './node-io.js';

const REPLY_OK = 0;
const REPLY_MISSING = 1;
const REPLY_ERROR = 2;

/** Host calls one run answers at most (a refresh makes a few per role and per root rotation). */
export const MAX_XS_CALLS = 100_000;

/** <repo>/build/xs/tuf-client.js, from dist/tools/tuf-client (compiled) or tools/tuf-client (source). */
export function tufClientBundlePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', '..', 'build', 'xs', 'tuf-client.js'), join(here, '..', '..', 'build', 'xs', 'tuf-client.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

function reply(status: number, body: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out = new Uint8Array(1 + bytes.length);
  out[0] = status;
  out.set(bytes, 1);
  return out;
}

function log(msg: string): void {
  process.stderr.write(`tuf-client: ${msg}\n`);
}

/** Safe file name for a target (already quoted by the core): no separators, no dot names. */
function targetFile(file: unknown): string | null {
  return typeof file === 'string' && file.length > 0 && !file.includes('/') && file !== '.' && file !== '..' ? file : null;
}

export async function runOnXs(a: CliArgs): Promise<number> {
  if (a.command !== 'refresh' && a.command !== 'download') {
    log(`unknown command ${a.command}`);
    return 2;
  }
  if (a.metadataUrl === undefined) {
    log('--metadata-url is required');
    return 2;
  }
  if (a.command === 'download' && (a.targetDir === undefined || a.targetBaseUrl === undefined || a.targetNames.length === 0)) {
    log('download needs --target-name, --target-base-url and --target-dir');
    return 2;
  }
  const bundle = tufClientBundlePath();
  if (!existsSync(bundle)) {
    log(`XS bundle ${bundle} missing: run \`npm run build\``);
    return 1;
  }
  const args = { command: a.command, metadataUrl: a.metadataUrl, targetBaseUrl: a.targetBaseUrl ?? null, targetNames: a.targetNames };
  const store = new DirectoryStore(a.metadataDir!);
  const http = new NodeHttpFetch();
  const clock = new SystemClock();
  let done: number | null = null;
  let calls = 0;
  const handle = async (message: Uint8Array): Promise<Uint8Array> => {
    if (++calls > MAX_XS_CALLS) return reply(REPLY_ERROR, 'too many calls');
    const nul = message.indexOf(0);
    const head = JSON.parse(Buffer.from(message.subarray(0, nul < 0 ? message.length : nul)).toString('utf8')) as Record<string, unknown>;
    const payload = nul < 0 ? null : message.subarray(nul + 1);
    switch (head['kind']) {
      case 'args':
        return reply(REPLY_OK, JSON.stringify(args));
      case 'now':
        return reply(REPLY_OK, JSON.stringify(clock.now()));
      case 'fetch': {
        try {
          const bytes = await http.fetch(String(head['url']), Number(head['maxBytes']));
          return bytes === null ? reply(REPLY_MISSING) : reply(REPLY_OK, bytes);
        } catch (e) {
          return reply(REPLY_ERROR, e instanceof Error ? e.message : 'fetch failed');
        }
      }
      case 'load': {
        const bytes = store.load(String(head['role']));
        return bytes === null ? reply(REPLY_MISSING) : reply(REPLY_OK, bytes);
      }
      case 'save':
        if (payload === null) return reply(REPLY_ERROR, 'no bytes');
        store.save(String(head['role']), payload);
        return reply(REPLY_OK);
      case 'remove':
        store.remove(String(head['role']));
        return reply(REPLY_OK);
      case 'readTarget': {
        const file = targetFile(head['file']);
        if (file === null) return reply(REPLY_ERROR, 'bad target file name');
        try {
          return reply(REPLY_OK, new Uint8Array(readFileSync(join(a.targetDir!, file))));
        } catch {
          return reply(REPLY_MISSING);
        }
      }
      case 'writeTarget': {
        const file = targetFile(head['file']);
        if (file === null || payload === null) return reply(REPLY_ERROR, 'bad target file name');
        writeAtomic(a.targetDir!, file, payload);
        return reply(REPLY_OK);
      }
      case 'log':
        log(String(head['message']));
        return reply(REPLY_OK);
      case 'done':
        done = Number(head['code']);
        return reply(REPLY_OK);
      default:
        return reply(REPLY_ERROR, 'unknown call');
    }
  };
  const worker = new XsWorker({
    async onCommand(message) {
      try {
        return await handle(message);
      } catch (e) {
        // A host failure (e.g. a full disk) answers as an error: the core counts it as a failed port call.
        return reply(REPLY_ERROR, e instanceof Error ? e.message : 'host error');
      }
    },
  });
  try {
    if (a.targetDir !== undefined) (await import('node:fs')).mkdirSync(a.targetDir, { recursive: true });
    await worker.evaluate(readFileSync(bundle, 'utf8'));
  } catch (e) {
    log(`XS engine: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await worker.close();
  }
  const code = done as number | null;
  if (code === null) {
    log('XS run ended without its final report');
    return 1;
  }
  return code;
}
