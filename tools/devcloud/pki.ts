// The dev cloud's local PKI, made with the `openssl` CLI (Debian package
// openssl): Node's crypto can make keys but cannot sign X.509 certificates.
// Shaped like AWS IoT's, so a real embedded TLS stack accepts it:
//   root CA (self-signed) -> intermediate CA (pathlen 0) -> server certificate
//   (serverAuth, SANs for 127.0.0.1, localhost and any extra host names) and
//   device certificates (clientAuth, CN = thing name).
// Every certificate carries subjectKeyIdentifier and authorityKeyIdentifier
// (keyid:always, the root's too): Moddable's chain check (ssl_cert.js
// verify()) matches them and fails with "invalid buffer" when a CA has none.
// Signing goes through `openssl ca` (not `x509 -req`) because only it can set
// notBefore in the past (OpenSSL 3.0 has no -not_before for x509).
// CA and server keys are RSA 2048 by default; `ec` (P-256) is faster to
// generate, and Moddable verifies P-256 server chains too. Device keys are
// always RSA 2048 (DEVICE_KEY_TYPE): Moddable's TLS signs client
// authentication only with RSA PKCS#1 v1.5 SHA-256.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { DevCloudError } from './errors.js';
import { isHost, isThingName } from '../../src/shared/validate.js';

export type KeyType = 'rsa' | 'ec';

/** Device keys: RSA 2048 (the only client-authentication key Moddable's TLS can sign with). */
export const DEVICE_KEY_TYPE: KeyType = 'rsa';

/** Validity of the CA and of the certificates it signs. */
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 825;
/** Bound on one openssl run (key generation included). */
export const OPENSSL_TIMEOUT_MS = 30_000;

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

/**
 * Certificates start this long before they are made, so a device (or a
 * faketime'd process) whose clock is somewhat behind still accepts them.
 * Moddable checks certificate dates against its clock.
 */
export const CERT_BACKDATE_SECONDS = 7 * 24 * 3600;

/** `YYMMDDHHMMSSZ` (UTCTime, valid to 2049) as `openssl ca -startdate/-enddate` want it. */
function opensslDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** `openssl ca` needs a config and a database; rand_serial gives each certificate a random serial. */
const CA_CONFIG = `[ ca ]
default_ca = devcloud
[ devcloud ]
database = index.txt
new_certs_dir = .
default_md = sha256
policy = policy_cn
unique_subject = no
email_in_dn = no
rand_serial = yes
[ policy_cn ]
commonName = supplied
`;

async function caSign(dir: string, args: string[], extensions: string[], validDays: number): Promise<void> {
  await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'ext.cnf'), extensions.join('\n') + '\n');
  const start = Date.now() - CERT_BACKDATE_SECONDS * 1000;
  const end = Date.now() + validDays * 86_400_000;
  await openssl(['ca', '-batch', '-config', 'ca.cnf', ...args, '-startdate', opensslDate(start), '-enddate', opensslDate(end), '-extfile', 'ext.cnf', '-notext', '-out', 'out.pem'], dir);
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

const CA_EXTENSIONS = ['keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always'];

/** The self-signed root CA (the device's trust anchor). */
export function createCa(keyType: KeyType, commonName = 'devcloud local root CA'): Promise<PemPair> {
  return inTempDir(async (dir) => {
    await openssl(['req', '-new', ...keyArgs(keyType), '-nodes', '-keyout', 'ca.key', '-out', 'ca.csr', '-subj', `/CN=${commonName}`], dir);
    await caSign(dir, ['-selfsign', '-keyfile', 'ca.key', '-in', 'ca.csr'], ['basicConstraints=critical,CA:TRUE', ...CA_EXTENSIONS], CA_VALIDITY_DAYS);
    return { certPem: await readFile(join(dir, 'out.pem'), 'utf8'), keyPem: await readFile(join(dir, 'ca.key'), 'utf8') };
  });
}

/** An intermediate CA signed by `root`; it signs the server and device certificates. */
export function createIntermediate(root: PemPair, keyType: KeyType, commonName = 'devcloud local intermediate CA'): Promise<PemPair> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'ca.pem'), root.certPem);
    await writeFile(join(dir, 'ca.key'), root.keyPem, { mode: 0o600 });
    await openssl(['req', '-new', ...keyArgs(keyType), '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', `/CN=${commonName}`], dir);
    await caSign(dir, ['-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'int.csr'], ['basicConstraints=critical,CA:TRUE,pathlen:0', ...CA_EXTENSIONS], CA_VALIDITY_DAYS);
    return { certPem: await readFile(join(dir, 'out.pem'), 'utf8'), keyPem: await readFile(join(dir, 'int.key'), 'utf8') };
  });
}

function sanList(hosts: readonly string[]): string {
  return hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

/** A leaf certificate signed by `ca` (the intermediate, in the dev cloud). */
export function createLeaf(ca: PemPair, keyType: KeyType, commonName: string, usage: 'server' | 'client', sans: readonly string[]): Promise<PemPair> {
  // Client certificates are named after their thing; the server's is 'devcloud'.
  if (!isThingName(commonName)) throw new DevCloudError('BAD_OPTION', `certificate common name ${JSON.stringify(commonName)} is not 1..128 characters of [A-Za-z0-9:_-]`);
  for (const h of sans) if (!isIP(h) && !isHost(h)) throw new DevCloudError('BAD_OPTION', `host name ${JSON.stringify(h)} is not a valid DNS name or IP address`);
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'ca.pem'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      `keyUsage=critical,digitalSignature${keyType === 'rsa' ? ',keyEncipherment' : ''}`,
      `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid:always',
      ...(sans.length > 0 ? [`subjectAltName=${sanList(sans)}`] : []),
    ];
    await openssl(['req', '-new', ...keyArgs(keyType), '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${commonName}`], dir);
    await caSign(dir, ['-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'leaf.csr'], ext, LEAF_VALIDITY_DAYS);
    return { certPem: await readFile(join(dir, 'out.pem'), 'utf8'), keyPem: await readFile(join(dir, 'leaf.key'), 'utf8') };
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
