// PKCS#11 tokens through OpenSC's `pkcs11-tool` (no native Node addon): keys are
// generated inside the token (EC P-256, CKA_SENSITIVE, never extractable) and
// only public keys and signatures come out.
//
// PINs never go on a command line: pkcs11-tool 0.23 reads a PIN only from
// `--pin` (visible in /proc/PID/cmdline) or from a terminal, so it runs under a
// pseudo-terminal made by python3's standard `pty` module, which reads the PIN
// from its stdin pipe and types it at the prompt once echo is off. Nothing printed by the child
// is echoed into errors beyond its last line, and the PIN is never echoed (the
// prompt turns echo off).
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Signature } from '@tufjs/models';
import { keyIdOf, type MetadataSigner, type PublicKeyJson } from '../tuf-repo/keys.js';
import { ReleaseError } from './errors.js';

/** Debian's SoftHSM2 module; any PKCS#11 module works (`--module` or RELEASE_PKCS11_MODULE). */
export const DEFAULT_PKCS11_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** One pkcs11-tool run's limit: a token that hangs fails the command instead of wedging it. */
export const TOKEN_TIMEOUT_MS = 30_000;

/** Longest PIN accepted (PKCS#11 tokens allow far less; bounds what is piped). */
export const MAX_PIN_BYTES = 128;

/** Where a key lives: token label plus the object's CKA_ID (hex). */
export interface TokenKeyRef {
  token: string;
  id: string;
}

/** A private key's protection as the token reports it. */
export interface KeyAccess {
  label: string;
  id: string;
  sensitive: boolean;
  alwaysSensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  local: boolean;
}

// Runs argv[1:] in a pseudo-terminal; the first stdin line is typed at the PIN prompt.
const PTY_PIN = `
import os, pty, select, sys, termios, time
pin = sys.stdin.buffer.readline().rstrip(b"\\n")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
sent = False
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 25)
        if not ready:
            break
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and b"PIN:" in out:
        # The prompt flushes pending input when it turns echo off: type only after that.
        for _ in range(500):
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                break
            time.sleep(0.01)
        os.write(fd, pin + b"\\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

function checkLabel(label: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(label)) throw new ReleaseError('bad-input', `bad token label ${JSON.stringify(label)}`);
  return label;
}

function checkId(id: string): string {
  if (!/^[0-9a-f]{2,64}$/.test(id)) throw new ReleaseError('bad-input', `bad key object ID ${JSON.stringify(id)}`);
  return id;
}

/** A P-256 SPKI (DER) as TUF's ecdsa-sha2-nistp256 public key. */
export function ecdsaPublicJson(spkiDer: Uint8Array): PublicKeyJson {
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ReleaseError('token', 'token key is not an EC P-256 key');
  }
  return { keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', keyval: { public: key.export({ type: 'spki', format: 'pem' }).toString() } };
}

/** Verifies a DER ECDSA-SHA256 signature (what securesystemslib's ecdsa-sha2-nistp256 expects, as hex). */
export function verifyEcdsa(pub: PublicKeyJson, data: Uint8Array, derSig: Uint8Array): boolean {
  try {
    return verify('sha256', data, { key: createPublicKey(pub.keyval.public), dsaEncoding: 'der' }, derSig);
  } catch {
    return false;
  }
}

export class Pkcs11Tool {
  /** Environment of the child (SOFTHSM2_CONF lives here), without the RELEASE_PIN_* variables. */
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly module: string = DEFAULT_PKCS11_MODULE,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.env = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('RELEASE_PIN')));
  }

  /** The reason token commands cannot run here, or false. */
  static missing(module: string = DEFAULT_PKCS11_MODULE): string | false {
    for (const [bin, why] of [
      ['pkcs11-tool', 'pkcs11-tool not found (Debian package opensc)'],
      ['python3', 'python3 not found (drives the PIN prompt)'],
    ] as const) {
      if (spawnSync(bin, ['--help'], { stdio: 'ignore', timeout: TOKEN_TIMEOUT_MS }).error) return why;
    }
    if (!existsSync(module)) return `PKCS#11 module ${module} not found (Debian package softhsm2)`;
    return false;
  }

  /** Generates a non-extractable, sensitive P-256 signing key inside the token. */
  generateKey(token: string, pin: string, label: string): { ref: TokenKeyRef; pub: PublicKeyJson; keyid: string } {
    const id = randomBytes(8).toString('hex');
    this.run(['--token-label', checkLabel(token), '--login', '--keypairgen', '--key-type', 'EC:prime256v1', '--id', id, '--label', checkLabel(label), '--usage-sign', '--sensitive', '--private'], pin);
    const ref = { token, id };
    const pub = this.publicKey(ref, pin);
    return { ref, pub, keyid: keyIdOf(pub) };
  }

  /** The public key of a token key (the public object is private too, so this logs in). */
  publicKey(ref: TokenKeyRef, pin: string): PublicKeyJson {
    return this.withTemp((dir) => {
      const out = join(dir, 'pub.der');
      this.run(['--token-label', checkLabel(ref.token), '--login', '--read-object', '--type', 'pubkey', '--id', checkId(ref.id), '--output-file', out], pin);
      return ecdsaPublicJson(readFileSync(out));
    });
  }

  /** DER ECDSA-SHA256 signature of `data`: the token signs the SHA-256 digest (plain CKM_ECDSA). */
  sign(ref: TokenKeyRef, pin: string, data: Uint8Array): Buffer {
    return this.withTemp((dir) => {
      const input = join(dir, 'digest');
      const out = join(dir, 'sig');
      writeFileSync(input, createHash('sha256').update(data).digest(), { mode: 0o600 });
      this.run(
        ['--token-label', checkLabel(ref.token), '--login', '--sign', '--mechanism', 'ECDSA', '--signature-format', 'openssl', '--id', checkId(ref.id), '--input-file', input, '--output-file', out],
        pin,
      );
      return readFileSync(out);
    });
  }

  /** Protection attributes of every private key in the token, as pkcs11-tool lists them after login. */
  privateKeys(token: string, pin: string): KeyAccess[] {
    const text = this.run(['--token-label', checkLabel(token), '--login', '--list-objects', '--type', 'privkey'], pin);
    const keys: KeyAccess[] = [];
    let cur: Partial<KeyAccess> | undefined;
    for (const line of text.split(/\r?\n/)) {
      if (/^Private Key Object/.test(line)) {
        cur = { label: '', id: '' };
        keys.push(cur as KeyAccess);
        continue;
      }
      if (!cur) continue;
      const m = /^\s+(label|ID|Access):\s*(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'label') cur.label = m[2]!.trim();
      else if (m[1] === 'ID') cur.id = m[2]!.trim();
      else {
        // pkcs11-tool names each true flag: "sensitive, always sensitive, extractable, never extractable, local".
        const flags = new Set(m[2]!.split(',').map((f) => f.trim()));
        cur.sensitive = flags.has('sensitive');
        cur.alwaysSensitive = flags.has('always sensitive');
        cur.extractable = flags.has('extractable');
        cur.neverExtractable = flags.has('never extractable');
        cur.local = flags.has('local');
      }
    }
    for (const k of keys) {
      k.sensitive ??= false;
      k.alwaysSensitive ??= false;
      k.extractable ??= false;
      k.neverExtractable ??= false;
      k.local ??= false;
    }
    return keys;
  }

  /** A signer for the TUF writer: signs through the token, checks the signature against `pub` first. */
  metadataSigner(ref: TokenKeyRef, pub: PublicKeyJson, pin: () => string): MetadataSigner {
    const keyid = keyIdOf(pub);
    return (data: Buffer) => {
      const sig = this.sign(ref, pin(), data);
      if (!verifyEcdsa(pub, data, sig)) throw new ReleaseError('token', `token ${ref.token} key ${ref.id} does not sign for key ${keyid}`);
      return new Signature({ keyID: keyid, sig: sig.toString('hex') });
    };
  }

  private withTemp<T>(fn: (dir: string) => T): T {
    const dir = mkdtempSync(join(tmpdir(), 'release-p11-'));
    try {
      return fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private run(args: string[], pin: string): string {
    if (Buffer.byteLength(pin) > MAX_PIN_BYTES || /[\r\n\0]/.test(pin) || pin === '') throw new ReleaseError('bad-input', 'PIN is empty, too long or has a line break');
    const r = spawnSync('python3', ['-c', PTY_PIN, 'pkcs11-tool', '--module', this.module, ...args], {
      input: pin + '\n',
      env: this.env,
      timeout: TOKEN_TIMEOUT_MS,
      maxBuffer: 1 << 20,
    });
    const out = r.stdout ? r.stdout.toString('utf8') : '';
    if (r.error || r.status !== 0) {
      const last = out.split(/\r?\n/).filter((l) => l.trim() !== '' && !/Please enter/.test(l)).pop() ?? String(r.error ?? `exit ${r.status}`);
      throw new ReleaseError('token', `pkcs11-tool: ${last.trim()}`);
    }
    return out;
  }
}
