// `release` command line (bin/release.js). Results are one JSON line on stdout;
// what an approver is shown goes to stderr. PINs come from the environment
// (RELEASE_PIN_<TOKEN LABEL>) or $RELEASE_PIN_DIR/<label>, never from arguments.
import { invokedDirectly } from '../cli-entry.js';
import { parseArgs } from 'node:util';
import { TufRepoError } from '../tuf-repo/errors.js';
import { parseDuration } from '../tuf-repo/cli.js';
import { formatAudit, readAudit, verifyAudit } from './audit.js';
import { ReleaseError } from './errors.js';
import { pinEnvName, Release, type ReleaseDeps } from './release.js';

const USAGE = `usage: release COMMAND --state DIR [options]        (PIN of token L: env RELEASE_PIN_<L> or file $RELEASE_PIN_DIR/L)
  init      --root-token L --root-token L ... --root-threshold N
            --approver NAME=L ... --targets-threshold N --audit-token L [--approval-window 1h] [--actor NAME]
  request   --artifact FILE --kind firmware|config --channel C --hardware H --security-version N
            [--provenance FILE] [--requester NAME] [--name TARGET]
  show      REQ
  approve   REQ --token L [--expect-sha256 HEX]
  publish   REQ [--actor NAME]
  emergency REQ --reason TEXT --root-token L --root-token L ... [--actor NAME]
  review    REQ --reviewer NAME --note TEXT
  root rotate  [--add-root-token L]... [--remove KEYID]... [--root-threshold N] [--actor NAME]
  key add-approver NAME=L [--targets-threshold N]
  key revoke   KEYID [--replace-with NAME=L] [--actor NAME]
  keys                      the key registry (public keys and where each key lives)
  token check --token L     the token's private keys: sensitive / extractable flags
  audit verify [--expect-key KEYID]
  audit show
Module: --module PATH or RELEASE_PKCS11_MODULE (default SoftHSM2's).`;

const OPTIONS = {
  state: { type: 'string' },
  module: { type: 'string' },
  'root-token': { type: 'string', multiple: true },
  'root-threshold': { type: 'string' },
  approver: { type: 'string', multiple: true },
  'targets-threshold': { type: 'string' },
  'audit-token': { type: 'string' },
  'approval-window': { type: 'string' },
  actor: { type: 'string' },
  artifact: { type: 'string' },
  kind: { type: 'string' },
  channel: { type: 'string' },
  hardware: { type: 'string' },
  'security-version': { type: 'string' },
  provenance: { type: 'string' },
  requester: { type: 'string' },
  name: { type: 'string' },
  token: { type: 'string' },
  'expect-sha256': { type: 'string' },
  reason: { type: 'string' },
  reviewer: { type: 'string' },
  note: { type: 'string' },
  'add-root-token': { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
  'replace-with': { type: 'string' },
  'expect-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

function bad(message: string): never {
  throw new ReleaseError('bad-input', message);
}

function int(s: string | undefined, what: string): number {
  if (s === undefined || !/^[0-9]{1,9}$/.test(s)) bad(`${what}: not a whole number: ${JSON.stringify(s)}`);
  return Number(s);
}

function nameToken(s: string, what: string): { name: string; token: string } {
  const eq = s.indexOf('=');
  if (eq <= 0 || eq === s.length - 1) bad(`${what} wants NAME=TOKEN, not ${JSON.stringify(s)}`);
  return { name: s.slice(0, eq), token: s.slice(eq + 1) };
}

function run(argv: string[], io: CliIo, deps: ReleaseDeps): { result: unknown; code?: number } {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (v.help || command === undefined || command === 'help') return { result: { usage: USAGE } };
  const dir = v.state ?? bad('--state DIR is required');
  const env = deps.env ?? process.env;
  const d: ReleaseDeps = { ...deps, show: (l) => io.err(l), ...(v.module ? { module: v.module } : {}) };
  const actor = v.actor ?? env['USER'] ?? 'unknown';
  const req = (): string => rest[0] ?? bad(`${command} REQ`);

  switch (command) {
    case 'init': {
      const rel = Release.init(
        dir,
        {
          actor,
          rootTokens: v['root-token'] ?? bad('--root-token is required'),
          rootThreshold: int(v['root-threshold'], '--root-threshold'),
          approvers: (v.approver ?? bad('--approver is required')).map((s) => nameToken(s, '--approver')),
          targetsThreshold: int(v['targets-threshold'], '--targets-threshold'),
          auditToken: v['audit-token'] ?? bad('--audit-token is required'),
          ...(v['approval-window'] ? { approvalWindowSeconds: parseDuration(v['approval-window']) } : {}),
        },
        d,
      );
      const st = rel.repo().status();
      return { result: { root: st.roles.root, targets: st.roles.targets, auditKey: Object.entries(rel.keys()).find(([, k]) => k.role === 'audit')![0] } };
    }
    case 'request': {
      const r = Release.open(dir, d).request({
        artifact: v.artifact ?? bad('--artifact FILE is required'),
        kind: v.kind ?? bad('--kind is required'),
        channel: v.channel ?? bad('--channel is required'),
        hardware: v.hardware ?? bad('--hardware is required'),
        securityVersion: int(v['security-version'], '--security-version'),
        requester: v.requester ?? actor,
        ...(v.provenance ? { provenance: v.provenance } : {}),
        ...(v.name ? { name: v.name } : {}),
      });
      return { result: { request: r.id, name: r.name, sha256: r.artifact.sha256, length: r.artifact.length } };
    }
    case 'show': {
      const rel = Release.open(dir, d);
      for (const l of rel.describe(rel.loadRequest(req()))) io.out(l);
      return { result: undefined };
    }
    case 'approve': {
      const a = Release.open(dir, d).approve(req(), v.token ?? bad('--token is required'), v['expect-sha256'] ? { expectSha256: v['expect-sha256'] } : {});
      return { result: { approved: a.statement.request, approver: a.statement.approver, keyid: a.statement.keyid, validUntil: a.statement.validUntil } };
    }
    case 'publish':
      return { result: { published: req(), versions: Release.open(dir, d).publish(req(), actor) } };
    case 'emergency': {
      const versions = Release.open(dir, d).publish(req(), actor, { reason: v.reason ?? bad('--reason is required'), rootTokens: v['root-token'] ?? bad('--root-token is required') });
      return { result: { emergency: req(), versions, reviewRequired: true } };
    }
    case 'review':
      Release.open(dir, d).review(req(), v.reviewer ?? bad('--reviewer is required'), v.note ?? bad('--note is required'));
      return { result: { reviewed: req() } };
    case 'root': {
      if (rest[0] !== 'rotate') bad('root rotate');
      const root = Release.open(dir, d).rotateRoot(actor, {
        addRootTokens: v['add-root-token'] ?? [],
        removeRoot: v.remove ?? [],
        ...(v['root-threshold'] ? { rootThreshold: int(v['root-threshold'], '--root-threshold') } : {}),
      });
      return { result: { root } };
    }
    case 'key': {
      const rel = Release.open(dir, d);
      if (rest[0] === 'revoke') {
        const keyid = rest[1] ?? bad('key revoke KEYID');
        return { result: { revoked: keyid, ...rel.revoke(actor, keyid, v['replace-with'] ? nameToken(v['replace-with'], '--replace-with') : undefined) } };
      }
      if (rest[0] === 'add-approver') {
        const { name, token } = nameToken(rest[1] ?? bad('key add-approver NAME=TOKEN'), 'add-approver');
        return { result: rel.addApprover(actor, name, token, v['targets-threshold'] ? int(v['targets-threshold'], '--targets-threshold') : undefined) };
      }
      return bad('key revoke KEYID | key add-approver NAME=TOKEN');
    }
    case 'keys': {
      const out: Record<string, unknown> = {};
      for (const [k, key] of Object.entries(Release.open(dir, d).keys())) out[k] = { role: key.role, holder: key.holder, token: key.ref.token, id: key.ref.id, ...(key.revoked ? { revoked: key.revoked } : {}) };
      return { result: out };
    }
    case 'token': {
      if (rest[0] !== 'check') bad('token check --token L');
      const rel = Release.open(dir, d);
      const token = v.token ?? bad('--token is required');
      const pin = env[pinEnvName(token)] ?? bad(`no PIN for ${token}: set ${pinEnvName(token)}`);
      const keys = rel.token.privateKeys(token, pin);
      const safe = keys.every((k) => k.sensitive && k.alwaysSensitive && !k.extractable && k.neverExtractable);
      return { result: { token, keys, safe }, code: safe ? 0 : 1 };
    }
    case 'audit': {
      const rel = Release.open(dir, d);
      if (rest[0] === 'show') {
        for (const l of formatAudit(readAudit(rel.auditPath))) io.out(l);
        return { result: undefined };
      }
      if (rest[0] !== 'verify') bad('audit verify | audit show');
      const report = verifyAudit(rel.auditPath, rel.auditPub);
      const expected = v['expect-key'];
      const keyOk = expected === undefined || expected === Object.entries(rel.keys()).find(([, k]) => k.role === 'audit')![0];
      for (const p of report.problems) io.err(`audit: ${p.kind}: ${p.message}`);
      if (!keyOk) io.err(`audit: the state's audit key is not ${expected}`);
      for (const e of report.openEmergencies) io.err(`audit: emergency release ${e} has no review entry yet`);
      return { result: { ...report, ok: report.ok && keyOk }, code: !report.ok || !keyOk ? 1 : report.openEmergencies.length > 0 ? 3 : 0 };
    }
    default:
      return bad(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

/** Runs one command; returns the exit code (0 ok, 1 refused, 2 usage, 3 audit intact but an emergency awaits review). */
export function main(argv: string[], io: CliIo = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') }, deps: ReleaseDeps = {}): number {
  try {
    const { result, code } = run(argv, io, deps);
    if (result && typeof result === 'object' && 'usage' in result) io.out(String((result as { usage: string }).usage));
    else if (result !== undefined) io.out(JSON.stringify(result));
    return code ?? 0;
  } catch (e) {
    if (e instanceof ReleaseError || e instanceof TufRepoError) {
      io.err(`release: ${e.code}: ${e.message}`);
      return e.code === 'bad-input' ? 2 : 1;
    }
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`release: ${e.message}\n${USAGE}`);
      return 2;
    }
    io.err(`release: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (invokedDirectly(import.meta.url)) process.exitCode = main(process.argv.slice(2));
