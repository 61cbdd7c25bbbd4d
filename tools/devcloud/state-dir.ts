// The dev cloud's state directory (default `.devcloud/` in the working
// directory, git-ignored): the local CA, the server certificate, and the
// devices provisioned so far. Created at first start; later starts reuse it,
// so devices provisioned once keep working. The server certificate is
// re-issued (same CA) when the host names it must cover change.
//
//   ca.pem ca.der ca.key            root CA, the devices' trust anchor (keys never leave this directory)
//   intermediate.pem .der .key      intermediate CA: signs the server and device certificates
//   server.pem server.key server.json   gateway/provider certificate + the SANs it covers
//   devices/<thing>.pem .der .key .key.der .json   device certificate, key, provisioning
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { DevCloudError } from './errors.js';
import { isHost, isRegion, isRoleAlias, isThingName } from '../../src/shared/validate.js';
import { createCa, createIntermediate, createLeaf, DEVICE_KEY_TYPE, pemToDer, writeSecret, type KeyType, type PemPair } from './pki.js';

export const DEFAULT_STATE_DIR = '.devcloud';
/** Host names every server certificate covers, on top of the extra ones asked for. */
export const BASE_SERVER_HOSTS = ['127.0.0.1', 'localhost'] as const;

/**
 * What the TLS servers present, as AWS does: leaf, intermediate, root, so that
 * clients which build the chain only from what the server sends (Moddable's
 * TLS) can verify it up to their anchor.
 */
export function serverCertificateChain(pki: ServerPki): string {
  return [pki.server.certPem, pki.intermediate.certPem, pki.ca.certPem].map((p) => p.trimEnd()).join('\n') + '\n';
}

export interface ServerPki {
  /** Root CA: the trust anchor. */
  ca: PemPair;
  /** Intermediate CA (signed by the root): signs server and device certificates. */
  intermediate: PemPair;
  server: PemPair;
  /** Absolute path of the CA certificate (PEM), for clients. */
  caFile: string;
  /** Host names and addresses the server certificate covers. */
  serverHosts: string[];
}

async function readPair(dir: string, base: string): Promise<PemPair | null> {
  const cert = join(dir, `${base}.pem`);
  const key = join(dir, `${base}.key`);
  if (!existsSync(cert) || !existsSync(key)) return null;
  return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
}

async function writePair(dir: string, base: string, pair: PemPair): Promise<void> {
  await writeSecret(join(dir, `${base}.key`), pair.keyPem);
  await writeFile(join(dir, `${base}.pem`), pair.certPem);
  await writeFile(join(dir, `${base}.der`), pemToDer(pair.certPem));
}

/** The root and intermediate CAs of `dir`, created when the directory has none. */
async function loadOrCreateCas(dir: string, keyType: KeyType): Promise<{ root: PemPair; intermediate: PemPair }> {
  const root = await readPair(dir, 'ca');
  const intermediate = await readPair(dir, 'intermediate');
  if (root && intermediate) return { root, intermediate };
  if (root) {
    // A single CA without authority key identifier: a board's TLS refuses it, and re-signing would orphan its devices.
    throw new DevCloudError('STALE_STATE', `${dir} holds a CA from an older dev cloud (no intermediate CA); remove the directory and provision the devices again`);
  }
  const newRoot = await createCa(keyType);
  const newIntermediate = await createIntermediate(newRoot, keyType);
  await writePair(dir, 'ca', newRoot);
  await writePair(dir, 'intermediate', newIntermediate);
  return { root: newRoot, intermediate: newIntermediate };
}

/** Loads the CA and server certificate from `stateDir`, creating what is missing. */
export async function ensureServerPki(stateDir: string, extraHosts: readonly string[], keyType: KeyType): Promise<ServerPki> {
  const dir = resolve(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { root: ca, intermediate } = await loadOrCreateCas(dir, keyType);
  const hosts = [...new Set([...BASE_SERVER_HOSTS, ...extraHosts])];
  const metaFile = join(dir, 'server.json');
  let server = await readPair(dir, 'server');
  if (server && existsSync(metaFile)) {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { hosts?: string[] };
    const covered = new Set(meta.hosts ?? []);
    if (!hosts.every((h) => covered.has(h))) server = null;
  } else {
    server = null;
  }
  if (server === null) {
    server = await createLeaf(intermediate, keyType, 'devcloud', 'server', hosts);
    await writePair(dir, 'server', server);
    await writeFile(metaFile, JSON.stringify({ hosts }, null, 2) + '\n');
  }
  return { ca, intermediate, server, caFile: join(dir, 'ca.pem'), serverHosts: hosts };
}

export interface ProvisioningInfo {
  thingName: string;
  region: string;
  roleAlias: string;
  /** Host name or address the device connects to (must be covered by the server certificate). */
  endpoint: string;
  gatewayPort: number;
  credentialsPort: number;
  /** Signing name for HTTPS publish. */
  publishService: string;
}

export interface ProvisionedDevice {
  thingName: string;
  certFile: string;
  keyFile: string;
  provisioningFile: string;
  certPem: string;
  keyPem: string;
  provisioning: Record<string, unknown>;
}

/**
 * Writes (or rewrites) a device certificate, key and provisioning JSON for
 * `info.thingName`. The device key is RSA 2048 whatever `keyType` (which is
 * the CAs' key type, used only when the directory has no CA yet).
 */
export async function provisionDevice(stateDir: string, info: ProvisioningInfo, keyType: KeyType): Promise<ProvisionedDevice> {
  if (!isThingName(info.thingName)) throw new DevCloudError('BAD_THING_NAME', `thing name ${JSON.stringify(info.thingName)} must be 1..128 characters of [A-Za-z0-9:_-]`);
  if (!isRegion(info.region)) throw new DevCloudError('BAD_OPTION', `region ${JSON.stringify(info.region)} is not an AWS region name`);
  if (!isRoleAlias(info.roleAlias)) throw new DevCloudError('BAD_OPTION', `roleAlias ${JSON.stringify(info.roleAlias)} must be 1..128 characters of [A-Za-z0-9_=,@-]`);
  if (!isHost(info.endpoint) && !isIP(info.endpoint)) throw new DevCloudError('BAD_OPTION', `endpoint ${JSON.stringify(info.endpoint)} is not a host name or address`);
  const dir = resolve(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { root: ca, intermediate } = await loadOrCreateCas(dir, keyType);
  const devices = join(dir, 'devices');
  await mkdir(devices, { recursive: true, mode: 0o700 });
  const device = await createLeaf(intermediate, DEVICE_KEY_TYPE, info.thingName, 'client', []);
  const base = join(devices, info.thingName);
  await writeSecret(`${base}.key`, device.keyPem);
  await writeSecret(`${base}.key.der`, pemToDer(device.keyPem));
  await writeFile(`${base}.pem`, device.certPem);
  await writeFile(`${base}.der`, pemToDer(device.certPem));
  const provisioning = {
    thingName: info.thingName,
    region: info.region,
    roleAlias: info.roleAlias,
    endpoint: info.endpoint,
    gatewayPort: info.gatewayPort,
    credentialsEndpoint: info.endpoint,
    credentialsPort: info.credentialsPort,
    publishService: info.publishService,
    mqttService: 'iotdevicegateway',
    caCertificate: ca.certPem,
    certificateFile: `${base}.pem`,
    privateKeyFile: `${base}.key`,
    certificateDerFile: `${base}.der`,
    privateKeyDerFile: `${base}.key.der`,
    caDerFile: join(dir, 'ca.der'),
    /** Every certificate the device may trust (DER files): here only the dev cloud's root. */
    trustAnchorDerFiles: [join(dir, 'ca.der')],
  };
  const provisioningFile = `${base}.json`;
  await writeFile(provisioningFile, JSON.stringify(provisioning, null, 2) + '\n');
  return { thingName: info.thingName, certFile: `${base}.pem`, keyFile: `${base}.key`, provisioningFile, certPem: device.certPem, keyPem: device.keyPem, provisioning };
}
