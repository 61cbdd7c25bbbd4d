// The TUF client core through its public interface (Updater over in-memory
// ports), on Node and XS. Signatures use the test scheme of
// test/harness/tuf-mac-repo.ts; real key types are covered by the
// conformance suite (test/tuf-conformance.test.ts). Canonical JSON expected
// bytes come from securesystemslib 1.4.0's encode_canonical.
import type { Check, PortableSuite } from '../harness/portable.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CanonicalJsonWriter } from '../../src/update/canonical-json.js';
import { TufError } from '../../src/update/errors.js';
import { MAX_CANONICAL_BYTES, MAX_TIMESTAMP_BYTES } from '../../src/update/limits.js';
import { NobleHash } from '../../src/update/hash-noble.js';
import { Sha256HashPort } from '../../src/update/hash-sha256.js';
import { nobleSha256 } from '../../src/sigv4/sha256-noble.js';
import { pathMatches, quote } from '../../src/update/names.js';
import { decodeUtf8, utf8Bytes } from '../../src/shared/utf8.js';
import { FUTURE, NOW, hexOf, key, keyJson, macSetup as setup, sign, type TestKey } from '../harness/tuf-mac-repo.js';

const text = (b: Uint8Array): string => decodeUtf8(b, 0, b.length);

async function rejects(t: Check, p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    t.ok(e instanceof TufError && e.code === code, `${what}: expected TufError ${code}, got ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  t.ok(false, `${what}: expected a TufError ${code}, but it resolved`);
}

const CANONICAL_CASES: Array<[unknown, string]> = [
  [{ b: 1, a: [true, false, null], '': -7 }, '7b22223a2d372c2261223a5b747275652c66616c73652c6e756c6c5d2c2262223a317d'],
  // Code point order: U+E000 and U+FFFF sort before U+1F600 (UTF-16 unit order would put the emoji first).
  [{ '\u00e9': 1, z: 2, '\u{1F600}': 3, '\uffff': 4, '\ue000': 5 }, '7b227a223a322c22c3a9223a312c22ee8080223a352c22efbfbf223a342c22f09f9880223a337d'],
  [{ s: 'quote" back\\ nl\n tab\t nul\u0000 del\u007f \u00e9 \u20ac \u{1F600} /' }, '7b2273223a2271756f74655c22206261636b5c5c206e6c0a2074616209206e756c002064656c7f20c3a920e282ac20f09f9880202f227d'],
  [{ n: [0, -0, 9007199254740991, -9007199254740991, 1] }, '7b226e223a5b302c302c393030373139393235343734303939312c2d393030373139393235343734303939312c315d7d'],
];

const suite: PortableSuite = () => [
  {
    name: 'Sha256HashPort (the platform SHA-256 as a HashPort): FIPS 180-2 digests, repeatable on one instance; other algorithms answer null',
    run(t) {
      const port = new Sha256HashPort(nobleSha256);
      // FIPS 180-2 appendix B.1 and B.2.
      t.equal(hexOf(port.digest('sha256', utf8Bytes('abc'))!), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'abc');
      t.equal(hexOf(port.digest('sha256', utf8Bytes('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))!), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1', 'two blocks');
      t.equal(hexOf(port.digest('sha256', utf8Bytes('abc'))!), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'again on the same instance');
      t.equal(port.digest('sha512', utf8Bytes('abc')), null, 'sha512');
      t.equal(port.digest('md5', utf8Bytes('abc')), null, 'md5');
    },
  },
  {
    name: 'canonical JSON: the bytes securesystemslib encode_canonical gives (key order by code point, only " and \\ escaped)',
    run(t) {
      const w = new CanonicalJsonWriter(256);
      for (const [value, hex] of CANONICAL_CASES) t.equal(hexOf(w.encode(value)), hex);
    },
  },
  {
    name: 'canonical JSON: floats, unsafe integers and lone surrogates have no canonical form; the buffer bound is a typed error',
    run(t) {
      const w = new CanonicalJsonWriter(16);
      const code = (c: string) => (e: unknown) => e instanceof TufError && e.code === c;
      t.throws(() => w.encode({ x: 1.5 }), code('malformed'));
      t.throws(() => w.encode([2 ** 53]), code('malformed'));
      t.throws(() => w.encode(['\ud800']), code('malformed'));
      t.throws(() => w.encode({ long: 'abcdefghijklmnop' }), code('over-limit'));
    },
  },
  {
    name: 'canonical JSON: a writer bounded at MAX_CANONICAL_BYTES holds only what the encoded parts needed, and still encodes up to its bound',
    run(t) {
      const w = new CanonicalJsonWriter(MAX_CANONICAL_BYTES);
      t.equal(hexOf(w.encode({ b: 1, a: 'x' })), '7b2261223a2278222c2262223a317d');
      t.ok(w.allocatedBytes <= 1024, `holds ${w.allocatedBytes} bytes after a 15-byte part`);
      let long = '';
      for (let i = 0; i < 3000; i++) long += i % 7 === 0 ? '\u00e9' : 'a';
      const out = w.encode([long]);
      let want = 0;
      for (let i = 0; i < 3000; i++) want += i % 7 === 0 ? 2 : 1;
      t.equal(out.length, want + 4);
      t.equal(out[2], 0xc3);
      t.ok(w.allocatedBytes >= out.length && w.allocatedBytes <= 2 * (want + 4), `holds ${w.allocatedBytes} bytes after a ${out.length}-byte part`);
      const small = new CanonicalJsonWriter(20);
      t.equal(small.encode(['abcdefghijklmnop']).length, 20);
      t.throws(() => small.encode(['abcdefghijklmnopq']), (e: unknown) => e instanceof TufError && e.code === 'over-limit');
    },
  },
  {
    name: 'names: role names are percent-encoded like urllib quote(safe=""); path patterns match segment by segment',
    run(t) {
      t.equal(quote('../delegatedrole'), '..%2Fdelegatedrole');
      t.equal(quote('?#/ \u00e9'), '%3F%23%2F%20%C3%A9');
      t.ok(pathMatches('targets/*.tgz', 'targets/a.tgz'));
      t.ok(!pathMatches('targets/*.tgz', 'targets/sub/a.tgz'), '* does not cross a /');
      t.ok(pathMatches('f[!0-9]?', 'fab') && !pathMatches('f[!0-9]?', 'f1b'));
      t.ok(!pathMatches('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(60)), 'a pathological pattern ends within its step bound');
    },
  },
  {
    name: 'refresh then download: a listed target verifies, a tampered one is refused with bad-hash',
    async run(t) {
      const { repo, updater } = setup();
      const content = utf8Bytes('firmware v1');
      repo.files.set('t/fw.bin', content);
      repo.publishTop({ 'fw.bin': { length: content.length, hashes: { sha256: hexOf(sha256(content)) } } });
      const u = updater();
      await u.refresh();
      const info = await u.getTargetInfo('fw.bin');
      t.ok(info !== null, 'fw.bin listed');
      t.equal(decodeUtf8(await u.downloadTarget(info!), 0, content.length), 'firmware v1');
      repo.files.set('t/fw.bin', utf8Bytes('firmware v2'));
      await rejects(t, u.downloadTarget(info!), 'bad-hash', 'tampered target');
      t.equal(await u.getTargetInfo('absent.bin'), null);
    },
  },
  {
    name: 'expiry: expired unless the clock\u2019s pessimistic end is before expires; an untrusted clock applies nothing',
    async run(t) {
      const expires = Date.UTC(2030, 0, 2);
      const { repo, clock, updater } = setup();
      repo.publishTop({}, { tsExpires: '2030-01-02T00:00:00Z' });
      clock.latest = expires - 1000;
      await updater().refresh();
      clock.latest = expires;
      await rejects(t, updater().refresh(), 'expired', 'latest == expires');
      clock.latest = NOW;
      clock.state = 'UNSYNCED';
      await rejects(t, updater().refresh(), 'expired', 'untrusted clock');
    },
  },
  {
    name: 'a failed refresh changes nothing stored: a timestamp signed by the wrong key is refused',
    async run(t) {
      const { repo, store, updater } = setup();
      repo.publishTop({});
      await updater().refresh();
      const before = store.snapshot();
      repo.ts = key('attacker');
      repo.publishTop({}, { version: 2 });
      await rejects(t, updater().refresh(), 'unsigned', 'timestamp by an unknown key');
      t.deepEqual(store.snapshot(), before);
    },
  },
  {
    name: 'threshold: a key ID counts once, and a signature listed twice under one key ID is refused',
    async run(t) {
      const { repo, store, updater } = setup();
      repo.publishTop({});
      repo.rootVersion = 2;
      repo.rootKeys = [key('root'), key('root2')];
      repo.rootThreshold = 2;
      // Root v2 needs 2 of its own keys: the same key's signature twice is one key (and malformed).
      const signed = repo.rootSigned(2, repo.rootKeys, 2);
      const once = JSON.parse(text(sign(signed, [key('root')]))) as { signatures: unknown[] };
      once.signatures.push(once.signatures[0]);
      repo.files.set('2.root.json', utf8Bytes(JSON.stringify(once)));
      await rejects(t, updater().refresh(), 'malformed', 'duplicate signature');
      repo.files.set('2.root.json', sign(signed, [key('root')]));
      await rejects(t, updater().refresh(), 'unsigned', 'one of two keys');
      repo.publishRoot([key('root'), key('root2')]);
      await updater().refresh();
      t.ok(text(store.load('root')!).includes('"version":2'), 'root v2 persisted');
    },
  },
  {
    name: 'rollback: a timestamp version below the trusted one is refused',
    async run(t) {
      const { repo, updater } = setup();
      repo.publishTop({}, { version: 2 });
      await updater().refresh();
      repo.publishTop({}, { version: 1 });
      await rejects(t, updater().refresh(), 'rollback', 'timestamp v1 after v2');
    },
  },
  {
    name: 'bounds: a timestamp over MAX_TIMESTAMP_BYTES is refused before it is parsed',
    async run(t) {
      const { repo, updater } = setup();
      repo.publishTop({});
      repo.files.set('timestamp.json', new Uint8Array(MAX_TIMESTAMP_BYTES + 1));
      await rejects(t, updater().refresh(), 'fetch', 'oversized timestamp');
    },
  },
  {
    name: 'delegations: a role reached through a second delegator is verified against that delegator\u2019s keys',
    async run(t) {
      const { repo, updater } = setup();
      const pa = key('pa');
      const pb = key('pb');
      const relA = key('relA');
      const relB = key('relB');
      const deleg = (keys: TestKey[], roles: unknown[]) => ({ keys: Object.fromEntries(keys.map((k) => [k.id, keyJson(k)])), roles });
      const role = (name: string, k: TestKey, paths: string[]) => ({ name, keyids: [k.id], threshold: 1, terminating: false, paths });
      const a = utf8Bytes('A');
      repo.files.set('parent-a.json', sign({ _type: 'targets', spec_version: '1.0.31', version: 1, expires: FUTURE, targets: {}, delegations: deleg([relA], [role('release', relA, ['team-a/*'])]) }, [pa]));
      repo.files.set('parent-b.json', sign({ _type: 'targets', spec_version: '1.0.31', version: 1, expires: FUTURE, targets: {}, delegations: deleg([relB], [role('release', relB, ['team-b/*'])]) }, [pb]));
      const hashOf = (b: Uint8Array) => ({ length: b.length, hashes: { sha256: hexOf(sha256(b)) } });
      repo.files.set('release.json', sign({ _type: 'targets', spec_version: '1.0.31', version: 1, expires: FUTURE, targets: { 'team-a/x': hashOf(a), 'team-b/x': hashOf(a) } }, [relA]));
      const one = { version: 1 };
      repo.publishTop({}, { delegations: deleg([pa, pb], [role('parent-a', pa, ['team-a/*']), role('parent-b', pb, ['team-b/*'])]), extra: { 'parent-a.json': one, 'parent-b.json': one, 'release.json': one } });
      const u = updater();
      t.ok((await u.getTargetInfo('team-a/x')) !== null, 'found through parent-a');
      await rejects(t, u.getTargetInfo('team-b/x'), 'unsigned', 'release through parent-b');
    },
  },
];

export default suite;
