// Limits and invalid input: every limit exceeded and every class of bad
// input is a SigV4Error with the right code (and limit name), and nothing is
// output: the output buffer stays untouched and the result reads 'none'.
import type { Check, PortableCase, PortableSuite } from '../harness/portable.js';
import { Signer, SigV4Error, type SigningRequest, type SignerLimits } from '../../src/sigv4/index.js';

const T0 = 1440938160000; // 2015-08-30T12:36:00Z
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const TOKEN = 'AQoDYXdzEPT//////////wEXAMPLEtoken';

function base(overrides: Partial<SigningRequest> = {}): SigningRequest {
  return { method: 'GET', path: '/', headers: [['Host', 'example.amazonaws.com']], timeMs: T0, ...overrides };
}

function make(limits: Partial<SignerLimits> = {}, extra: { token?: string; debug?: boolean } = {}): Signer {
  return new Signer({
    credentials: { ...CREDS, sessionToken: extra.token },
    region: 'us-east-1',
    service: 'service',
    limits,
    debug: extra.debug,
  });
}

function isError(code: string, limit?: string): (e: unknown) => boolean {
  return (e) => e instanceof SigV4Error && e.code === code && (limit === undefined || e.limit === limit);
}

/** Runs `call` on a signer whose output holds a previous good signature; checks the failure leaves nothing. */
function refuses(t: Check, signer: Signer, call: (s: Signer) => unknown, code: string, limit?: string, what = code): void {
  signer.sign(base());
  t.equal(signer.output.mode, 'header', `${what}: a good signing first`);
  const fresh = new Uint8Array(signer.output.bytes.length);
  signer.output.bytes.fill(0);
  t.throws(() => call(signer), isError(code, limit), what);
  t.equal(signer.output.mode, 'none', `${what}: no result after the error`);
  t.equal(signer.output.signature(), '', `${what}: no signature`);
  t.deepEqual(signer.output.headers(), [], `${what}: no headers`);
  t.deepEqual(signer.output.bytes, fresh, `${what}: output buffer untouched`);
  t.throws(() => signer.chunks!.begin(), isError('INVALID_STATE'), `${what}: no seed for a chunked upload`);
}

const suite: PortableSuite = () => {
  const cases: PortableCase[] = [];
  const limitCase = (name: string, limits: Partial<SignerLimits>, request: SigningRequest, limit: string, okRequest: SigningRequest | null, presign = false) =>
    cases.push({
      name: `limit ${limit}: ${name}`,
      run(t) {
        const s = make(limits);
        if (okRequest !== null) {
          const out = presign ? s.presign(okRequest) : s.sign(okRequest);
          t.ok(out.signature().length === 64, 'a request exactly at the limit is signed');
        }
        refuses(t, s, (x) => (presign ? x.presign(request) : x.sign(request)), 'LIMIT_EXCEEDED', limit, limit);
      },
    });

  const host: [string, string] = ['Host', 'example.amazonaws.com'];
  limitCase('one header too many', { maxHeaders: 2 }, base({ headers: [host, ['a', '1'], ['b', '2']] }), 'maxHeaders', base({ headers: [host, ['a', '1']] }));
  limitCase('names too long (host counts)', { maxHeaderNameBytes: 8 }, base({ headers: [host, ['abcde', '1']] }), 'maxHeaderNameBytes', base({ headers: [host, ['abcd', '1']] }));
  // 'example.amazonaws.com' is 21 bytes of the 24.
  limitCase('values too long', { maxHeaderValueBytes: 24 }, base({ headers: [host, ['a', '1234']] }), 'maxHeaderValueBytes', base({ headers: [host, ['a', '123']] }));
  limitCase('trimmed value counts, not raw', { maxHeaderValueBytes: 24 }, base({ headers: [host, ['a', '€€']] }), 'maxHeaderValueBytes', base({ headers: [host, ['a', '   1  2   ']] }));
  limitCase('too many query pairs', { maxQueryPairs: 2 }, base({ path: '/?a=1&b=2&c=3' }), 'maxQueryPairs', base({ path: '/?a=1&&b=2&' }));
  limitCase('wire query too long', { maxQueryBytes: 8 }, base({ path: '/?a=1234567' }), 'maxQueryBytes', base({ path: '/?a=123456' }));
  // Canonical bytes are keys and values without separators: a + 12 bytes for 'éé' (6 raw bytes on the wire).
  limitCase('canonical query too long', { maxQueryBytes: 8 }, base({ path: '/?a=éé' }), 'maxQueryBytes', base({ path: '/?a=%20%20' }));
  limitCase('path too long', { maxPathBytes: 4 }, base({ path: '/abcd' }), 'maxPathBytes', base({ path: '/abc?x=1' }));
  limitCase('path counted in UTF-8 bytes', { maxPathBytes: 4 }, base({ path: '/éé' }), 'maxPathBytes', base({ path: '/é' }));
  cases.push({
    name: 'limit maxOutputBytes: exactly enough is fine, one byte less is refused (header and query)',
    run(t) {
      const probe = make();
      const headerBytes = probe.sign(base()).authorizationEnd;
      const queryBytes = probe.presign(base()).pathEnd;
      t.equal(headerBytes, 16 + 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature='.length + 64, 'X-Amz-Date then Authorization');
      const exactHeader = make({ maxOutputBytes: headerBytes });
      t.equal(exactHeader.sign(base()).signature().length, 64, 'header signing fits exactly');
      const small = make({ maxOutputBytes: headerBytes - 1 });
      t.throws(() => small.sign(base()), isError('LIMIT_EXCEEDED', 'maxOutputBytes'), 'one byte short');
      t.equal(small.output.mode, 'none', 'no result');
      t.deepEqual(small.output.bytes, new Uint8Array(headerBytes - 1), 'nothing written');
      const exactQuery = make({ maxOutputBytes: Math.max(queryBytes, headerBytes) });
      t.equal(exactQuery.presign(base()).pathEnd, queryBytes, 'presign fits');
      const s = make({ maxOutputBytes: queryBytes });
      t.equal(s.presign(base()).signature().length, 64, 'presign fits exactly');
      t.throws(() => s.presign(base({ path: '/a' })), isError('LIMIT_EXCEEDED', 'maxOutputBytes'), 'one byte more');
      t.equal(s.output.mode, 'none');
    },
  });

  cases.push({
    name: 'limit maxTokenBytes: an oversized token is refused and the old credentials stay',
    run(t) {
      const s = make({ maxTokenBytes: 16 });
      const before = s.sign(base()).signature();
      t.throws(() => s.setCredentials({ ...CREDS, accessKeyId: 'AKIDOTHER', sessionToken: 'x'.repeat(17) }), isError('LIMIT_EXCEEDED', 'maxTokenBytes'));
      t.equal(s.sign(base()).signature(), before, 'same signature as before: nothing changed');
      s.setCredentials({ ...CREDS, sessionToken: 'x'.repeat(16) });
      t.ok(s.sign(base()).headers().some(([n]) => n === 'X-Amz-Security-Token'), 'a token at the limit is used');
    },
  });

  cases.push({
    name: 'limit maxDebugBytes: debug capture is bounded too',
    run(t) {
      const s = make({ maxDebugBytes: 64 }, { debug: true });
      t.throws(() => s.sign(base()), isError('LIMIT_EXCEEDED', 'maxDebugBytes'));
      t.equal(s.output.mode, 'none');
    },
  });

  cases.push({
    name: 'limits themselves are validated',
    run(t) {
      t.throws(() => make({ maxHeaders: -1 }), isError('INVALID_REQUEST'));
      t.throws(() => make({ maxPathBytes: 1.5 }), isError('INVALID_REQUEST'));
      t.throws(() => make({ maxOutputBytes: 1 << 30 }), isError('INVALID_REQUEST'));
    },
  });

  const invalid = (name: string, code: string, request: SigningRequest, opts: { token?: string; presign?: boolean } = {}) =>
    cases.push({
      name: `invalid: ${name} -> ${code}`,
      run(t) {
        const s = make({}, { token: opts.token });
        refuses(t, s, (x) => (opts.presign ? x.presign(request) : x.sign(request)), code, undefined, name);
      },
    });

  invalid('header name with a space', 'INVALID_HEADER_NAME', base({ headers: [host, ['bad name', '1']] }));
  invalid('header name with a colon', 'INVALID_HEADER_NAME', base({ headers: [host, ['x:y', '1']] }));
  invalid('non-ASCII header name', 'INVALID_HEADER_NAME', base({ headers: [host, ['né', '1']] }));
  invalid('empty header name', 'INVALID_HEADER_NAME', base({ headers: [host, ['', '1']] }));
  invalid('CRLF header injection', 'INVALID_HEADER_VALUE', base({ headers: [host, ['a', 'x\r\nX-Evil: 1']] }));
  invalid('bare LF in a value', 'INVALID_HEADER_VALUE', base({ headers: [host, ['a', 'x\ny']] }));
  invalid('bare CR in a value', 'INVALID_HEADER_VALUE', base({ headers: [host, ['a', 'x\ry']] }));
  invalid('trailing CRLF in a value', 'INVALID_HEADER_VALUE', base({ headers: [host, ['a', 'x\r\n']] }));
  invalid('NUL in a value', 'INVALID_HEADER_VALUE', base({ headers: [host, ['a', 'x\u0000y']] }));
  invalid('lone high surrogate in a value', 'INVALID_UTF16', base({ headers: [host, ['a', 'x\ud800']] }));
  invalid('lone low surrogate in the path', 'INVALID_UTF16', base({ path: '/\udc00' }));
  invalid('lone surrogate in the query', 'INVALID_UTF16', base({ path: '/?a=\ud83d' }));
  invalid('% without digits in the query', 'INVALID_PERCENT_ENCODING', base({ path: '/?a=%' }));
  invalid('% with one digit in the query', 'INVALID_PERCENT_ENCODING', base({ path: '/?a=%4' }));
  invalid('% with non-hex in a query key', 'INVALID_PERCENT_ENCODING', base({ path: '/?%zz=1' }));
  invalid('% with non-hex in an S3 path', 'INVALID_PERCENT_ENCODING', base({ path: '/a%g0', doubleEncodePath: false }));
  invalid('NaN time', 'INVALID_TIME', base({ timeMs: NaN }));
  invalid('negative time', 'INVALID_TIME', base({ timeMs: -1 }));
  invalid('fractional time', 'INVALID_TIME', base({ timeMs: T0 + 0.5 }));
  invalid('time after 9999', 'INVALID_TIME', base({ timeMs: 253402300800000 }));
  invalid('time as a string', 'INVALID_TIME', base({ timeMs: '2015' as unknown as number }));
  invalid('method with a space', 'INVALID_REQUEST', base({ method: 'GE T' }));
  invalid('path not starting with /', 'INVALID_REQUEST', base({ path: 'example' }));
  invalid('path with a fragment', 'INVALID_REQUEST', base({ path: '/a#b' }));
  invalid('no host header', 'INVALID_REQUEST', base({ headers: [['a', '1']] }));
  invalid('header not a pair', 'INVALID_REQUEST', base({ headers: [host, ['a'] as unknown as [string, string]] }));
  invalid('body and payloadHash together', 'INVALID_REQUEST', base({ body: new Uint8Array(1), payloadHash: 'UNSIGNED-PAYLOAD' }));
  invalid('upper-case payload hash', 'INVALID_REQUEST', base({ payloadHash: 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' }));
  invalid('unknown payload literal', 'INVALID_REQUEST', base({ payloadHash: 'UNSIGNED' }));
  invalid('expiry above 7 days', 'INVALID_REQUEST', base({ expiresSeconds: 604801 }), { presign: true });
  invalid('fractional expiry', 'INVALID_REQUEST', base({ expiresSeconds: 1.5 }), { presign: true });
  invalid('caller Authorization header', 'RESERVED_NAME', base({ headers: [host, ['Authorization', 'x']] }));
  invalid('caller X-Amz-Date header', 'RESERVED_NAME', base({ headers: [host, ['X-Amz-Date', '20150830T123600Z']] }));
  invalid('caller token header while the signer has a token', 'RESERVED_NAME', base({ headers: [host, ['X-Amz-Security-Token', 'x']] }), { token: TOKEN });
  invalid('caller x-amz-content-sha256 with signBody', 'RESERVED_NAME', base({ signBody: true, headers: [host, ['x-amz-content-sha256', 'UNSIGNED-PAYLOAD']] }));
  invalid('caller X-Amz-Signature in a presign', 'RESERVED_NAME', base({ path: '/?X-Amz-Signature=abc' }), { presign: true });
  invalid('caller X-Amz-Credential in a presign', 'RESERVED_NAME', base({ path: '/?X-Amz-Credential=abc' }), { presign: true });

  cases.push({
    name: 'invalid credentials are refused and change nothing',
    run(t) {
      const s = make();
      const before = s.sign(base()).signature();
      t.equal(before, '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31', 'aws-c-auth get-vanilla');
      // Move the key cache to another day, so the final signing must derive again from the kept secret.
      s.sign(base({ timeMs: T0 + 86400000 }));
      t.throws(() => s.setCredentials({ accessKeyId: '', secretAccessKey: 'x' }), isError('INVALID_CREDENTIALS'), 'empty key id');
      t.throws(() => s.setCredentials({ accessKeyId: 'AKID/X', secretAccessKey: 'x' }), isError('INVALID_CREDENTIALS'), 'slash in key id');
      t.throws(() => s.setCredentials(CREDS, 'US-EAST-1'), isError('INVALID_CREDENTIALS'), 'upper-case region');
      t.throws(() => s.setCredentials(CREDS, 'us-east-1', 'my service'), isError('INVALID_CREDENTIALS'), 'space in service');
      t.throws(() => s.setCredentials({ ...CREDS, sessionToken: 'a\nb' }), isError('INVALID_CREDENTIALS'), 'LF in token');
      t.throws(() => s.setCredentials({ ...CREDS, sessionToken: 'a b' }), isError('INVALID_CREDENTIALS'), 'space in token');
      t.throws(() => s.setCredentials({ ...CREDS, sessionToken: 'a\ud800' }), isError('INVALID_UTF16'), 'lone surrogate in token');
      t.throws(() => s.setCredentials({ ...CREDS, accessKeyId: 'A'.repeat(129) }), isError('LIMIT_EXCEEDED', 'MAX_ACCESS_KEY_ID_BYTES'), 'long key id');
      t.throws(() => s.setCredentials({ ...CREDS, secretAccessKey: 'k'.repeat(129) }), isError('LIMIT_EXCEEDED', 'MAX_SECRET_KEY_BYTES'), 'long secret');
      t.throws(
        () => s.setCredentials({ accessKeyId: 'AKID', signingKey: new Uint8Array(31), date: '20150830', region: 'us-east-1', service: 'service' }),
        isError('INVALID_CREDENTIALS'),
        'short derived key',
      );
      t.throws(() => s.setCredentials({ ...CREDS, secretAccessKey: 'x\ud800' }), isError('INVALID_CREDENTIALS'), 'lone surrogate in secret');
      t.equal(s.sign(base()).signature(), before, 'still signs exactly as before (secret intact)');
    },
  });

  cases.push({
    name: 'error messages carry no secrets, tokens or header values',
    run(t) {
      const secretValue = 'SECRET-VALUE-123';
      const s = make({}, { token: TOKEN });
      const messages: string[] = [];
      const attempts: Array<() => unknown> = [
        () => s.sign(base({ headers: [host, ['a', `${secretValue}\r\nx: y`]] })),
        () => s.sign(base({ path: `/?k=${secretValue}%zz` })),
        () => s.setCredentials({ accessKeyId: 'AKID', secretAccessKey: `${secretValue}${'k'.repeat(200)}` }),
        () => s.setCredentials({ accessKeyId: 'AKID', secretAccessKey: 'x', sessionToken: `${secretValue}\n` }),
      ];
      for (const attempt of attempts) {
        try {
          attempt();
        } catch (e) {
          messages.push(String((e as Error).message));
        }
      }
      t.equal(messages.length, attempts.length, 'every attempt failed');
      for (const m of messages) {
        t.ok(m.indexOf(secretValue) < 0, `message leaks nothing: ${m}`);
        t.ok(m.indexOf('wJalrXUtnFEMI') < 0 && m.indexOf(TOKEN) < 0, 'no credential in message');
      }
    },
  });

  cases.push({
    name: 'a signer built without credentials refuses to sign until it gets them',
    run(t) {
      t.throws(() => new Signer({ region: 'us-east-1' }), isError('INVALID_CREDENTIALS'), 'service is then mandatory');
      const s = new Signer({ region: 'us-east-1', service: 'service' });
      t.throws(() => s.sign(base()), isError('INVALID_STATE'));
      t.equal(s.output.mode, 'none');
      s.setCredentials(CREDS);
      t.equal(s.sign(base()).signature(), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31', 'get-vanilla signature');
    },
  });

  cases.push({
    name: 'a wiped signer refuses to sign',
    run(t) {
      const s = make({}, { token: TOKEN });
      s.sign(base());
      s.wipe();
      t.throws(() => s.sign(base()), isError('INVALID_STATE'));
      s.setCredentials(CREDS);
      t.equal(s.sign(base()).signature(), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31', 'get-vanilla signature after new credentials');
    },
  });

  cases.push({
    name: 'chunk signing out of order is INVALID_STATE',
    run(t) {
      const s = make();
      s.sign(base());
      t.throws(() => s.chunks!.begin(), isError('INVALID_STATE'), 'seed was not a streaming signing');
      s.sign(base({ payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' }));
      t.throws(() => s.chunks!.updateChunk(new Uint8Array(1), 0, 1), isError('INVALID_STATE'), 'update before begin');
      s.chunks!.begin();
      t.throws(() => s.chunks!.signTrailer([]), isError('INVALID_STATE'), 'trailer before the final chunk');
      s.chunks!.signChunk(new Uint8Array(0));
      t.throws(() => s.chunks!.signTrailer([]), isError('INVALID_STATE'), 'no trailer for a non-trailer upload');
      t.throws(() => s.chunks!.resume('XYZ', 'chunk'), isError('INVALID_REQUEST'), 'bad previous signature');
    },
  });

  return cases;
};

export default suite;
