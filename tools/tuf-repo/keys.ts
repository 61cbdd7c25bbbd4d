// Signing keys as files: generated with node:crypto, one JSON file per key
// (`<keysDir>/<keyid>.json`, mode 0600) holding the public key in TUF's form
// and the private key as PKCS#8 PEM. Nothing here prints or returns the
// private key to callers; they get key IDs and public keys only.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Signature } from '@tufjs/models';
import { canonicalJson } from './canonical-json.js';
import { TufRepoError } from './errors.js';

/** Signature schemes the writer can generate keys for (TUF spec names). */
export const KEY_TYPES = ['ed25519', 'ecdsa-sha2-nistp256', 'rsassa-pss-sha256', 'rsa-pkcs1v15-sha256'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** RSA modulus for generated keys: 3072 bits, the size python-tuf generates. */
export const RSA_KEY_BITS = 3072;

/** The public part as it appears in root.json `keys`. */
export interface PublicKeyJson {
  keytype: string;
  scheme: string;
  keyval: { public: string };
}

interface KeyFile extends PublicKeyJson {
  keyid: string;
  private: string;
}

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}

/** TUF key ID: SHA-256 of the canonical JSON of the public key object. */
export function keyIdOf(pub: PublicKeyJson): string {
  return createHash('sha256').update(canonicalJson(pub)).digest('hex');
}

function publicJson(type: KeyType, publicKey: KeyObject): PublicKeyJson {
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  switch (type) {
    case 'ed25519': {
      // TUF (and securesystemslib) carry Ed25519 public keys as 64 hex digits of the raw key.
      const der = publicKey.export({ type: 'spki', format: 'der' });
      return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: der.subarray(der.length - 32).toString('hex') } };
    }
    case 'ecdsa-sha2-nistp256':
      return { keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pem } };
    case 'rsassa-pss-sha256':
    case 'rsa-pkcs1v15-sha256':
      return { keytype: 'rsa', scheme: type, keyval: { public: pem } };
  }
}

function generatePair(type: KeyType): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (type) {
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ecdsa-sha2-nistp256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'rsassa-pss-sha256':
    case 'rsa-pkcs1v15-sha256':
      return generateKeyPairSync('rsa', { modulusLength: RSA_KEY_BITS });
  }
}

export function keyFilePath(keysDir: string, keyid: string): string {
  if (!/^[0-9a-f]{64}$/.test(keyid)) throw new TufRepoError('bad-input', `not a key ID: ${JSON.stringify(keyid)}`);
  return join(keysDir, `${keyid}.json`);
}

/** Generates a key, writes its file under `keysDir`, returns the key ID and public key. */
export function generateKey(keysDir: string, type: KeyType): { keyid: string; pub: PublicKeyJson } {
  const { publicKey, privateKey } = generatePair(type);
  const pub = publicJson(type, publicKey);
  const keyid = keyIdOf(pub);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const file: KeyFile = { keyid, ...pub, private: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  const path = keyFilePath(keysDir, keyid);
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { keyid, pub };
}

export function hasKeyFile(keysDir: string, keyid: string): boolean {
  return existsSync(keyFilePath(keysDir, keyid));
}

/** What Metadata.sign() calls with the canonical bytes of the signed part. */
export type MetadataSigner = (data: Buffer) => Signature;

/**
 * Signers that are not key files (a PKCS#11 token, say): the writer asks it first and
 * falls back to the keys directory. `signer` returns undefined for a key it does not hold.
 */
export interface KeySource {
  signer(keyid: string): MetadataSigner | undefined;
}

/** A signer for Metadata.sign(); throws `no-key` if the key file is missing or does not match its ID. */
export function fileSigner(keysDir: string, keyid: string): MetadataSigner {
  const path = keyFilePath(keysDir, keyid);
  if (!existsSync(path)) throw new TufRepoError('no-key', `no key file for ${keyid} in ${keysDir}`);
  const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  const pub: PublicKeyJson = { keytype: file.keytype, scheme: file.scheme, keyval: { public: file.keyval.public } };
  if (file.keyid !== keyid || keyIdOf(pub) !== keyid) throw new TufRepoError('no-key', `key file ${path} does not hold key ${keyid}`);
  const privateKey = createPrivateKey(file.private);
  // The private key must match the public key the file claims, or we would sign with a key nobody trusts.
  const derived = publicJson(schemeToType(file.scheme), createPublicKey(privateKey));
  if (derived.keyval.public.trim() !== pub.keyval.public.trim()) throw new TufRepoError('no-key', `key file ${path}: private key does not match its public key`);
  const scheme = schemeToType(file.scheme);
  return (data: Buffer) => new Signature({ keyID: keyid, sig: signBytes(scheme, privateKey, data).toString('hex') });
}

function schemeToType(scheme: string): KeyType {
  if (!isKeyType(scheme)) throw new TufRepoError('bad-input', `unsupported signature scheme ${scheme}`);
  return scheme;
}

function signBytes(type: KeyType, key: KeyObject, data: Buffer): Buffer {
  switch (type) {
    case 'ed25519':
      return sign(null, data, key);
    case 'ecdsa-sha2-nistp256':
      // DER-encoded (r, s), as securesystemslib signs and verifies.
      return sign('sha256', data, { key, dsaEncoding: 'der' });
    case 'rsassa-pss-sha256':
      return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    case 'rsa-pkcs1v15-sha256':
      return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
  }
}

