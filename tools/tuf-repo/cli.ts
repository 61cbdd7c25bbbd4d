// `tuf-repo` command line (bin/tuf-repo.js, or node dist/tools/tuf-repo/cli.js).
// Every command prints one JSON line: versions, key IDs, target info. Private
// keys stay in their files and are never printed.
import { invokedDirectly } from '../cli-entry.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TufRepoError } from './errors.js';
import { isKeyType, KEY_TYPES, type KeyType } from './keys.js';
import { TOP_ROLES, TufRepo, type PublishOptions, type RoleSetup, type TopRole } from './repo.js';

const USAGE = `usage: tuf-repo COMMAND --repo DIR --keys DIR [options]
  init        [--consistent-snapshot true|false] [--key-type TYPE]
              [--role-keys ROLE=N]... [--threshold ROLE=N]... [--role-key-type ROLE=TYPE]...
              [--expires ROLE=DURATION]...
  add-target  FILE --name PATH [--custom JSON]
  remove-target --name PATH
  publish     [--expires ROLE=DURATION]... [--sign-with ROLE=KEYID[,KEYID...]]... [--bump targets|snapshot]...
  sign        the same as publish
  rotate-root [--add ROLE=TYPE]... [--remove KEYID | --remove ROLE=KEYID]... [--threshold ROLE=N]...
              [--sign-with KEYID[,KEYID...]] [--expires root=DURATION] [--no-publish]
  revoke-key  KEYID [--role ROLE] [--replace-with TYPE] [--threshold ROLE=N]... [--no-publish]
  set-expires ROLE=DURATION...
  status
ROLE: ${TOP_ROLES.join(' | ')}; TYPE: ${KEY_TYPES.join(' | ')}
DURATION: seconds, or a number with s, m, h or d (may be negative: already expired).
Keys are written to --keys DIR as <keyid>.json (mode 0600), never printed.`;

const OPTIONS = {
  repo: { type: 'string' },
  keys: { type: 'string' },
  'consistent-snapshot': { type: 'string' },
  'key-type': { type: 'string' },
  'role-keys': { type: 'string', multiple: true },
  threshold: { type: 'string', multiple: true },
  'role-key-type': { type: 'string', multiple: true },
  expires: { type: 'string', multiple: true },
  name: { type: 'string' },
  custom: { type: 'string' },
  'sign-with': { type: 'string', multiple: true },
  bump: { type: 'string', multiple: true },
  add: { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
  role: { type: 'string' },
  'replace-with': { type: 'string' },
  'no-publish': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function bad(message: string): never {
  throw new TufRepoError('bad-input', message);
}

function role(s: string): TopRole {
  if (!(TOP_ROLES as readonly string[]).includes(s)) bad(`unknown role ${JSON.stringify(s)}`);
  return s as TopRole;
}

function keyType(s: string): KeyType {
  if (!isKeyType(s)) bad(`unknown key type ${JSON.stringify(s)} (${KEY_TYPES.join(', ')})`);
  return s;
}

function pair(s: string, what: string): [TopRole, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) bad(`${what} wants ROLE=VALUE, not ${JSON.stringify(s)}`);
  return [role(s.slice(0, eq)), s.slice(eq + 1)];
}

function positiveInt(s: string, what: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(s)) bad(`${what}: not a positive integer: ${JSON.stringify(s)}`);
  return Number(s);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function parseDuration(s: string): number {
  const m = /^(-?[0-9]{1,9})([smhd]?)$/.exec(s);
  if (!m) bad(`bad duration ${JSON.stringify(s)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
}

function expiresMap(list: readonly string[] | undefined): Partial<Record<TopRole, number>> {
  const out: Partial<Record<TopRole, number>> = {};
  for (const s of list ?? []) {
    const [r, v] = pair(s, '--expires');
    out[r] = parseDuration(v);
  }
  return out;
}

function thresholdMap(list: readonly string[] | undefined): Partial<Record<TopRole, number>> {
  const out: Partial<Record<TopRole, number>> = {};
  for (const s of list ?? []) {
    const [r, v] = pair(s, '--threshold');
    out[r] = positiveInt(v, '--threshold');
  }
  return out;
}

function keyList(s: string): string[] {
  return s.split(',').filter((k) => k !== '');
}

function run(argv: string[]): unknown {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return { usage: USAGE };
  const dir = values.repo ?? bad('--repo DIR is required');
  const keysDir = values.keys ?? bad('--keys DIR is required');

  switch (command) {
    case 'init': {
      const roles: Partial<Record<TopRole, RoleSetup>> = {};
      const setup = (r: TopRole): RoleSetup => (roles[r] ??= {});
      const defaultType = values['key-type'] ? keyType(values['key-type']) : undefined;
      for (const r of TOP_ROLES) if (defaultType) setup(r).keyType = defaultType;
      for (const s of values['role-keys'] ?? []) {
        const [r, v] = pair(s, '--role-keys');
        setup(r).keys = positiveInt(v, '--role-keys');
      }
      for (const [r, t] of Object.entries(thresholdMap(values.threshold))) setup(r as TopRole).threshold = t;
      for (const s of values['role-key-type'] ?? []) {
        const [r, v] = pair(s, '--role-key-type');
        setup(r).keyType = keyType(v);
      }
      const cs = values['consistent-snapshot'];
      if (cs !== undefined && cs !== 'true' && cs !== 'false') bad('--consistent-snapshot is true or false');
      const repo = TufRepo.init(dir, { keysDir, roles, consistentSnapshot: cs !== 'false', expiresSeconds: expiresMap(values.expires) });
      return repo.status();
    }
    case 'add-target': {
      const file = rest[0] ?? bad('add-target FILE');
      const name = values.name ?? bad('--name PATH is required');
      let custom: Record<string, unknown> | undefined;
      if (values.custom !== undefined) {
        try {
          custom = JSON.parse(values.custom) as Record<string, unknown>;
        } catch {
          bad('--custom is not JSON');
        }
      }
      const staged = TufRepo.open(dir, { keysDir }).addTarget(name, readFileSync(file), custom);
      return { staged: name, ...staged };
    }
    case 'remove-target': {
      const name = values.name ?? bad('--name PATH is required');
      TufRepo.open(dir, { keysDir }).removeTarget(name);
      return { removed: name };
    }
    case 'publish':
    case 'sign': {
      const opts: PublishOptions = { expiresSeconds: expiresMap(values.expires) };
      for (const s of values['sign-with'] ?? []) {
        const [r, v] = pair(s, '--sign-with');
        if (r === 'root') bad('root is signed by rotate-root');
        (opts.signWith ??= {})[r] = keyList(v);
      }
      for (const b of values.bump ?? []) {
        if (b !== 'targets' && b !== 'snapshot') bad('--bump is targets or snapshot');
        (opts.bump ??= []).push(b);
      }
      return { published: TufRepo.open(dir, { keysDir }).publish(opts) };
    }
    case 'rotate-root': {
      const removeKeys = (values.remove ?? []).map((s) => {
        const eq = s.indexOf('=');
        return eq < 0 ? { keyid: s } : { role: role(s.slice(0, eq)), keyid: s.slice(eq + 1) };
      });
      const addKeys = (values.add ?? []).map((s) => {
        const [r, v] = pair(s, '--add');
        return { role: r, type: keyType(v) };
      });
      const root = expiresMap(values.expires).root;
      const result = TufRepo.open(dir, { keysDir }).rotateRoot({
        removeKeys,
        addKeys,
        thresholds: thresholdMap(values.threshold),
        ...(values['sign-with'] ? { signWith: values['sign-with'].flatMap(keyList) } : {}),
        ...(root !== undefined ? { expiresSeconds: root } : {}),
        publish: !values['no-publish'],
      });
      return { root: result.version, added: result.added };
    }
    case 'revoke-key': {
      const keyid = rest[0] ?? bad('revoke-key KEYID');
      const result = TufRepo.open(dir, { keysDir }).revokeKey(keyid, {
        ...(values.role ? { role: role(values.role) } : {}),
        ...(values['replace-with'] ? { replaceWith: keyType(values['replace-with']) } : {}),
        thresholds: thresholdMap(values.threshold),
        publish: !values['no-publish'],
      });
      return { root: result.version, revoked: keyid, added: result.added };
    }
    case 'set-expires': {
      const seconds: Partial<Record<TopRole, number>> = {};
      for (const s of rest) {
        const [r, v] = pair(s, 'set-expires');
        seconds[r] = parseDuration(v);
      }
      TufRepo.open(dir, { keysDir }).setExpiry(seconds);
      return { expiresSeconds: seconds };
    }
    case 'status':
      return TufRepo.open(dir, { keysDir }).status();
    default:
      bad(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

/** Runs one command; returns the exit code (0 ok, 1 refused, 2 usage). */
export function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n'), err: (line: string) => void = (l) => process.stderr.write(l + '\n')): number {
  try {
    const result = run(argv);
    if (result && typeof result === 'object' && 'usage' in result) {
      out(String((result as { usage: string }).usage));
      return 0;
    }
    out(JSON.stringify(result));
    return 0;
  } catch (e) {
    if (e instanceof TufRepoError) {
      err(`tuf-repo: ${e.code}: ${e.message}`);
      return e.code === 'bad-input' ? 2 : 1;
    }
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      err(`tuf-repo: ${e.message}\n${USAGE}`);
      return 2;
    }
    err(`tuf-repo: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (invokedDirectly(import.meta.url)) process.exitCode = main(process.argv.slice(2));
