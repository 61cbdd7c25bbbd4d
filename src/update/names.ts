// Role names and target paths are repository data: they become URL path
// segments and file names only percent-encoded (as Python's
// urllib.parse.quote(name, safe="") does), so "../x" or "?" stay one segment.
import { encodeUtf8Into } from '../shared/utf8.js';
import { TufError } from './errors.js';

const HEX = '0123456789ABCDEF';

function unreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

/** Percent-encodes every byte of the UTF-8 form except A-Z a-z 0-9 - . _ ~ (and `/` when `keepSlash`). */
export function quote(text: string, keepSlash = false): string {
  const buf = new Uint8Array(4);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      out += unreserved(c) || (keepSlash && c === 0x2f) ? text[i] : '%' + HEX[c >> 4] + HEX[c & 15];
      continue;
    }
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    const n = encodeUtf8Into(text, i, i + pair, buf, 0, 4);
    if (n < 0) throw new TufError('malformed', 'name with a lone surrogate');
    for (let j = 0; j < n; j++) out += '%' + HEX[buf[j]! >> 4] + HEX[buf[j]! & 15];
    i += pair - 1;
  }
  return out;
}

/** fnmatch-style match of one path segment: `*`, `?`, `[seq]`, `[!seq]`; anything else literal. */
function matchSegment(p: string, s: string, pi: number, si: number, budget: { steps: number }): boolean {
  while (pi < p.length) {
    if (--budget.steps < 0) return false;
    const c = p[pi]!;
    if (c === '*') {
      while (p[pi] === '*') pi++;
      if (pi === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchSegment(p, s, pi, k, budget)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      let j = pi + 1;
      const negate = p[j] === '!';
      if (negate) j++;
      const start = j;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j++;
      if (j < p.length) {
        const set = p.slice(start, j);
        let hit = false;
        for (let k = 0; k < set.length; k++) {
          if (k + 2 < set.length && set[k + 1] === '-') {
            if (s[si]! >= set[k]! && s[si]! <= set[k + 2]!) hit = true;
            k += 2;
          } else if (set[k] === s[si]) hit = true;
        }
        if (hit === negate) return false;
        pi = j + 1;
        si++;
        continue;
      }
      // An unclosed `[` is a literal.
    }
    if (c !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

/** Bound on matching work per pattern: stops a pattern like `*a*a*a*...b` from costing exponential time. */
export const MAX_PATTERN_STEPS = 100_000;

/** The spec's path pattern match: same number of `/`-separated segments, each fnmatch-matched. */
export function pathMatches(pattern: string, path: string): boolean {
  const ps = pattern.split('/');
  const ts = path.split('/');
  if (ps.length !== ts.length) return false;
  const budget = { steps: MAX_PATTERN_STEPS };
  for (let i = 0; i < ps.length; i++) if (!matchSegment(ps[i]!, ts[i]!, 0, 0, budget)) return false;
  return true;
}
