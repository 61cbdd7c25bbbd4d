// Writes a board's provisioning resources (the DER files boards/common/manifest.json
// names) from PEM or DER inputs, refusing a device key the board's TLS cannot
// use (src/shared/device-key.ts) before anything is written:
//   device-certificate.der   the device certificate
//   device-private-key.der   its key, PKCS#8 (RSA 2048)
//   trust-anchor-1.der ...   every CA the board trusts, in order (MAX_TRUST_ANCHORS)
//
//   node dist/tools/moddable/provision.js --cert device.pem --key device.key --out DIR
//        [--aws] [--anchor ca.pem]...
// --aws adds Amazon Root CA 1 (RSA) and Amazon Root CA 3 (P-256): AWS IoT
// endpoints may present a chain to either. They are public certificates,
// taken from AMAZON_ROOT_CA_DIR (default /etc/ssl/certs, Debian's
// ca-certificates) or downloaded by the user from https://www.amazontrust.com/repository/.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deviceKeyProblem } from '../../src/shared/device-key.js';

/** Most trust anchors a board registers (each is ~1 KiB of RAM once registered). */
export const MAX_TRUST_ANCHORS = 4;
export const AMAZON_ROOT_CA_FILES = ['Amazon_Root_CA_1.pem', 'Amazon_Root_CA_3.pem'] as const;
export const DEFAULT_AMAZON_ROOT_CA_DIR = '/etc/ssl/certs';

export class ProvisionError extends Error {
  override name = 'ProvisionError';
  constructor(
    readonly code: 'BAD_KEY' | 'BAD_CERTIFICATE' | 'MISSING_ANCHOR' | 'TOO_MANY_ANCHORS' | 'BAD_ARGS',
    message: string,
  ) {
    super(message);
  }
}

export interface BoardProvisioning {
  certificate: string | Uint8Array;
  privateKey: string | Uint8Array;
  trustAnchors: (string | Uint8Array)[];
}

function certificateDer(input: string | Uint8Array, what: string): Buffer {
  try {
    return new X509Certificate(typeof input === 'string' ? input : Buffer.from(input)).raw;
  } catch {
    throw new ProvisionError('BAD_CERTIFICATE', `${what} is not a PEM or DER X.509 certificate`);
  }
}

/** The key as PKCS#8 DER, or a ProvisionError saying why the board cannot use it (never the key itself). */
export function devicePrivateKeyDer(input: string | Uint8Array): Buffer {
  let der: Buffer;
  // A file read as bytes may still be PEM text.
  if (typeof input !== 'string' && input[0] === 0x2d) input = Buffer.from(input).toString('utf8');
  try {
    const key = typeof input === 'string' ? createPrivateKey(input) : createPrivateKey({ key: Buffer.from(input), format: 'der', type: 'pkcs8' });
    der = key.export({ type: 'pkcs8', format: 'der' });
  } catch {
    throw new ProvisionError('BAD_KEY', 'device private key: not a PEM or PKCS#8 DER private key');
  }
  const problem = deviceKeyProblem(new Uint8Array(der));
  if (problem !== null) throw new ProvisionError('BAD_KEY', `device private key: ${problem}`);
  return der;
}

/** Amazon Root CA 1 and 3 (PEM) from `dir`, or MISSING_ANCHOR naming where to get them. */
export function amazonRootCas(dir = process.env.AMAZON_ROOT_CA_DIR ?? DEFAULT_AMAZON_ROOT_CA_DIR): string[] {
  return AMAZON_ROOT_CA_FILES.map((name) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new ProvisionError('MISSING_ANCHOR', `${path} not found: install ca-certificates, or download ${name} from https://www.amazontrust.com/repository/ and set AMAZON_ROOT_CA_DIR`);
    return readFileSync(path, 'utf8');
  });
}

/** Writes the resources into `dir`; checks everything first, so a refused key leaves nothing behind. */
export function writeBoardProvisioning(dir: string, p: BoardProvisioning): string[] {
  if (p.trustAnchors.length === 0) throw new ProvisionError('MISSING_ANCHOR', 'at least one trust anchor is needed (the SDK store has no Amazon root)');
  if (p.trustAnchors.length > MAX_TRUST_ANCHORS) throw new ProvisionError('TOO_MANY_ANCHORS', `at most ${MAX_TRUST_ANCHORS} trust anchors`);
  const key = devicePrivateKeyDer(p.privateKey);
  const cert = certificateDer(p.certificate, 'device certificate');
  const anchors = p.trustAnchors.map((a, i) => certificateDer(a, `trust anchor ${i + 1}`));
  mkdirSync(dir, { recursive: true });
  const written = ['device-certificate.der', 'device-private-key.der', ...anchors.map((_, i) => `trust-anchor-${i + 1}.der`)];
  writeFileSync(join(dir, written[0]!), cert);
  writeFileSync(join(dir, written[1]!), key, { mode: 0o600 });
  anchors.forEach((a, i) => writeFileSync(join(dir, written[i + 2]!), a));
  return written;
}

export function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { cert: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, anchor: { type: 'string', multiple: true }, aws: { type: 'boolean' } } });
  if (!values.cert || !values.key || !values.out) throw new ProvisionError('BAD_ARGS', 'usage: provision --cert FILE --key FILE --out DIR [--aws] [--anchor FILE]...');
  const anchors: (string | Uint8Array)[] = [...(values.aws ? amazonRootCas() : []), ...(values.anchor ?? []).map((f) => readFileSync(f))];
  const written = writeBoardProvisioning(values.out, { certificate: readFileSync(values.cert), privateKey: readFileSync(values.key), trustAnchors: anchors });
  console.log(JSON.stringify({ dir: values.out, written }));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
}
