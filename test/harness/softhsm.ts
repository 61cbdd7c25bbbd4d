// SoftHSM2 tokens for the release tool's tests: a private SOFTHSM2_CONF and
// token directory per test, one token (slot) per person or role, each with its
// own PIN. Tests skip with `softhsmMissing()`'s reason without softhsm2-util,
// pkcs11-tool (opensc) or the module. The PINs here are test values, passed to
// the tool only through the env object the test hands it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PKCS11_MODULE, Pkcs11Tool } from '../../tools/release/token.js';
import { pinEnvName } from '../../tools/release/release.js';

export function softhsmMissing(): string | false {
  if (spawnSync('softhsm2-util', ['--version'], { stdio: 'ignore' }).error) return 'softhsm2-util not found (Debian package softhsm2; .ci/run installs it)';
  return Pkcs11Tool.missing(DEFAULT_PKCS11_MODULE);
}

export interface Tokens {
  /** SOFTHSM2_CONF, PATH and RELEASE_PIN_<LABEL> for every token. */
  env: Record<string, string>;
  pins: Record<string, string>;
  /** The same env without any PIN: what a process that holds no token sees. */
  envWithout(labels: string[]): Record<string, string>;
}

/** Initializes one token per label under `dir` (PIN `pin-<label>-<random>`). */
export function makeTokens(dir: string, labels: string[]): Tokens {
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SOFTHSM2_CONF: conf };
  const pins: Record<string, string> = {};
  for (const label of labels) addToken(env, pins, label);
  return {
    env,
    pins,
    envWithout: (drop) => Object.fromEntries(Object.entries(env).filter(([k]) => !drop.map(pinEnvName).includes(k))),
  };
}

export function addToken(env: Record<string, string>, pins: Record<string, string>, label: string): void {
  const pin = `pin-${label}-${Math.random().toString(36).slice(2, 10)}`;
  const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `so-${pin}`], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`softhsm2-util --init-token ${label}: ${r.stderr}`);
  pins[label] = pin;
  env[pinEnvName(label)] = pin;
}

/** `release init` arguments of the tests' ceremony: root 2 of the root holders, targets 2 of the approvers (token label = approver name), the tool's own audit token, 15-minute approvals. */
export function ceremonyArgs(rootTokens: readonly string[], approvers: readonly string[]): string[] {
  return [
    'init',
    ...rootTokens.flatMap((t) => ['--root-token', t]),
    '--root-threshold', '2',
    ...approvers.flatMap((a) => ['--approver', `${a}=${a}`]),
    '--targets-threshold', '2',
    '--audit-token', 'tool',
    '--approval-window', '15m',
    '--actor', 'ceremony',
  ];
}
