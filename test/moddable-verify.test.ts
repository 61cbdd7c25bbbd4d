// The board signature verifier (src/platform/moddable/tuf-verify.ts) on the
// real SDK: vectors made here with Node's crypto (OpenSSL) go to the
// verifier firmware (test/moddable-verify/) as a resource, and the simulator
// must print the verdict each case expects, ending `VERIFY PASS n`. The same
// vectors go through the portable verifier (src/update/verify-noble.ts), so
// the two agree; they differ only where boards are narrower by design:
// Ed25519 (no native code: no signature) and RSA below 2048 bits.
// Expected verdicts come from how each vector is made (signed by OpenSSL, or
// broken on purpose), never from either verifier's output. Skips with the
// reason without $MODDABLE or xvfb-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NobleSignatureVerifier } from '../src/update/verify-noble.js';
import { buildFirmware, findSdk, hasCommand, runSimulator, type Sdk } from '../tools/moddable/sdk.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const found = findSdk();
const sdk: Sdk | null = typeof found === 'string' ? null : found;
const noSimulator = typeof found === 'string' ? found : !hasCommand('xvfb-run') ? 'xvfb-run is not installed' : !hasCommand('stdbuf') ? 'stdbuf is not installed' : false;
const outputDir = join(tmpdir(), 'aws-device-agent-mcconfig-verify');

/** P-256 group order (SEC 2, secp256r1). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

interface Vector {
  name: string;
  keytype: string;
  scheme: string;
  key: string;
  message: string;
  sig: string;
  /** Verdict of the board verifier. */
  board: boolean;
  /** Verdict of the portable (noble) verifier. */
  noble: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const pem = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }) as string;

/** A DER length. */
function derLength(n: number): number[] {
  return n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
}

/** A DER INTEGER of a non-negative value, minimally encoded. */
function derInteger(v: bigint): number[] {
  let h = v.toString(16);
  if (h.length % 2) h = '0' + h;
  const bytes = [...Buffer.from(h, 'hex')];
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return [0x02, ...derLength(bytes.length), ...bytes];
}

function ecdsaDer(r: bigint, s: bigint): string {
  const body = [...derInteger(r), ...derInteger(s)];
  return Buffer.from([0x30, ...derLength(body.length), ...body]).toString('hex');
}

/** r and s of a DER ECDSA signature made by OpenSSL (a well-formed SEQUENCE of two INTEGERs). */
function ecdsaParts(sig: Buffer): { r: bigint; s: bigint } {
  let at = 2;
  const read = (): bigint => {
    const len = sig[at + 1]!;
    const v = BigInt('0x' + sig.subarray(at + 2, at + 2 + len).toString('hex'));
    at += 2 + len;
    return v;
  };
  return { r: read(), s: read() };
}

function flip(sigHex: string, at: number): string {
  const b = Buffer.from(sigHex, 'hex');
  b[at]! ^= 0x01;
  return b.toString('hex');
}

function makeVectors(): Vector[] {
  const out: Vector[] = [];
  const add = (v: Omit<Vector, 'noble'> & { noble?: boolean }): void => void out.push({ ...v, noble: v.noble ?? v.board });
  const msg = Buffer.from('{"signed":{"_type":"root","version":1}}');
  const other = Buffer.from('{"signed":{"_type":"root","version":2}}');

  // ---- ECDSA P-256 ----
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecPem = pem(ec.publicKey);
  const ecBase = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', key: ecPem, message: hex(msg) };
  const ecSigs = [0, 1, 2, 3].map(() => sign('sha256', msg, ec.privateKey));
  ecSigs.forEach((s, i) => add({ ...ecBase, name: `p256 valid ${i}`, sig: s.toString('hex'), board: true }));
  const ecSig = ecSigs[0]!;
  const { r, s } = ecdsaParts(ecSig);
  add({ ...ecBase, name: 'p256 keytype ecdsa-sha2-nistp256', keytype: 'ecdsa-sha2-nistp256', sig: ecSig.toString('hex'), board: true });
  // S and n - S both verify (ECDSA's malleability; OpenSSL accepts both, so TUF does).
  add({ ...ecBase, name: 'p256 s negated (n - s)', sig: ecdsaDer(r, P256_N - s), board: true });
  add({ ...ecBase, name: 'p256 wrong message', message: hex(other), sig: ecSig.toString('hex'), board: false });
  add({ ...ecBase, name: 'p256 flipped signature byte', sig: flip(ecSig.toString('hex'), 10), board: false });
  add({ ...ecBase, name: 'p256 r = 0', sig: ecdsaDer(0n, s), board: false });
  add({ ...ecBase, name: 'p256 s = 0', sig: ecdsaDer(r, 0n), board: false });
  add({ ...ecBase, name: 'p256 r = n', sig: ecdsaDer(P256_N, s), board: false });
  add({ ...ecBase, name: 'p256 s = n', sig: ecdsaDer(r, P256_N), board: false });
  add({ ...ecBase, name: 'p256 r + n', sig: ecdsaDer(r + P256_N, s), board: false });
  add({ ...ecBase, name: 'p256 s + n', sig: ecdsaDer(r, s + P256_N), board: false });
  add({ ...ecBase, name: 'p256 trailing byte after signature', sig: ecSig.toString('hex') + '00', board: false });
  add({ ...ecBase, name: 'p256 raw r||s instead of DER', sig: r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), board: false });
  const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  add({ ...ecBase, name: 'p256 signature by another key', sig: sign('sha256', msg, otherEc.privateKey).toString('hex'), board: false });
  // The key's y changed by one: no longer on P-256 (an invalid-curve key).
  const spki = ec.publicKey.export({ type: 'spki', format: 'der' });
  spki[spki.length - 1]! ^= 0x01;
  const offCurve = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`;
  add({ ...ecBase, name: 'p256 key not on the curve', key: offCurve, sig: ecSig.toString('hex'), board: false });
  add({ ...ecBase, name: 'p256 truncated PEM', key: ecPem.slice(0, 60) + '\n-----END PUBLIC KEY-----\n', sig: ecSig.toString('hex'), board: false });
  add({ ...ecBase, name: 'p256 non-hex signature', sig: 'zz' + ecSig.toString('hex').slice(2), board: false });
  add({ ...ecBase, name: 'p256 unknown scheme', scheme: 'ecdsa-sha2-nistp384', sig: ecSig.toString('hex'), board: false });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  add({ ...ecBase, name: 'p384 key under the P-256 scheme', key: pem(p384.publicKey), sig: sign('sha256', msg, p384.privateKey).toString('hex'), board: false });

  // ---- RSA ----
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaPem = pem(rsa.publicKey);
  const pkcs1 = sign('sha256', msg, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('hex');
  // securesystemslib signs PSS with the longest salt; a 32-byte salt must verify too.
  const pssMax = sign('sha256', msg, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }).toString('hex');
  const pss32 = sign('sha256', msg, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('hex');
  const v15 = { keytype: 'rsa', scheme: 'rsa-pkcs1v15-sha256', key: rsaPem, message: hex(msg) };
  const pss = { ...v15, scheme: 'rsassa-pss-sha256' };
  add({ ...v15, name: 'rsa2048 pkcs1v15 valid', sig: pkcs1, board: true });
  add({ ...pss, name: 'rsa2048 pss max salt valid', sig: pssMax, board: true });
  add({ ...pss, name: 'rsa2048 pss 32-byte salt valid', sig: pss32, board: true });
  add({ ...v15, name: 'rsa2048 pkcs1v15 wrong message', message: hex(other), sig: pkcs1, board: false });
  add({ ...pss, name: 'rsa2048 pss wrong message', message: hex(other), sig: pssMax, board: false });
  add({ ...v15, name: 'rsa2048 pkcs1v15 flipped signature byte', sig: flip(pkcs1, 100), board: false });
  add({ ...pss, name: 'rsa2048 pss flipped signature byte', sig: flip(pssMax, 100), board: false });
  add({ ...v15, name: 'rsa2048 pss signature under pkcs1v15', sig: pssMax, board: false });
  add({ ...pss, name: 'rsa2048 pkcs1v15 signature under pss', sig: pkcs1, board: false });
  add({ ...v15, name: 'rsa2048 signature one byte short', sig: pkcs1.slice(2), board: false });
  const jwk = rsa.publicKey.export({ format: 'jwk' });
  add({ ...v15, name: 'rsa2048 signature = n', sig: Buffer.from(jwk.n!, 'base64url').toString('hex'), board: false });
  add({ ...v15, name: 'rsa2048 unknown scheme', scheme: 'rsassa-pss-sha512', sig: pssMax, board: false });
  add({ ...v15, name: 'rsa keytype with a P-256 key', key: ecPem, sig: pkcs1, board: false });
  const sha1 = sign('sha1', msg, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('hex');
  add({ ...v15, name: 'rsa2048 pkcs1v15 over SHA-1', sig: sha1, board: false });
  const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
  add({ ...v15, name: 'rsa2048 e=3 pkcs1v15 valid', key: pem(e3.publicKey), sig: sign('sha256', msg, { key: e3.privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('hex'), board: true });
  const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
  add({ ...pss, name: 'rsa3072 pss valid', key: pem(rsa3072.publicKey), sig: sign('sha256', msg, { key: rsa3072.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }).toString('hex'), board: true });
  // Below the board's 2048-bit floor; the portable verifier's floor is 1024.
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  add({ ...v15, name: 'rsa1024 pkcs1v15 valid', key: pem(rsa1024.publicKey), sig: sign('sha256', msg, { key: rsa1024.privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('hex'), board: false, noble: true });

  // ---- Ed25519: valid, but boards have no native code for it ----
  const ed = generateKeyPairSync('ed25519');
  const edKey = Buffer.from(ed.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  add({ name: 'ed25519 valid (no signature on boards)', keytype: 'ed25519', scheme: 'ed25519', key: edKey, message: hex(msg), sig: sign(null, msg, ed.privateKey).toString('hex'), board: false, noble: true });
  add({ name: 'unknown keytype', keytype: 'sphincs', scheme: 'sphincs', key: edKey, message: hex(msg), sig: pkcs1, board: false });
  return out;
}

const vectors = makeVectors();

test('the vectors are what they say: OpenSSL-valid where expected, both verdicts present', () => {
  assert.ok(vectors.some((v) => v.board) && vectors.some((v) => !v.board));
  assert.equal(new Set(vectors.map((v) => v.name)).size, vectors.length, 'case names are unique');
});

test('the portable verifier (noble) gives each vector its expected verdict', () => {
  const noble = new NobleSignatureVerifier();
  const wrong = vectors.filter((v) => noble.verify(v.keytype, v.scheme, v.key, Buffer.from(v.message, 'hex'), v.sig) !== v.noble).map((v) => v.name);
  assert.deepEqual(wrong, []);
  // Where boards are narrower on purpose, and only there.
  assert.deepEqual(vectors.filter((v) => v.board !== v.noble).map((v) => v.name), ['rsa1024 pkcs1v15 valid', 'ed25519 valid (no signature on boards)']);
});

test('lin: the board verifier on the SDK gives each vector its expected verdict in the simulator', { skip: noSimulator }, async () => {
  const dir = join(outputDir, 'vectors');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'verify-vectors.txt'), JSON.stringify(vectors.map(({ noble: _noble, ...v }) => v)));
  const build = await buildFirmware({ sdk: sdk!, project: root, manifest: join(root, 'test', 'moddable-verify', 'manifest.json'), platform: 'lin', outputDir, env: { VERIFY_VECTORS: dir } });
  assert.ok(build.ok, `mcconfig failed:\n${build.output.slice(-4000)}`);
  assert.ok(build.simulatorLibrary, 'mc.so was produced');
  const run = await runSimulator(sdk!, build.simulatorLibrary, /VERIFY (PASS \d+|FAIL .*)\n|XS abort/, 120_000);
  assert.ok(run.verdict, `no verdict from the simulator:\n${run.output.slice(-4000)}`);
  assert.match(run.verdict, /^VERIFY PASS/, run.output.slice(-4000));
  const okNames = run.output.split('\n').filter((l) => l.startsWith('VERIFY ok ')).map((l) => l.slice('VERIFY ok '.length).replace(/ \d+ ms$/, ''));
  assert.deepEqual(okNames, vectors.map((v) => v.name), 'every vector ran, in order');
  assert.equal(Number(/VERIFY PASS (\d+)/.exec(run.verdict)![1]), vectors.length);
});
