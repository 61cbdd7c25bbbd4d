// The dev cloud's local PKI, made with the `openssl` CLI (Debian package
// openssl): Node's crypto can make keys but cannot sign X.509 certificates.
//   CA (self-signed, CA:TRUE) -> server certificate (serverAuth, SANs for
//   127.0.0.1, localhost and any extra host names) and device certificates
//   (clientAuth, CN = thing name).
// Keys are RSA 2048 by default: Moddable's TLS (securesocket) handles RSA on
// every target; `ec` (P-256) is faster to generate and fine for Node clients.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { DevCloudError } from './errors.js';

export type KeyType = 'rsa' | 'ec';

/** Validity of the CA and of the certificates it signs. */
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 825;
/** Bound on one openssl run (key generation included). */
export const OPENSSL_TIMEOUT_MS = 30_000;

/** Thing names as AWS IoT allows them. */
export const THING_NAME = /^[A-Za-z0-9:_-]{1,128}$/;

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: OPENSSL_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new DevCloudError('OPENSSL_FAILED', `openssl ${args[0]} failed: ${String(stderr).trim() || error.message}`));
      else resolve();
    });
  });
}

function keyArgs(keyType: KeyType): string[] {
  return keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

function serial(): string {
  // Positive 64-bit serial: clear the top bit.
  const b = randomBytes(8);
  b[0]! &= 0x7f;
  return `0x${b.toString('hex')}`;
}

export interface PemPair {
  certPem: string;
  keyPem: string;
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'devcloud-pki-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function createCa(keyType: KeyType, commonName = 'devcloud local CA'): Promise<PemPair> {
  return inTempDir(async (dir) => {
    await openssl(
      ['req', '-x509', ...keyArgs(keyType), '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(CA_VALIDITY_DAYS), '-subj', `/CN=${commonName}`,
        '-set_serial', serial(), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
    return { certPem: await readFile(join(dir, 'ca.pem'), 'utf8'), keyPem: await readFile(join(dir, 'ca.key'), 'utf8') };
  });
}

function sanList(hosts: readonly string[]): string {
  return hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

/** A leaf certificate signed by `ca`. */
export function createLeaf(ca: PemPair, keyType: KeyType, commonName: string, usage: 'server' | 'client', sans: readonly string[]): Promise<PemPair> {
  if (!/^[A-Za-z0-9:_.-]{1,128}$/.test(commonName)) throw new DevCloudError('BAD_OPTION', `certificate common name ${JSON.stringify(commonName)} has characters outside [A-Za-z0-9:_.-]`);
  for (const h of sans) if (!isIP(h) && !/^[A-Za-z0-9.-]{1,253}$/.test(h)) throw new DevCloudError('BAD_OPTION', `host name ${JSON.stringify(h)} is not a valid DNS name or IP address`);
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'ca.pem'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      `keyUsage=critical,digitalSignature${keyType === 'rsa' ? ',keyEncipherment' : ''}`,
      `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(sans.length > 0 ? [`subjectAltName=${sanList(sans)}`] : []),
    ];
    await writeFile(join(dir, 'ext.cnf'), ext.join('\n') + '\n');
    await openssl(['req', ...keyArgs(keyType), '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${commonName}`], dir);
    await openssl(
      ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', serial(), '-days', String(LEAF_VALIDITY_DAYS), '-sha256', '-extfile', 'ext.cnf', '-out', 'leaf.pem'],
      dir,
    );
    return { certPem: await readFile(join(dir, 'leaf.pem'), 'utf8'), keyPem: await readFile(join(dir, 'leaf.key'), 'utf8') };
  });
}

/** DER forms for devices (Moddable's securesocket takes DER certificates and keys). */
export function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

export async function writeSecret(path: string, data: string | Buffer): Promise<void> {
  await writeFile(path, data, { mode: 0o600 });
  await chmod(path, 0o600);
}
