// Unit cases for the SigV4 core. Expected values come from first principles
// (hand-written canonical forms following the AWS rules and the vectors
// README), published test vectors (FIPS 180-2, RFC 4231, the AWS
// "derive a signing key" example) or the shared vector files, never from our
// own output.
import type { PortableCase, PortableSuite } from '../harness/portable.js';
import type { Sha256 } from '../../src/ports.js';
import {
  Signer,
  SigV4Error,
  HmacSha256,
  nobleSha256,
  sha256Hex,
  hex,
  utf8Bytes,
  decodeUtf8,
  encodeUtf8Into,
  UTF8_LONE_SURROGATE,
  UTF8_OVERFLOW,
  writeAmzDate,
  decodeAscii,
  deriveSigningKey,
  presignMqttUrl,
  signIotPublish,
  type SigningRequest,
} from '../../src/sigv4/index.js';

const T0 = 1440938160000; // 2015-08-30T12:36:00Z, the aws4 test suite's time
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** aws-c-auth-v4/get-vanilla/header-signature.txt */
const GET_VANILLA_SIGNATURE = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
const HOST = 'example.amazonaws.com';

function debugSigner(service = 'service', token?: string): Signer {
  return new Signer({ credentials: { ...CREDS, sessionToken: token }, region: 'us-east-1', service, debug: true });
}

function request(overrides: Partial<SigningRequest>): SigningRequest {
  return { method: 'GET', path: '/', headers: [['Host', HOST]], timeMs: T0, ...overrides };
}

/** A backend without the optional saveState/restoreState (like Moddable's crypt Digest): HMAC must rehash its pads. */
function statelessSha256(): Sha256 {
  const inner = nobleSha256();
  return {
    reset: () => inner.reset(),
    update: (bytes, start, end) => inner.update(bytes, start, end),
    finish: (out, offset) => inner.finish(out, offset),
  };
}

function bytesOf(text: string): number[] {
  return Array.from(utf8Bytes(text));
}

const suite: PortableSuite = () => {
  const cases: PortableCase[] = [];
  const add = (name: string, run: PortableCase['run']) => cases.push({ name, run });

  add('SHA-256 (FIPS 180-2) through the noble port, reset reuses one instance', (t) => {
    const sha = nobleSha256();
    t.equal(sha256Hex(sha, ''), EMPTY);
    t.equal(sha256Hex(sha, 'abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    t.equal(
      sha256Hex(sha, 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    const digest = new Uint8Array(40);
    const abc = utf8Bytes('xabcx');
    sha.reset();
    sha.update(abc, 1, 2);
    sha.update(abc, 2, 4);
    sha.finish(digest, 8);
    t.equal(hex(digest.subarray(8, 40)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'ranges and output offset');
  });

  add('HMAC-SHA256 (RFC 4231 cases 1, 2 and 6)', (t) => {
    const hmac = new HmacSha256(nobleSha256());
    const out = new Uint8Array(32);
    const mac = (key: Uint8Array, msg: string) => {
      const m = utf8Bytes(msg);
      hmac.setKey(key, 0, key.length);
      hmac.mac(m, 0, m.length, out, 0);
      return hex(out);
    };
    t.equal(mac(new Uint8Array(20).fill(0x0b), 'Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    t.equal(mac(utf8Bytes('Jefe'), 'what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    t.equal(
      mac(new Uint8Array(131).fill(0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First'),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      'key longer than a block is hashed first',
    );
  });

  add('SHA-256 saveState/restoreState: block-aligned states move between instances (expected: Python hashlib)', (t) => {
    const a = nobleSha256();
    const b = nobleSha256();
    t.ok(a.saveState !== undefined && a.restoreState !== undefined, 'the noble port implements the optional methods');
    const state = new Int32Array(10);
    const msg = utf8Bytes(`${'a'.repeat(128)}xyz`);
    a.reset();
    a.update(msg, 0, 3);
    t.equal(a.saveState!(state), false, 'not on a block boundary: refused');
    t.deepEqual(Array.from(state), new Array(10).fill(0), 'and nothing written');
    a.update(msg, 3, 128);
    t.equal(a.saveState!(state), true, 'two whole blocks');
    t.equal(state[8], 128, 'absorbed length, low word');
    t.equal(state[9], 0, 'absorbed length, high word');
    b.reset();
    b.update(msg, 0, 5); // garbage that restoreState must discard
    b.restoreState!(state);
    b.update(msg, 128, msg.length);
    const out = new Uint8Array(32);
    b.finish(out, 0);
    // hashlib.sha256(b'a' * 128 + b'xyz').hexdigest()
    t.equal(hex(out), '0c04ea9b4b6ced4ebaa9859432941bab2ccced3c325953a42089dcee5a225af8');
    b.restoreState!(state);
    b.restoreState!(state);
    b.update(msg, 128, msg.length);
    b.finish(out, 0);
    t.equal(hex(out), '0c04ea9b4b6ced4ebaa9859432941bab2ccced3c325953a42089dcee5a225af8', 'a state restores any number of times');
    a.reset();
    a.update(msg, 0, 64);
    a.saveState!(state);
    a.restoreState!(state);
    const abc = utf8Bytes('abc');
    a.update(abc, 0, 3);
    a.finish(out, 0);
    // hashlib.sha256(b'a' * 64 + b'abc').hexdigest()
    t.equal(hex(out), '18917c887594f95a0a81701c589533ff21c74b1fb567e4521272f37815a64275');
  });

  add('HMAC-SHA256 without saveState (rehashed pads) and with cached keyed states agree with RFC 4231, across re-keying', (t) => {
    const out = new Uint8Array(32);
    const case1 = ['Hi There', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'] as const;
    const case2 = ['what do ya want for nothing?', '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'] as const;
    for (const [label, hmac] of [['stateless backend', new HmacSha256(statelessSha256())], ['noble backend', new HmacSha256(nobleSha256())]] as const) {
      const key1 = new Uint8Array(20).fill(0x0b);
      const jefe = utf8Bytes('Jefe');
      for (let round = 0; round < 2; round++) {
        hmac.setKey(key1, 0, key1.length);
        const m1 = utf8Bytes(case1[0]);
        hmac.mac(m1, 0, m1.length, out, 0);
        t.equal(hex(out), case1[1], `${label}: case 1, round ${round}`);
        hmac.mac(m1, 0, m1.length, out, 0);
        t.equal(hex(out), case1[1], `${label}: case 1 again with the same key`);
        hmac.setKey(jefe, 0, jefe.length);
        const m2 = utf8Bytes(case2[0]);
        hmac.mac(m2, 0, m2.length, out, 0);
        t.equal(hex(out), case2[1], `${label}: case 2 after re-keying`);
      }
      hmac.wipe();
      hmac.setKey(jefe, 0, jefe.length);
      const m2 = utf8Bytes(case2[0]);
      hmac.mac(m2, 0, m2.length, out, 0);
      t.equal(hex(out), case2[1], `${label}: usable again after wipe() and setKey()`);
    }
  });

  add('signer on a backend without saveState, and HMAC re-keying across credentials and dates, reproduce get-vanilla', (t) => {
    const s = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service', sha256: statelessSha256 });
    t.equal(s.sign(request({})).signature(), GET_VANILLA_SIGNATURE, 'stateless backend');
    const n = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service' });
    t.equal(n.sign(request({})).signature(), GET_VANILLA_SIGNATURE);
    t.equal(n.sign(request({})).signature(), GET_VANILLA_SIGNATURE, 'cached keyed HMAC, second signing');
    n.setCredentials({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'another-secret' });
    t.ok(n.sign(request({})).signature() !== GET_VANILLA_SIGNATURE, 'another secret, another signature');
    n.setCredentials(CREDS);
    t.equal(n.sign(request({})).signature(), GET_VANILLA_SIGNATURE, 'back to the vector secret');
    n.wipe();
    n.setCredentials(CREDS);
    t.equal(n.sign(request({})).signature(), GET_VANILLA_SIGNATURE, 'after wipe()');
    const key = deriveSigningKey(CREDS.secretAccessKey, '20150830', 'us-east-1', 'service');
    n.setCredentials({ accessKeyId: 'AKIDEXAMPLE', signingKey: key, date: '20150830', region: 'us-east-1', service: 'service' });
    t.equal(n.sign(request({})).signature(), GET_VANILLA_SIGNATURE, 'derived key replacing a secret');
  });

  add('header output: the token is the caller\'s string (never copied), not counted in maxOutputBytes', (t) => {
    // Built at run time so that identity, not just equality, shows it was not copied.
    const token = ['tok+en', '/=ABC'].join('');
    // X-Amz-Date (16) + Authorization with SignedHeaders host;x-amz-date;x-amz-security-token: first principles.
    const authorization = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature='.length + 64;
    const s = new Signer({ credentials: { ...CREDS, sessionToken: token }, region: 'us-east-1', service: 'service', limits: { maxOutputBytes: 16 + authorization } });
    const out = s.sign(request({}));
    t.equal(out.authorizationEnd, 16 + authorization, 'the output buffer holds date and Authorization only');
    t.ok(out.token === token, 'out.token is the credentials\' string');
    t.equal(out.headers()[0]![0], 'X-Amz-Security-Token');
    t.equal(out.headers()[0]![1], token);
    const omitted = s.sign(request({ omitSessionToken: true }));
    t.equal(omitted.token, token, 'also when omitted from signing');
    s.wipe();
    t.equal(s.output.mode, 'none', 'wipe() clears the output that pointed at the token');
    t.equal(s.output.token, null);
  });

  add('chunkedUploads: false builds no chunk signer; signing is unchanged', (t) => {
    const plain = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service', chunkedUploads: false });
    t.equal(plain.chunks, null);
    t.equal(plain.sign(request({})).signature(), GET_VANILLA_SIGNATURE);
    const full = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service' });
    t.ok(full.chunks !== null, 'default: chunk signer present');
    // The seed is a view of the signer's buffers: a streaming signing then wipe() leaves nothing to chain on.
    full.sign(request({ payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' }));
    full.chunks!.begin();
    full.wipe();
    t.throws(() => full.chunks!.beginChunk(), (e) => e instanceof SigV4Error && e.code === 'INVALID_STATE', 'wipe() ends the upload in progress');
    t.throws(() => full.chunks!.begin(), (e) => e instanceof SigV4Error && e.code === 'INVALID_STATE', 'and leaves no seed');
  });

  add('UTF-8 encoder: 1-4 byte sequences, overflow and lone surrogates', (t) => {
    t.deepEqual(bytesOf('aé€😀'), [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
    const out = new Uint8Array(3);
    t.equal(encodeUtf8Into('€', 0, 1, out, 0, 3), 3);
    t.equal(encodeUtf8Into('€', 0, 1, out, 0, 2), UTF8_OVERFLOW);
    t.equal(encodeUtf8Into('a\ud800b', 0, 3, new Uint8Array(8), 0, 8), UTF8_LONE_SURROGATE);
    t.equal(encodeUtf8Into('\udc00', 0, 1, new Uint8Array(8), 0, 8), UTF8_LONE_SURROGATE);
    const text = 'héllo 😀 wörld €';
    const b = utf8Bytes(text);
    t.equal(decodeUtf8(b, 0, b.length), text, 'decode(encode(x)) = x');
    t.equal(decodeUtf8(new Uint8Array([0x61, 0xff, 0x62]), 0, 3), 'a\ufffdb', 'bad byte becomes U+FFFD');
  });

  add('X-Amz-Date matches Date#toISOString over 130 years of samples', (t) => {
    const out = new Uint8Array(16);
    const step = 7919 * 60000 + 13000; // a prime number of minutes plus 13 s: hits every month, day and hour
    for (let ms = 0, n = 0; ms < 4102444800000 && n < 3000; ms += step, n++) {
      writeAmzDate(ms, out, 0);
      const iso = new Date(ms).toISOString(); // 1970-01-01T00:00:00.000Z
      const want = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
      if (decodeAscii(out, 0, 16) !== want) t.equal(decodeAscii(out, 0, 16), want, `time ${ms}`);
    }
    for (const [ms, want] of [
      [0, '19700101T000000Z'],
      [951782400000, '20000229T000000Z'],
      [T0, '20150830T123600Z'],
      [253402300799999, '99991231T235959Z'],
    ] as const) {
      writeAmzDate(ms, out, 0);
      t.equal(decodeAscii(out, 0, 16), want);
    }
  });

  add('headers: lower-cased, sorted by bytes (prefix first, case-insensitive), joined, trimmed, folded; Date kept', (t) => {
    const s = debugSigner();
    s.sign(
      request({
        headers: [
          ['Host', HOST],
          ['B', '2'],
          ['a-b', 'x'],
          ['ab', '  y \t  z  '],
          ['a', '1'],
          ['A', '0'],
          ['Date', 'Sun, 30 Aug 2015 12:36:00 GMT'],
          ['Folded', 'p\r\n  q\n\tr'],
          ['Empty', ''],
        ],
      }),
    );
    t.equal(
      s.debugCanonicalRequest,
      [
        'GET',
        '/',
        '',
        'a:1,0',
        'a-b:x',
        'ab:y z',
        'b:2',
        'date:Sun, 30 Aug 2015 12:36:00 GMT',
        'empty:',
        'folded:p q r',
        `host:${HOST}`,
        'x-amz-date:20150830T123600Z',
        '',
        'a;a-b;ab;b;date;empty;folded;host;x-amz-date',
        EMPTY,
      ].join('\n'),
    );
  });

  add('query: decoded, re-encoded (RFC 3986, + is literal), sorted after encoding by key then value', (t) => {
    const s = debugSigner();
    s.sign(request({ path: '/?~=1&é=2&b=%41&a=2&a=1&c&d=&e=x+y&f=%2b&g=a%20b&&h=%7e%2F' }));
    // 'é' encodes to %C3%A9, which sorts before 'a' (0x25 < 0x61) although the decoded 'é' sorts after '~'.
    t.equal(s.debugCanonicalRequest.split('\n')[2], '%C3%A9=2&a=1&a=2&b=A&c=&d=&e=x%2By&f=%2B&g=a%20b&h=~%2F&~=1');
  });

  add('path: double encoding, S3 single encoding, normalisation', (t) => {
    const s = debugSigner();
    const uri = (path: string, flags: Partial<SigningRequest>) => {
      s.sign(request({ path, ...flags }));
      return s.debugCanonicalRequest.split('\n')[1];
    };
    t.equal(uri('/a%2Fb/c d/é', { normalizePath: false }), '/a%252Fb/c%20d/%C3%A9', 'double: % encoded again');
    t.equal(uri('/a%2fb/c d/$x', { normalizePath: false, doubleEncodePath: false }), '/a%2Fb/c%20d/%24x', 'S3: escapes kept, raw bytes encoded once');
    t.equal(uri('/a/./b/../c//d/', {}), '/a/c/d/');
    t.equal(uri('/a/b/..', {}), '/a');
    t.equal(uri('/../..', {}), '/');
    t.equal(uri('', {}), '/', 'empty path is /');
    t.equal(uri('/a/./b/', { normalizePath: false }), '/a/./b/', 'no normalisation');
    t.equal(uri('/a/%2E%2E/b', {}), '/a/%252E%252E/b', 'encoded dots are not dot segments');
  });

  add('signBody adds x-amz-content-sha256 = sha256(body); payload literals pass through', (t) => {
    const s = debugSigner();
    const out = s.sign(request({ method: 'PUT', body: utf8Bytes('Welcome to Amazon S3.'), signBody: true, doubleEncodePath: false }));
    // The S3 API reference's PUT Object example body hash.
    const h = '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072';
    t.deepEqual(out.headers().map(([n]) => n), ['X-Amz-Date', 'x-amz-content-sha256', 'Authorization']);
    t.equal(out.headers()[1]![1], h);
    t.ok(s.debugCanonicalRequest.endsWith(`x-amz-content-sha256:${h}\nx-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\n${h}`));
    s.sign(request({ payloadHash: 'UNSIGNED-PAYLOAD' }));
    t.ok(s.debugCanonicalRequest.endsWith('\nUNSIGNED-PAYLOAD'));
  });

  add('derived signing key: AWS example value, and a key-only signer reproduces get-vanilla', (t) => {
    // AWS General Reference, "Examples of how to derive a signing key" (iam, 20120215).
    t.equal(hex(deriveSigningKey(CREDS.secretAccessKey, '20120215', 'us-east-1', 'iam')), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
    const key = deriveSigningKey(CREDS.secretAccessKey, '20150830', 'us-east-1', 'service');
    const s = new Signer({ credentials: { accessKeyId: 'AKIDEXAMPLE', signingKey: key, date: '20150830', region: 'us-east-1', service: 'service' } });
    t.equal(s.sign(request({})).signature(), GET_VANILLA_SIGNATURE);
    t.equal(s.sign(request({ timeMs: T0 + 11 * 3600 * 1000 })).headers()[0]![1], '20150830T233600Z', 'same day, later time: fine');
    t.throws(() => s.sign(request({ timeMs: T0 + 12 * 3600 * 1000 })), (e) => e instanceof SigV4Error && e.code === 'KEY_DATE_MISMATCH', 'next day');
    t.throws(
      () => new Signer({ credentials: { accessKeyId: 'AKIDEXAMPLE', signingKey: key, date: '20150830', region: 'us-east-1', service: 'service' }, region: 'eu-west-1' }),
      (e) => e instanceof SigV4Error && e.code === 'INVALID_CREDENTIALS',
      'region must agree with the key',
    );
  });

  add('signing-key cache follows the date (get-vanilla again after another day)', (t) => {
    const s = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service' });
    t.equal(s.sign(request({})).signature(), GET_VANILLA_SIGNATURE);
    t.ok(s.sign(request({ timeMs: T0 + 86400000 })).signature() !== GET_VANILLA_SIGNATURE, 'another day, another key');
    t.equal(s.sign(request({})).signature(), GET_VANILLA_SIGNATURE, 'back to the vector date');
  });

  add('header output with a session token, signed and omitted (aws-c-auth order)', (t) => {
    const s = debugSigner('service', 'tok+en/=');
    const signed = s.sign(request({}));
    t.deepEqual(signed.headers().map(([n]) => n), ['X-Amz-Security-Token', 'X-Amz-Date', 'Authorization']);
    t.ok(s.debugCanonicalRequest.indexOf('x-amz-security-token:tok+en/=\n') > 0, 'token signed');
    const omitted = s.sign(request({ omitSessionToken: true }));
    t.equal(omitted.headers()[0]![1], 'tok+en/=', 'token still sent');
    t.ok(s.debugCanonicalRequest.indexOf('security-token') < 0, 'but not signed');
  });

  add('order of distinct headers and of query pairs does not matter; order of repeated headers does', (t) => {
    const s = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service' });
    const sig = (r: Partial<SigningRequest>) => s.sign(request(r)).signature();
    const a = sig({ path: '/?b=2&a=1&a=0', headers: [['Host', HOST], ['X-B', '2'], ['x-a', '1']] });
    t.equal(sig({ path: '/?a=0&b=2&a=1', headers: [['x-a', '1'], ['Host', HOST], ['X-B', '2']] }), a, 'permuted');
    t.ok(sig({ path: '/?b=2&a=1&a=0', headers: [['Host', HOST], ['X-B', '2'], ['x-a', '1'], ['x-a', '0']] }) !==
      sig({ path: '/?b=2&a=1&a=0', headers: [['Host', HOST], ['X-B', '2'], ['x-a', '0'], ['x-a', '1']] }), 'repeated values keep arrival order');
  });

  add('without debug nothing is captured (the canonical request is only streamed)', (t) => {
    const s = new Signer({ credentials: CREDS, region: 'us-east-1', service: 'service' });
    t.equal(s.sign(request({})).signature(), GET_VANILLA_SIGNATURE);
    t.equal(s.debugCanonicalRequest, '');
    t.equal(s.debugStringToSign, '');
  });

  const endpoint = 'example-ats.iot.us-east-1.amazonaws.com';
  add('IoT MQTT presign: README rules (GET /mqtt, iotdevicegateway, empty payload, token appended after signing)', (t) => {
    const s = debugSigner('iotdevicegateway', 'tok/en+=');
    const url = presignMqttUrl(s, { endpoint, timeMs: T0 });
    const query =
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host';
    const canonical = ['GET', '/mqtt', query, `host:${endpoint}`, '', 'host', EMPTY].join('\n');
    t.equal(s.debugCanonicalRequest, canonical, 'canonical request');
    const sts = ['AWS4-HMAC-SHA256', '20150830T123600Z', '20150830/us-east-1/iotdevicegateway/aws4_request', sha256Hex(nobleSha256(), canonical)].join('\n');
    t.equal(s.debugStringToSign, sts, 'string to sign');
    const sig = s.output.signature();
    t.equal(url, `wss://${endpoint}/mqtt?${query}&X-Amz-Signature=${sig}&X-Amz-Security-Token=tok%2Fen%2B%3D`);
    const withExpiry = presignMqttUrl(s, { endpoint, timeMs: T0, expiresSeconds: 86400 });
    t.ok(s.debugCanonicalRequest.indexOf('X-Amz-Date=20150830T123600Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n') > 0, 'X-Amz-Expires is signed when given');
    t.ok(withExpiry.indexOf('&X-Amz-Expires=86400&') > 0);
  });

  add('maxEncodedTokenBytes: the token encoded once at setCredentials gives the same URLs; too small or 0 falls back', (t) => {
    const token = 'tok/en+=';
    const encoded = 'tok%2Fen%2B%3D'; // RFC 3986 by hand: / + = are reserved
    const make = (maxEncodedTokenBytes: number) =>
      new Signer({ credentials: { ...CREDS, sessionToken: token }, region: 'us-east-1', service: 'iotdevicegateway', limits: { maxEncodedTokenBytes } });
    for (const size of [0, encoded.length - 1, encoded.length, 3 * token.length]) {
      const s = make(size);
      const url = presignMqttUrl(s, { endpoint, timeMs: T0 });
      t.ok(url.endsWith(`&X-Amz-Security-Token=${encoded}`), `maxEncodedTokenBytes ${size}: token appended, encoded`);
      t.equal(url.split('&X-Amz-Security-Token=').length, 2, 'exactly once');
      const signed = s.presign({ method: 'GET', path: '/p', headers: [['host', endpoint]], timeMs: T0 }).pathAndQuery();
      t.ok(signed.indexOf(`&X-Amz-Security-Token=${encoded}&X-Amz-Signature=`) > 0, `maxEncodedTokenBytes ${size}: signed token in the query`);
      s.setCredentials({ ...CREDS, sessionToken: 'a=b' });
      t.ok(presignMqttUrl(s, { endpoint, timeMs: T0 }).endsWith('&X-Amz-Security-Token=a%3Db'), 'a rotated token replaces the cached encoding');
      s.setCredentials(CREDS);
      t.equal(presignMqttUrl(s, { endpoint, timeMs: T0 }).indexOf('X-Amz-Security-Token'), -1, 'no token after credentials without one');
    }
  });

  add('IoT HTTPS publish: /topics/a%2Fb?qos=1, canonical URI /topics/a%252Fb, body hash, configurable signing name', (t) => {
    const s = debugSigner('iotdata', 'tok');
    const body = utf8Bytes('{"x":1}');
    const r = signIotPublish(s, { endpoint, topic: 'a/b', body, timeMs: T0 });
    t.equal(r.path, '/topics/a%2Fb?qos=1');
    t.equal(
      s.debugCanonicalRequest,
      ['POST', '/topics/a%252Fb', 'qos=1', `host:${endpoint}`, 'x-amz-date:20150830T123600Z', 'x-amz-security-token:tok', '', 'host;x-amz-date;x-amz-security-token', sha256Hex(nobleSha256(), body)].join('\n'),
    );
    t.deepEqual(r.headers.map(([n]) => n), ['host', 'X-Amz-Security-Token', 'X-Amz-Date', 'Authorization']);
    t.ok(r.headers[3]![1].indexOf('/20150830/us-east-1/iotdata/aws4_request,') > 0, 'signing name iotdata');
    const g = debugSigner('iotdevicegateway');
    signIotPublish(g, { endpoint, topic: 'dt/é sensor', qos: 0, body, timeMs: T0 });
    t.equal(s.debugCanonicalRequest.split('\n')[1], '/topics/a%252Fb');
    t.equal(g.debugCanonicalRequest.split('\n').slice(1, 3).join('\n'), '/topics/dt%252F%25C3%25A9%2520sensor\nqos=0');
    t.ok(g.output.authorization().indexOf('/iotdevicegateway/aws4_request,') > 0, 'signing name iotdevicegateway');
  });

  return cases;
};

export default suite;
