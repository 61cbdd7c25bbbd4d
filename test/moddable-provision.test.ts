// Board provisioning (tools/moddable/provision.ts, and the board's own boot
// check src/shared/device-key.ts): device keys must be PKCS#8 RSA 2048, a
// P-256 key is refused with a clear error before anything is written, and
// the trust anchors (Amazon Root CA 1 and 3, or the dev cloud's root) are
// written as DER resources in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceKeyProblem } from '../src/shared/device-key.js';
import { amazonRootCas, writeBoardProvisioning, ProvisionError, AMAZON_ROOT_CA_FILES, DEFAULT_AMAZON_ROOT_CA_DIR } from '../tools/moddable/provision.js';

function rsa(bits: number) {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

/** A self-signed certificate for `keyPem`, made by openssl (not by the code under test). */
function selfSigned(keyPem: string, cn: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'prov-cert-'));
  try {
    const keyFile = join(dir, 'k.pem');
    execFileSync('sh', ['-c', `cat > ${keyFile}`], { input: keyPem });
    return execFileSync('openssl', ['req', '-new', '-x509', '-key', keyFile, '-subj', `/CN=${cn}`, '-days', '2'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const device = rsa(2048);
const deviceKeyPem = device.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const deviceCertPem = selfSigned(deviceKeyPem, 'prov-device');
const anchorPem = selfSigned(rsa(2048).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'prov-anchor');

test('the board check accepts a PKCS#8 RSA 2048 key and refuses P-256, other RSA sizes, PKCS#1/SEC 1 and garbage, naming why', () => {
  const der = (k: ReturnType<typeof rsa>['privateKey'], type: 'pkcs8' | 'pkcs1' | 'sec1') => new Uint8Array(k.export({ type, format: 'der' } as never) as Buffer);
  assert.equal(deviceKeyProblem(der(device.privateKey, 'pkcs8')), null);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  assert.match(deviceKeyProblem(der(ec, 'pkcs8'))!, /P-256 \(EC\) key: .*only with RSA; issue an RSA 2048 device key/);
  assert.match(deviceKeyProblem(der(ec, 'sec1'))!, /not PKCS#8/);
  assert.match(deviceKeyProblem(der(device.privateKey, 'pkcs1'))!, /not PKCS#8/);
  assert.match(deviceKeyProblem(der(rsa(1024).privateKey, 'pkcs8'))!, /RSA 1024-bit key: device keys must be RSA 2048/);
  assert.match(deviceKeyProblem(der(rsa(3072).privateKey, 'pkcs8'))!, /RSA 3072-bit key/);
  const ed = generateKeyPairSync('ed25519').privateKey;
  assert.match(deviceKeyProblem(der(ed, 'pkcs8'))!, /not an RSA key/);
  assert.match(deviceKeyProblem(new Uint8Array([0x30, 0x82, 0xff]))!, /not a DER PKCS#8/);
  assert.match(deviceKeyProblem(new Uint8Array(0))!, /not a DER PKCS#8/);
});

test('provisioning writes certificate, PKCS#8 key and every anchor as DER, in order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-ok-'));
  try {
    const written = writeBoardProvisioning(dir, { certificate: deviceCertPem, privateKey: deviceKeyPem, trustAnchors: [anchorPem, Buffer.from(anchorPem)] });
    assert.deepEqual(written, ['device-certificate.der', 'device-private-key.der', 'trust-anchor-1.der', 'trust-anchor-2.der']);
    assert.equal(new X509Certificate(readFileSync(join(dir, 'device-certificate.der'))).subject, 'CN=prov-device');
    assert.equal(new X509Certificate(readFileSync(join(dir, 'trust-anchor-1.der'))).subject, 'CN=prov-anchor');
    const key = execFileSync('openssl', ['pkey', '-inform', 'DER', '-in', join(dir, 'device-private-key.der'), '-noout', '-text'], { encoding: 'utf8' });
    assert.match(key, /Private-Key: \(2048 bit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a P-256 device key is refused with BAD_KEY and a clear message, nothing is written, and the key is not echoed', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'prov-ec-')), 'out');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    assert.throws(
      () => writeBoardProvisioning(dir, { certificate: deviceCertPem, privateKey: ec, trustAnchors: [anchorPem] }),
      (e: unknown) => e instanceof ProvisionError && e.code === 'BAD_KEY' && /P-256 \(EC\) key/.test(e.message) && !e.message.includes(ec.split('\n')[1]!),
    );
    assert.equal(existsSync(dir), false);
    assert.throws(() => writeBoardProvisioning(dir, { certificate: deviceCertPem, privateKey: deviceKeyPem, trustAnchors: [] }), (e: unknown) => e instanceof ProvisionError && e.code === 'MISSING_ANCHOR');
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

const haveAmazon = AMAZON_ROOT_CA_FILES.every((f) => existsSync(join(DEFAULT_AMAZON_ROOT_CA_DIR, f)));

test('--aws anchors are Amazon Root CA 1 (RSA) and Amazon Root CA 3 (P-256)', { skip: haveAmazon ? false : `no ${AMAZON_ROOT_CA_FILES.join('/')} in ${DEFAULT_AMAZON_ROOT_CA_DIR} (package ca-certificates)` }, () => {
  const [one, three] = amazonRootCas(DEFAULT_AMAZON_ROOT_CA_DIR).map((p) => new X509Certificate(p));
  assert.match(one!.subject, /CN=Amazon Root CA 1/);
  assert.equal(one!.publicKey.asymmetricKeyType, 'rsa');
  assert.match(three!.subject, /CN=Amazon Root CA 3/);
  assert.equal(three!.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('missing Amazon roots are reported with where to get them', () => {
  const empty = mkdtempSync(join(tmpdir(), 'prov-none-'));
  try {
    assert.throws(() => amazonRootCas(empty), (e: unknown) => e instanceof ProvisionError && e.code === 'MISSING_ANCHOR' && /amazontrust\.com/.test(e.message));
    assert.deepEqual(readdirSync(empty), []);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
