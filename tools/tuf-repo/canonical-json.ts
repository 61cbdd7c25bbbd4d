// OLPC canonical JSON, as TUF signs it: object keys sorted by code unit, no
// whitespace, strings escape only `"` and `\`, numbers are integers. Used for
// key IDs; @tufjs/models canonicalizes the signed part itself when signing.
import { TufRepoError } from './errors.js';

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TufRepoError('bad-input', `canonical JSON has integers only, not ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${canonicalJson(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TufRepoError('bad-input', `canonical JSON cannot encode a ${typeof value}`);
}
