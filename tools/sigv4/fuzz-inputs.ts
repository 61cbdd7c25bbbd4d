// Seeded malformed signing inputs for test/sigv4-fuzz.test.ts.
//
// Each input starts from a valid generated request (generate.ts) and breaks
// it in one way. Targeted classes name the exact error the signer must give
// (its contract in src/sigv4/errors.ts); the structural and random classes
// only require "a typed SigV4Error or a complete signature". Limits are
// exceeded by a wide margin (twice the limit) so that the expectation does
// not depend on how a limit counts its last byte.
import type { SignerLimits } from '../../src/sigv4/index.js';
import { generateRequest } from './generate.js';
import { toSigningRequest } from './oracle-ours.js';
import type { OracleRequest } from './oracle-request.js';
import { Prng } from './prng.js';

export interface FuzzInput {
  /** The damage class (FUZZ_CLASSES) and the precise kind of damage. */
  cls: string;
  kind: string;
  base: OracleRequest;
  /** The (possibly ill-typed) request handed to sign()/presign(). */
  request: unknown;
  mode: 'header' | 'query';
  /** setCredentials(value, region, service) to call before signing; absent: the base request's (valid) ones. */
  credentials?: { value: unknown; region: unknown; service: unknown };
  /** Required error code, or null when success or any typed error is acceptable. */
  expectCode: string | null;
  /** For LIMIT_EXCEEDED: the limit's name. */
  expectLimit?: string;
}

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud800b', '\udc00\ud800'];
const BAD_NAME_CHARS = [' ', ':', '(', ')', ',', '/', '@', '"', '\t', 'é', '\u0000', '\u007f', '[', '=', '\r', '\n'];
const BAD_VALUE_CONTROLS = ['\r', '\nX', '\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001f', '\r\nX', 'a\rb'];
const BAD_ESCAPES = ['%', '%2', '%zz', '%g0', '%%', '%2%', '%-1', '%+1', 'a%'];
const BAD_TIMES: unknown[] = [Number.NaN, Infinity, -Infinity, -1, 0.5, 1e20, 253402300800000, Number.MAX_SAFE_INTEGER, '0', null, undefined, {}, 1n];
const BAD_REGIONS = ['', 'US-EAST-1', 'us east 1', 'us_east_1', 'ü', 'eu/west', '\ud800'];
const RESERVED_HEADERS = ['Authorization', 'authorization', 'X-Amz-Date', 'x-amz-date'];
const RESERVED_QUERY = ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Algorithm', 'X-Amz-SignedHeaders', 'X-Amz-Date'];

function insertAt(rng: Prng, text: string, piece: string): string {
  const at = rng.below(text.length + 1);
  return text.slice(0, at) + piece + text.slice(at);
}

function randomCodeUnits(rng: Prng, max: number): string {
  const n = rng.below(max + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.chance(0.7) ? rng.below(0x80) : rng.below(0x10000));
  return s;
}

function withQuery(path: string, extra: string): string {
  return path.includes('?') ? `${path}&${extra}` : `${path}?${extra}`;
}

type Builder = (rng: Prng, base: OracleRequest, req: Record<string, unknown>, limits: SignerLimits) => Omit<FuzzInput, 'base' | 'mode' | 'cls'> | null;

const BUILDERS: Array<[string, Builder]> = [
  [
    'bad header name',
    (rng, _b, req) => {
      const headers = (req.headers as Array<[string, string]>).slice();
      const name = rng.chance(0.1) ? '' : insertAt(rng, 'X-Fuzz', rng.pick(BAD_NAME_CHARS));
      headers.splice(rng.below(headers.length + 1), 0, [name, 'v']);
      return { kind: 'bad header name', request: { ...req, headers }, expectCode: 'INVALID_HEADER_NAME' };
    },
  ],
  [
    'CR/LF or control in header value',
    (rng, _b, req) => {
      const headers = (req.headers as Array<[string, string]>).slice();
      headers.splice(rng.below(headers.length + 1), 0, ['X-Fuzz', insertAt(rng, 'value', rng.pick(BAD_VALUE_CONTROLS))]);
      return { kind: 'CR/LF or control in header value', request: { ...req, headers }, expectCode: 'INVALID_HEADER_VALUE' };
    },
  ],
  [
    'lone surrogate',
    (rng, b, req) => {
      const s = rng.pick(LONE_SURROGATES);
      const where = rng.below(3);
      if (where === 0) return { kind: 'lone surrogate in header value', request: { ...req, headers: [...(req.headers as Array<[string, string]>), ['X-Fuzz', s]] }, expectCode: 'INVALID_UTF16' };
      if (where === 1) {
        const q = b.path.indexOf('?');
        const path = q < 0 ? `${b.path}${s}` : `${b.path.slice(0, q)}${s}${b.path.slice(q)}`;
        return { kind: 'lone surrogate in path', request: { ...req, path }, expectCode: 'INVALID_UTF16' };
      }
      return { kind: 'lone surrogate in query', request: { ...req, path: withQuery(b.path, `k=${s}`) }, expectCode: 'INVALID_UTF16' };
    },
  ],
  [
    'malformed percent-escape',
    (rng, b, req) => {
      const bad = rng.pick(BAD_ESCAPES);
      if (rng.chance(0.3)) {
        // Without double encoding the wire path's escapes are kept, so they must be well-formed.
        const q = b.path.indexOf('?');
        const path = q < 0 ? `${b.path}${bad}` : `${b.path.slice(0, q)}${bad}${b.path.slice(q)}`;
        return { kind: 'malformed escape in S3 path', request: { ...req, path, doubleEncodePath: false }, expectCode: 'INVALID_PERCENT_ENCODING' };
      }
      return { kind: 'malformed escape in query', request: { ...req, path: withQuery(b.path, rng.chance(0.5) ? `k=${bad}` : `${bad}=v`) }, expectCode: 'INVALID_PERCENT_ENCODING' };
    },
  ],
  ['bad time', (rng, _b, req) => ({ kind: 'bad time', request: { ...req, timeMs: rng.pick(BAD_TIMES) }, expectCode: 'INVALID_TIME' })],
  [
    'over limit',
    (rng, b, req, limits) => {
      switch (rng.below(7)) {
        case 0: {
          const headers = (req.headers as Array<[string, string]>).slice();
          for (let i = 0; i < 2 * limits.maxHeaders; i++) headers.push([`x-fuzz-${i}`, 'v']);
          return { kind: 'over maxHeaders', request: { ...req, headers }, expectCode: 'LIMIT_EXCEEDED', expectLimit: 'maxHeaders' };
        }
        case 1:
          return {
            kind: 'over maxHeaderValueBytes',
            request: { ...req, headers: [...(req.headers as Array<[string, string]>), ['X-Fuzz', 'v'.repeat(2 * limits.maxHeaderValueBytes)]] },
            expectCode: 'LIMIT_EXCEEDED',
            expectLimit: 'maxHeaderValueBytes',
          };
        case 2:
          return {
            kind: 'over maxHeaderNameBytes',
            request: { ...req, headers: [...(req.headers as Array<[string, string]>), ['x'.repeat(2 * limits.maxHeaderNameBytes), 'v']] },
            expectCode: 'LIMIT_EXCEEDED',
            expectLimit: 'maxHeaderNameBytes',
          };
        case 3: {
          const q = b.path.indexOf('?');
          const tail = q < 0 ? '' : b.path.slice(q);
          return { kind: 'over maxPathBytes', request: { ...req, path: `/${'p'.repeat(2 * limits.maxPathBytes)}${tail}` }, expectCode: 'LIMIT_EXCEEDED', expectLimit: 'maxPathBytes' };
        }
        case 4:
          return { kind: 'over maxQueryBytes', request: { ...req, path: withQuery(b.path, `k=${'q'.repeat(2 * limits.maxQueryBytes)}`) }, expectCode: 'LIMIT_EXCEEDED', expectLimit: 'maxQueryBytes' };
        case 5: {
          const pairs: string[] = [];
          for (let i = 0; i < 2 * limits.maxQueryPairs; i++) pairs.push(`k${i}=v`);
          return { kind: 'over maxQueryPairs', request: { ...req, path: withQuery(b.path.split('?')[0]!, pairs.join('&')) }, expectCode: 'LIMIT_EXCEEDED', expectLimit: 'maxQueryPairs' };
        }
        default:
          return {
            kind: 'over maxTokenBytes',
            request: req,
            credentials: { value: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey, sessionToken: 't'.repeat(2 * limits.maxTokenBytes) }, region: b.region, service: b.service },
            expectCode: 'LIMIT_EXCEEDED',
            expectLimit: 'maxTokenBytes',
          };
      }
    },
  ],
  [
    'reserved name',
    (rng, b, req) => {
      if (b.mode === 'header' || rng.chance(0.3)) {
        // In query mode only Authorization is the signer's (X-Amz-Date is an ordinary header there).
        const name = b.mode === 'header' ? rng.pick(RESERVED_HEADERS) : rng.pick(['Authorization', 'authorization']);
        return { kind: 'reserved header', request: { ...req, headers: [...(req.headers as Array<[string, string]>), [name, rng.pick(['', 'x', '20150830T123600Z'])]] }, expectCode: 'RESERVED_NAME' };
      }
      return { kind: 'reserved query key', request: { ...req, path: withQuery(b.path, `${rng.pick(RESERVED_QUERY)}=x`) }, expectCode: 'RESERVED_NAME' };
    },
  ],
  [
    'bad credentials',
    (rng, b, req) => {
      const good = { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey };
      const bad = rng.pick<unknown>([
        { ...good, accessKeyId: '' },
        { ...good, accessKeyId: 'AKID/EXAMPLE' },
        { ...good, accessKeyId: 'A'.repeat(200) },
        { ...good, sessionToken: 'tok\nen' },
        { ...good, sessionToken: `tok${rng.pick(LONE_SURROGATES)}` },
        { ...good, sessionToken: 42 },
        { accessKeyId: b.accessKeyId },
        null,
        'AKIDEXAMPLE',
      ]);
      return { kind: 'bad credentials', request: req, credentials: { value: bad, region: b.region, service: b.service }, expectCode: null };
    },
  ],
  [
    'bad region',
    (rng, b, req) => {
      const good = { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey };
      return rng.chance(0.5)
        ? { kind: 'bad region', request: req, credentials: { value: good, region: rng.pick(BAD_REGIONS), service: b.service }, expectCode: 'INVALID_CREDENTIALS' }
        : { kind: 'bad service', request: req, credentials: { value: good, region: b.region, service: rng.pick(BAD_REGIONS) }, expectCode: 'INVALID_CREDENTIALS' };
    },
  ],
  [
    'structural',
    (rng, _b, req) => {
      const damage = rng.pick<Record<string, unknown>>([
        { headers: null },
        { headers: 'Host: x' },
        { headers: [['Host']] },
        { headers: [['Host', 'x', 'y']] },
        { headers: [[1, 2]] },
        { headers: [['Host', null]] },
        { headers: [] },
        { method: '' },
        { method: 'G E T' },
        { method: 'GET\n' },
        { method: 42 },
        { method: 'X'.repeat(100) },
        { path: 'no-slash' },
        { path: '/a#fragment' },
        { path: 42 },
        { path: null },
        { body: 'a string' },
        { body: [1, 2, 3] },
        { payloadHash: 'not-a-hash' },
        { payloadHash: 'ABCDEF'.repeat(10) + 'ABCD' },
        { payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85' },
        { payloadHash: 42 },
        { body: new Uint8Array(1), payloadHash: 'UNSIGNED-PAYLOAD' },
        { expiresSeconds: -1 },
        { expiresSeconds: 604801 },
        { expiresSeconds: 1.5 },
        { expiresSeconds: Number.NaN },
        { expiresSeconds: '60' },
      ]);
      return { kind: 'structural', request: { ...req, ...damage }, expectCode: null };
    },
  ],
  [
    'random field',
    (rng, b, req) => {
      const text = randomCodeUnits(rng, 40);
      const which = rng.below(5);
      if (which === 0) return { kind: 'random method', request: { ...req, method: text }, expectCode: null };
      if (which === 1) return { kind: 'random path', request: { ...req, path: `/${text}` }, expectCode: null };
      if (which === 2) return { kind: 'random query', request: { ...req, path: withQuery(b.path, text) }, expectCode: null };
      const headers = (req.headers as Array<[string, string]>).slice();
      headers.push(which === 3 ? [text, 'v'] : ['X-Fuzz', text]);
      return { kind: which === 3 ? 'random header name' : 'random header value', request: { ...req, headers }, expectCode: null };
    },
  ],
  [
    'random bytes as text',
    (rng, b, req) => {
      // Raw bytes read as latin1, as a careless caller might pass them.
      const bytes = rng.bytes(rng.below(64));
      const text = String.fromCharCode(...bytes);
      return rng.chance(0.5)
        ? { kind: 'random bytes in header value', request: { ...req, headers: [...(req.headers as Array<[string, string]>), ['X-Fuzz', text]] }, expectCode: null }
        : { kind: 'random bytes in path', request: { ...req, path: `/${text.replace(/[?#]/g, '')}${b.path.includes('?') ? b.path.slice(b.path.indexOf('?')) : ''}` }, expectCode: null };
    },
  ],
];

/** One malformed input; the PRNG state decides everything. */
export function fuzzInput(rng: Prng, limits: SignerLimits): FuzzInput {
  for (;;) {
    const base = generateRequest(rng);
    const req = toSigningRequest(base) as unknown as Record<string, unknown>;
    const [cls, build] = BUILDERS[rng.below(BUILDERS.length)]!;
    const made = build(rng, base, req, limits);
    if (made !== null) return { ...made, cls, base, mode: base.mode };
  }
}

/** The damage classes, for coverage checks. */
export const FUZZ_CLASSES: readonly string[] = BUILDERS.map(([name]) => name);
