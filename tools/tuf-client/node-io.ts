// Host adapters of the TUF client: HTTP fetch with Node's http client
// (bounded body, deadline), a metadata directory written atomically (temp
// file + rename), and the host's system clock (a platform adapter: the
// device takes time from its secure clock instead).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { quote } from '../../src/update/names.js';
import type { FetchPort, MetadataStore, TufClock } from '../../src/update/ports.js';

/** Per-request deadline of the CLI (the simulator answers from loopback). */
export const FETCH_DEADLINE_MS = 30_000;

export class NodeHttpFetch implements FetchPort {
  /** Every URL requested, in order (for logs). */
  readonly requested: string[] = [];

  fetch(url: string, maxBytes: number): Promise<Uint8Array | null> {
    this.requested.push(url);
    return new Promise((resolve, reject) => {
      const get = url.startsWith('https:') ? httpsGet : httpGet;
      const req = get(url, { timeout: FETCH_DEADLINE_MS }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 403 || status === 404) {
          res.resume();
          return resolve(null);
        }
        if (status !== 200) {
          res.resume();
          return reject(new Error(`HTTP ${status}`));
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          req.destroy();
          return reject(new Error(`over ${maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (total > maxBytes) {
            req.destroy();
            reject(new Error(`over ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
        res.on('error', reject);
      });
      // `timeout` is an idle timeout: the overall deadline also stops a slow drip.
      const deadline = setTimeout(() => req.destroy(new Error('deadline')), FETCH_DEADLINE_MS);
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new Error('deadline')));
      req.on('error', reject);
    });
  }
}

/** Writes `bytes` to `path` atomically: a reader sees the old file or the new one. */
export function writeAtomic(dir: string, name: string, bytes: Uint8Array): void {
  const tmp = join(dir, `.tmp-${process.pid}-${name}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
}

/** Trusted metadata as `<quoted role>.json` files in one directory. */
export class DirectoryStore implements MetadataStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  #name(role: string): string {
    return `${quote(role)}.json`;
  }
  load(role: string): Uint8Array | null {
    try {
      return new Uint8Array(readFileSync(join(this.dir, this.#name(role))));
    } catch {
      return null;
    }
  }
  save(role: string, bytes: Uint8Array): void {
    writeAtomic(this.dir, this.#name(role), bytes);
  }
  remove(role: string): void {
    rmSync(join(this.dir, this.#name(role)), { force: true });
  }
}

/** The host's clock as a TUF clock: trusted, zero width (the CLI runs on a host, under faketime in the suite). */
export class SystemClock implements TufClock {
  now(): { state: string; earliest: number; latest: number } {
    const t = Date.now();
    return { state: 'SYNCED', earliest: t, latest: t };
  }
}
