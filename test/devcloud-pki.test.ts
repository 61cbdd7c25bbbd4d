// The dev cloud's certificate chains as a board's TLS needs them, checked with
// the openssl CLI (not our own parser): every CA carries subject and authority
// key identifiers, the servers send leaf -> intermediate -> root (as AWS does),
// the leaf verifies only through the intermediate, and device keys are RSA 2048.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevCloud, type DevCloud } from '../tools/devcloud/index.js';
import type { ProvisionedDevice } from '../tools/devcloud/state-dir.js';

let cloud: DevCloud;
let stateDir: string;
let device: ProvisionedDevice;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'devcloud-pki-'));
  // 'ec' for the CAs and server (fast): the device key must still come out RSA.
  cloud = await startDevCloud({ stateDir, keyType: 'ec' });
  device = await cloud.provision('pki-thing');
});

after(async () => {
  await cloud?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function x509Text(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
}

/** The key identifier printed under an extension heading, e.g. "X509v3 Authority Key Identifier". */
function keyId(text: string, heading: string): string | null {
  const m = new RegExp(`${heading}:\\s*\\n\\s*(?:keyid:)?([0-9A-F]{2}(?::[0-9A-F]{2})+)`).exec(text);
  return m ? m[1]! : null;
}

/**
 * The certificates a TLS server sends, in order, as `openssl s_client -showcerts`
 * sees them (asynchronous: the servers run in this process).
 */
function servedChain(port: number): Promise<string[]> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts', '-servername', 'localhost'], { encoding: 'utf8', timeout: 20_000 }, (_error, stdout) => {
      resolve([...String(stdout).matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)].map((m) => m[0]));
    });
    child.stdin?.end();
  });
}

function subjectOf(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: pem, encoding: 'utf8' }).trim();
}

describe('dev cloud PKI', () => {
  test('both TLS servers send leaf, intermediate, root; every certificate has SKI and AKI; each AKI names its issuer', async () => {
    const e = cloud.endpoints();
    for (const port of [e.gatewayPort, e.credentialsPort]) {
      const chain = await servedChain(port);
      assert.equal(chain.length, 3, `port ${port} sent ${chain.length} certificates`);
      const [leaf, intermediate, root] = chain.map(x509Text) as [string, string, string];
      assert.match(subjectOf(chain[0]!), /CN=devcloud$/);
      assert.equal(chain[2], readFileSync(e.caFile, 'utf8'), 'the last certificate is the root in caFile');
      for (const [name, text] of [['intermediate', intermediate], ['root', root]] as const) {
        assert.match(text, /CA:TRUE/, `${name} is a CA`);
      }
      assert.match(leaf, /CA:FALSE/);
      assert.match(intermediate, /pathlen:0/);
      const ski = chain.map((_, i) => keyId([leaf, intermediate, root][i]!, 'X509v3 Subject Key Identifier'));
      const aki = chain.map((_, i) => keyId([leaf, intermediate, root][i]!, 'X509v3 Authority Key Identifier'));
      for (let i = 0; i < 3; i++) {
        assert.ok(ski[i], `certificate ${i} has a subject key identifier`);
        assert.ok(aki[i], `certificate ${i} has an authority key identifier`);
      }
      assert.equal(aki[0], ski[1], 'leaf AKI = intermediate SKI');
      assert.equal(aki[1], ski[2], 'intermediate AKI = root SKI');
      assert.equal(aki[2], ski[2], 'root AKI = its own SKI (keyid:always)');
    }
  });

  test('openssl verifies the leaf through the intermediate to the root, and not without the intermediate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devcloud-pki-verify-'));
    try {
      const chain = await servedChain(cloud.endpoints().gatewayPort);
      writeFileSync(join(dir, 'leaf.pem'), chain[0]!);
      writeFileSync(join(dir, 'int.pem'), chain[1]!);
      const caFile = cloud.endpoints().caFile;
      const ok = spawnSync('openssl', ['verify', '-CAfile', caFile, '-untrusted', join(dir, 'int.pem'), '-purpose', 'sslserver', join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      const direct = spawnSync('openssl', ['verify', '-CAfile', caFile, join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.notEqual(direct.status, 0, 'the leaf is signed by the intermediate, not the root');
      writeFileSync(join(dir, 'device.pem'), device.certPem);
      const dev = spawnSync('openssl', ['verify', '-CAfile', caFile, '-untrusted', join(dir, 'int.pem'), '-purpose', 'sslclient', join(dir, 'device.pem')], { encoding: 'utf8' });
      assert.equal(dev.status, 0, dev.stdout + dev.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('device keys are RSA 2048 even when the CAs are P-256; provisioning lists the root as trust anchor', () => {
    const key = execFileSync('openssl', ['pkey', '-noout', '-text'], { input: device.keyPem, encoding: 'utf8' });
    assert.match(key, /Private-Key: \(2048 bit/);
    assert.match(execFileSync('openssl', ['x509', '-noout', '-text'], { input: device.certPem, encoding: 'utf8' }), /rsaEncryption/);
    const anchors = device.provisioning.trustAnchorDerFiles as string[];
    assert.deepEqual(anchors, [join(stateDir, 'ca.der')]);
    const der = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', anchors[0]!, '-outform', 'PEM'], { encoding: 'utf8' });
    assert.equal(der, readFileSync(cloud.endpoints().caFile, 'utf8'));
  });

  test('a state directory from the single-CA layout is refused with STALE_STATE, not silently re-signed', async () => {
    const old = mkdtempSync(join(tmpdir(), 'devcloud-pki-old-'));
    try {
      writeFileSync(join(old, 'ca.pem'), readFileSync(cloud.endpoints().caFile, 'utf8'));
      writeFileSync(join(old, 'ca.key'), 'not used');
      await assert.rejects(startDevCloud({ stateDir: old, keyType: 'ec' }), (e: Error & { code?: string }) => e.code === 'STALE_STATE');
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });
});
