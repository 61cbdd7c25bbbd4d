// Node side of the portable verifier suite: keys and signatures made at test
// time with node:crypto (OpenSSL), valid ones and ones broken on purpose
// (wrong key, flipped bit, r or s out of range, a point off the curve, key
// sizes out of bounds). Each vector's expected verdict is the intent of its
// construction, and the loader checks that OpenSSL (the Node engine's
// verifier) agrees, so an expectation is never our own verifier's output.
import { constants, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { NodeSignatureVerifier } from '../../tools/tuf-client/verify-node.js';
import type { VerifyVector } from './update-verify.suite.js';


const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const pem = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }).toString();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function derInt(v: bigint): Buffer {
  let h = v.toString(16);
  if (h.length % 2) h = '0' + h;
  let b = Buffer.from(h, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}
const derSig = (r: bigint, s: bigint): string => {
  const body = Buffer.concat([derInt(r), derInt(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('hex');
};
function parseDerSig(sigHex: string): { r: bigint; s: bigint } {
  const b = Buffer.from(sigHex, 'hex');
  let p = 2;
  const rl = b[p + 1]!;
  const r = BigInt('0x' + b.subarray(p + 2, p + 2 + rl).toString('hex'));
  p += 2 + rl;
  const sl = b[p + 1]!;
  return { r, s: BigInt('0x' + b.subarray(p + 2, p + 2 + sl).toString('hex')) };
}
function flipBit(h: string, byte: number): string {
  const b = Buffer.from(h, 'hex');
  b[byte]! ^= 0x01;
  return b.toString('hex');
}

export function loadData(): { vectors: VerifyVector[] } {
  const message = Buffer.from('{"_type":"timestamp","version":1}');
  const other = Buffer.from('{"_type":"timestamp","version":2}');
  const m = hex(message);
  const v: VerifyVector[] = [];
  const add = (name: string, keytype: string, scheme: string, publicKey: string, sig: string, expected: boolean, msg = m): void => {
    v.push({ name, keytype, scheme, publicKey, messageHex: msg, sig, expected });
  };

  // ed25519: public key as hex of the raw 32 bytes (securesystemslib).
  const ed = generateKeyPairSync('ed25519');
  const ed2 = generateKeyPairSync('ed25519');
  const edHex = (k: KeyObject): string => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  const edSig = hex(sign(null, message, ed.privateKey));
  add('ed25519 valid', 'ed25519', 'ed25519', edHex(ed.publicKey), edSig, true);
  add('ed25519 uppercase hex signature', 'ed25519', 'ed25519', edHex(ed.publicKey), edSig.toUpperCase(), true);
  add('ed25519 other message', 'ed25519', 'ed25519', edHex(ed.publicKey), edSig, false, hex(other));
  add('ed25519 wrong key', 'ed25519', 'ed25519', edHex(ed2.publicKey), edSig, false);
  add('ed25519 flipped signature bit', 'ed25519', 'ed25519', edHex(ed.publicKey), flipBit(edSig, 10), false);
  add('ed25519 S not reduced (S + L)', 'ed25519', 'ed25519', edHex(ed.publicKey), (() => {
    const b = Buffer.from(edSig, 'hex');
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const s = BigInt('0x' + Buffer.from(b.subarray(32)).reverse().toString('hex')) + L;
    const sb = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse();
    return Buffer.concat([b.subarray(0, 32), sb]).toString('hex');
  })(), false);
  add('ed25519 truncated signature', 'ed25519', 'ed25519', edHex(ed.publicKey), edSig.slice(0, 126), false);
  add('ed25519 key not hex', 'ed25519', 'ed25519', 'zz' + edHex(ed.publicKey).slice(2), edSig, false);
  add('ed25519 key with ecdsa scheme', 'ed25519', 'ecdsa-sha2-nistp256', edHex(ed.publicKey), edSig, false);

  // ecdsa-sha2-nistp256: PEM SPKI key, hex of a DER signature.
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ec2 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecPem = pem(ec.publicKey);
  const ecSig = hex(sign('sha256', message, { key: ec.privateKey, dsaEncoding: 'der' }));
  const { r, s } = parseDerSig(ecSig);
  add('p256 valid', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, ecSig, true);
  add('p256 valid, keytype ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256', ecPem, ecSig, true);
  add('p256 high S accepted (OpenSSL does not normalize S)', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(r, P256_N - s), true);
  add('p256 other message', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, ecSig, false, hex(other));
  add('p256 wrong key', 'ecdsa', 'ecdsa-sha2-nistp256', pem(ec2.publicKey), ecSig, false);
  add('p256 flipped signature bit', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(r ^ 1n, s), false);
  add('p256 r = 0', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(0n, s), false);
  add('p256 s = 0', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(r, 0n), false);
  add('p256 r = n', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(P256_N, s), false);
  add('p256 s = n + s', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(r, P256_N + s), false);
  add('p256 r + n (same r mod n)', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, derSig(r + P256_N, s), false);
  // A point off the curve: the key's last byte (y) changed, the DER kept well formed.
  const spki = Buffer.from(ec.publicKey.export({ type: 'spki', format: 'der' }));
  spki[spki.length - 1]! ^= 0x01;
  const offCurve = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`;
  add('p256 key not on the curve', 'ecdsa', 'ecdsa-sha2-nistp256', offCurve, ecSig, false);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  add('p384 key under the p256 scheme', 'ecdsa', 'ecdsa-sha2-nistp256', pem(p384.publicKey), hex(sign('sha256', message, { key: p384.privateKey, dsaEncoding: 'der' })), false);
  add('p256 signature with trailing byte', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, ecSig + '00', false);
  add('p256 key PEM truncated', 'ecdsa', 'ecdsa-sha2-nistp256', `-----BEGIN PUBLIC KEY-----\n${Buffer.from(ec.publicKey.export({ type: 'spki', format: 'der' })).subarray(0, 80).toString('base64')}\n-----END PUBLIC KEY-----\n`, ecSig, false);

  // RSA: PEM SPKI key; PSS (any salt length, as securesystemslib verifies) and PKCS#1 v1.5.
  const pss = (k: KeyObject, saltLength: number, msg = message): string =>
    hex(sign('sha256', msg, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }));
  const v15 = (k: KeyObject, msg = message): string => hex(sign('sha256', msg, { key: k, padding: constants.RSA_PKCS1_PADDING }));
  for (const bits of [2048, 2049, 3072]) {
    const k = generateKeyPairSync('rsa', { modulusLength: bits });
    const kp = pem(k.publicKey);
    const sigPss = pss(k.privateKey, 32);
    const sigV15 = v15(k.privateKey);
    add(`rsa-${bits} pss salt 32`, 'rsa', 'rsassa-pss-sha256', kp, sigPss, true);
    add(`rsa-${bits} pss salt max`, 'rsa', 'rsassa-pss-sha256', kp, pss(k.privateKey, constants.RSA_PSS_SALTLEN_MAX_SIGN), true);
    add(`rsa-${bits} pss salt 0`, 'rsa', 'rsassa-pss-sha256', kp, pss(k.privateKey, 0), true);
    add(`rsa-${bits} pkcs1v15`, 'rsa', 'rsa-pkcs1v15-sha256', kp, sigV15, true);
    add(`rsa-${bits} pss other message`, 'rsa', 'rsassa-pss-sha256', kp, sigPss, false, hex(other));
    add(`rsa-${bits} pkcs1v15 flipped bit`, 'rsa', 'rsa-pkcs1v15-sha256', kp, flipBit(sigV15, 7), false);
    add(`rsa-${bits} pss signature under pkcs1v15`, 'rsa', 'rsa-pkcs1v15-sha256', kp, sigPss, false);
    add(`rsa-${bits} pkcs1v15 signature under pss`, 'rsa', 'rsassa-pss-sha256', kp, sigV15, false);
    const n = BigInt('0x' + Buffer.from(k.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex'));
    const sigN = (n + BigInt('0x' + sigV15)).toString(16);
    if (sigN.length === sigV15.length) add(`rsa-${bits} signature + n`, 'rsa', 'rsa-pkcs1v15-sha256', kp, sigN, false);
    add(`rsa-${bits} signature one byte short`, 'rsa', 'rsa-pkcs1v15-sha256', kp, sigV15.slice(2), false);
  }
  const other2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const first2048 = v.find((x) => x.name === 'rsa-2048 pkcs1v15')!;
  add('rsa-2048 wrong key', 'rsa', 'rsa-pkcs1v15-sha256', pem(other2048.publicKey), first2048.sig, false);
  const small = generateKeyPairSync('rsa', { modulusLength: 768 });
  add('rsa-768 below the key size bound', 'rsa', 'rsa-pkcs1v15-sha256', pem(small.publicKey), v15(small.privateKey), false);
  add('rsa key with unknown scheme', 'rsa', 'rsassa-pss-sha384', first2048.publicKey, first2048.sig, false);

  add('unknown key type', 'sphincs', 'sphincs', ecPem, ecSig, false);
  add('empty signature', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, '', false);
  add('odd-length hex signature', 'ecdsa', 'ecdsa-sha2-nistp256', ecPem, ecSig.slice(1), false);
  add('random bytes as signature', 'ed25519', 'ed25519', edHex(ed.publicKey), randomBytes(64).toString('hex'), false);

  // OpenSSL's verdict must match every intent, except where we are stricter by
  // design (the key size bound): a vector OpenSSL disagrees with is a broken vector.
  const openssl = new NodeSignatureVerifier();
  const stricter = new Set(['rsa-768 below the key size bound']);
  for (const x of v) {
    const verdict = openssl.verify(x.keytype, x.scheme, x.publicKey, Buffer.from(x.messageHex, 'hex'), x.sig);
    if (!stricter.has(x.name) && verdict !== x.expected) throw new Error(`vector "${x.name}": OpenSSL says ${verdict}, intended ${x.expected}`);
    if (stricter.has(x.name) && !verdict) throw new Error(`vector "${x.name}" should be valid for OpenSSL`);
  }
  return { vectors: v };
}
