// Downloads several targets in order with one Updater, keeping each verified
// copy in a cache and not fetching a target again whose cached copy still
// verifies against trusted metadata (the tuf-conformance CLI's contract; the
// same on every engine, only the cache differs).
import { quote } from './names.js';
import type { Updater } from './updater.js';

/** Where verified targets are kept, by file name (the target path, quoted). */
export interface TargetCache {
  /** The stored bytes, or null when there are none. */
  read(file: string): Uint8Array | null;
  /** Stores bytes, replacing any; throws when it cannot. */
  write(file: string, bytes: Uint8Array): void;
}

/**
 * Refreshes, then for each path in order: a cached copy that verifies is
 * kept, anything else is downloaded, verified and stored. Returns the first
 * path no trusted metadata lists (nothing after it is done), or null.
 * Verification and storage failures throw (TufError).
 */
export async function downloadTargets(updater: Updater, paths: readonly string[], cache: TargetCache, log: (line: string) => void): Promise<string | null> {
  await updater.refresh();
  for (const path of paths) {
    const info = await updater.getTargetInfo(path);
    if (info === null) return path;
    const file = quote(path);
    const cached = cache.read(file);
    if (cached !== null) {
      try {
        updater.verifyTarget(info, cached);
        log(`${path}: cached copy verified`);
        continue;
      } catch {
        // Not the trusted version: download it.
      }
    }
    const bytes = await updater.downloadTarget(info);
    cache.write(file, bytes);
    log(`${path}: downloaded ${bytes.length} bytes`);
  }
  return null;
}
