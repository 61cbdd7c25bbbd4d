// Canonical URI of a wire path (UTF-8 bytes, without the query).
//
// Two independent switches, as in aws-c-auth:
// - normalise: drop empty and `.` segments, let `..` remove the previous
//   segment; keep a trailing `/` when the wire path ends with one
//   (`//example//` -> `/example/`, `/a/b/..` -> `/a`, as botocore's
//   posixpath.normpath plus its trailing-slash rule).
// - double-encode (every service but S3): percent-encode every byte except
//   unreserved and `/`, so an escape already on the wire is encoded again
//   (`%2F` -> `%252F`). Without it (S3), valid `%XX` escapes are kept as
//   they are and any other reserved byte is encoded once, so an encoded wire
//   path is used as-is and a raw one gets its single encoding.
import { SigV4Error } from './errors.js';
import type { HashSink } from './hash-sink.js';
import { hexDigitValue } from './hex.js';
import { isUnreserved, upperHexDigit } from './uri-encode.js';

const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Normalises path[0, len) in place (it only ever shrinks, except that an
 * empty result becomes `/`, so path.length must be >= 1). The path must start
 * with `/`. Returns the new length.
 */
export function normalizePathInPlace(path: Uint8Array, len: number): number {
  let w = 0;
  let r = 0;
  while (r < len) {
    if (path[r] === SLASH) {
      r++;
      continue;
    }
    const seg = r;
    while (r < len && path[r] !== SLASH) r++;
    const segLen = r - seg;
    if (segLen === 1 && path[seg] === DOT) continue;
    if (segLen === 2 && path[seg] === DOT && path[seg + 1] === DOT) {
      while (w > 0 && path[w - 1] !== SLASH) w--;
      if (w > 0) w--; // drop the slash that introduced the removed segment
      continue;
    }
    // Invariant: w < seg (each written `/segment` came from at least as many input bytes).
    path[w++] = SLASH;
    for (let i = seg; i < r; i++) path[w++] = path[i]!;
  }
  if (w === 0 || (len > 0 && path[len - 1] === SLASH && w < len)) {
    // Reading path[len - 1] above is safe: the loop never writes at or after r.
    path[w++] = SLASH;
  }
  return w;
}

/** Streams the canonical URI of path[start, end) into the sink. */
export function writeCanonicalPath(sink: HashSink, path: Uint8Array, start: number, end: number, doubleEncode: boolean): void {
  if (start === end) {
    sink.byte(SLASH);
    return;
  }
  // Runs that need no encoding (most of a path) go to the sink as ranges.
  let run = start;
  for (let i = start; i < end; i++) {
    const b = path[i]!;
    if (isUnreserved(b) || b === SLASH) continue;
    if (i > run) sink.bytes(path, run, i);
    if (!doubleEncode && b === 0x25) {
      const hi = i + 2 < end ? hexDigitValue(path[i + 1]!) : -1;
      const lo = hi >= 0 ? hexDigitValue(path[i + 2]!) : -1;
      if (lo < 0) throw new SigV4Error('INVALID_PERCENT_ENCODING', 'path has a % not followed by two hex digits');
      // Keep the escape, with upper-case hex as RFC 3986 recommends.
      sink.byte(0x25);
      sink.byte(upperHexDigit(hi));
      sink.byte(upperHexDigit(lo));
      i += 2;
      run = i + 1;
      continue;
    }
    sink.byte(0x25);
    sink.byte(upperHexDigit(b >> 4));
    sink.byte(upperHexDigit(b & 15));
    run = i + 1;
  }
  if (end > run) sink.bytes(path, run, end);
}
