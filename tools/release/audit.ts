// The release audit log: JSON lines, append-only, hash-chained (each entry
// carries the SHA-256 of the previous entry's canonical JSON) and signed, entry
// by entry, by the tool's own key in its token. Verification says, per entry,
// whether it was edited, removed, reordered or forged (signed without the key).
// Entries carry actors, times, hashes and outcomes: never a PIN or key material.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { canonicalJson } from '../tuf-repo/canonical-json.js';
import { keyIdOf, type PublicKeyJson } from '../tuf-repo/keys.js';
import { ReleaseError } from './errors.js';
import { verifyEcdsa } from './token.js';

export const AUDIT_EVENTS = [
  'key-generated',
  'ceremony-init',
  'request',
  'approval',
  'refusal',
  'publish',
  'root-rotation',
  'key-revocation',
  'approver-added',
  'emergency',
  'review',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** Largest audit log verify reads (bounds memory; a log this big is archived and restarted). */
export const MAX_AUDIT_BYTES = 64 * 1024 * 1024;

export const GENESIS_PREV = '0'.repeat(64);

export interface AuditFields {
  event: AuditEvent;
  actor: string;
  outcome: 'ok' | 'refused';
  request?: string;
  artifactSha256?: string;
  channel?: string;
  keyid?: string;
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends AuditFields {
  seq: number;
  time: string;
  prev: string;
  signer: string;
  sig: string;
}

export type AuditProblemKind = 'malformed' | 'edited' | 'forged' | 'removed' | 'reordered' | 'duplicate';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** 1-based line in the file (0 when the entry is missing altogether). */
  line: number;
  seq?: number;
  message: string;
}

export interface AuditReport {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
  /** Emergency releases without a later review entry. */
  openEmergencies: string[];
}

function entryHash(e: AuditEntry): string {
  return createHash('sha256').update(canonicalJson(e)).digest('hex');
}

function signedPart(e: AuditEntry): Omit<AuditEntry, 'sig'> {
  const { sig: _sig, ...rest } = e;
  return rest;
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  if (text.length > MAX_AUDIT_BYTES) throw new ReleaseError('audit', `audit log ${path} is larger than ${MAX_AUDIT_BYTES} bytes`);
  return text.split('\n').filter((l) => l !== '');
}

export class AuditLog {
  constructor(
    readonly path: string,
    private readonly pub: PublicKeyJson,
    /** DER ECDSA signature by the tool's key (in its token). */
    private readonly sign: (data: Uint8Array) => Uint8Array,
    private readonly now: () => Date,
  ) {}

  /** Appends one entry chained to the last one; refuses to extend a log whose last line is not ours. */
  append(fields: AuditFields): AuditEntry {
    const lines = readLines(this.path);
    let seq = 1;
    let prev = GENESIS_PREV;
    const lastLine = lines[lines.length - 1];
    if (lastLine !== undefined) {
      const last = parseEntry(lastLine);
      if (!last || !entrySignedBy(last, this.pub)) throw new ReleaseError('audit', `the last entry of ${this.path} is not signed by the tool's key: run audit verify`);
      seq = last.seq + 1;
      prev = entryHash(last);
    }
    const entry = { seq, time: this.now().toISOString(), ...fields, prev, signer: keyIdOf(this.pub), sig: '' } as AuditEntry;
    entry.sig = Buffer.from(this.sign(Buffer.from(canonicalJson(signedPart(entry))))).toString('hex');
    appendFileSync(this.path, JSON.stringify(entry) + '\n', { mode: 0o644 });
    return entry;
  }
}

function parseEntry(line: string): AuditEntry | undefined {
  try {
    const e = JSON.parse(line) as AuditEntry;
    if (!e || typeof e !== 'object' || !Number.isSafeInteger(e.seq) || e.seq < 1 || typeof e.prev !== 'string' || typeof e.sig !== 'string' || typeof e.signer !== 'string') return undefined;
    if (!(AUDIT_EVENTS as readonly string[]).includes(e.event)) return undefined;
    canonicalJson(e);
    return e;
  } catch {
    return undefined;
  }
}

function entrySignedBy(e: AuditEntry, pub: PublicKeyJson): boolean {
  if (e.signer !== keyIdOf(pub) || !/^[0-9a-f]+$/.test(e.sig)) return false;
  return verifyEcdsa(pub, Buffer.from(canonicalJson(signedPart(e))), Buffer.from(e.sig, 'hex'));
}

export function readAudit(path: string): AuditEntry[] {
  return readLines(path).flatMap((l) => parseEntry(l) ?? []);
}

/** Checks signatures, sequence and chain; each problem names its entry and what happened to it. */
export function verifyAudit(path: string, pub: PublicKeyJson): AuditReport {
  const lines = readLines(path);
  const problems: AuditProblem[] = [];
  const parsed = lines.map((l, i) => ({ line: i + 1, entry: parseEntry(l) }));
  const bySeq = new Map<number, { line: number; entry: AuditEntry; hash: string; valid: boolean }>();
  let maxSeq = 0;
  for (const { line, entry } of parsed) {
    if (!entry) {
      problems.push({ kind: 'malformed', line, message: `line ${line} is not an audit entry` });
      continue;
    }
    if (entry.seq <= maxSeq) {
      problems.push({ kind: bySeq.has(entry.seq) ? 'duplicate' : 'reordered', line, seq: entry.seq, message: `line ${line}: entry ${entry.seq} comes after entry ${maxSeq}` });
    }
    maxSeq = Math.max(maxSeq, entry.seq);
    if (!bySeq.has(entry.seq)) bySeq.set(entry.seq, { line, entry, hash: entryHash(entry), valid: entrySignedBy(entry, pub) });
  }
  for (let s = 1; s <= maxSeq; s++) {
    if (!bySeq.has(s)) problems.push({ kind: 'removed', line: 0, seq: s, message: `entry ${s} is missing` });
  }
  for (const [seq, cur] of bySeq) {
    const next = bySeq.get(seq + 1);
    if (!cur.valid) {
      // The next entry was chained to what the tool wrote: if that is not this, this was changed afterwards.
      const edited = next !== undefined && next.valid && next.entry.prev !== cur.hash;
      problems.push(
        edited
          ? { kind: 'edited', line: cur.line, seq, message: `entry ${seq} (line ${cur.line}) was edited: its signature and the next entry's chain hash do not match it` }
          : { kind: 'forged', line: cur.line, seq, message: `entry ${seq} (line ${cur.line}) is not signed by the tool's key ${keyIdOf(pub)}` },
      );
      continue;
    }
    const before = bySeq.get(seq - 1);
    const expectedPrev = seq === 1 ? GENESIS_PREV : before?.hash;
    if (expectedPrev !== undefined && cur.entry.prev !== expectedPrev && (seq === 1 || before!.valid)) {
      problems.push({ kind: 'removed', line: cur.line, seq, message: `entry ${seq} (line ${cur.line}) is not chained to entry ${seq - 1}: an entry was replaced or removed` });
    }
  }
  problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || a.line - b.line);
  const entries = parsed.flatMap((p) => p.entry ?? []);
  const reviewed = new Set(entries.filter((e) => e.event === 'review' && e.request).map((e) => e.request!));
  const openEmergencies = entries.filter((e) => e.event === 'emergency' && e.outcome === 'ok' && e.request && !reviewed.has(e.request)).map((e) => e.request!);
  const head = bySeq.get(maxSeq);
  return { ok: problems.length === 0, entries: lines.length, head: head ? { seq: maxSeq, hash: head.hash } : null, problems, openEmergencies };
}

/** One readable line per entry. */
export function formatAudit(entries: AuditEntry[]): string[] {
  return entries.map((e) => {
    const parts = [`#${e.seq}`, e.time, e.event, e.outcome, `actor=${e.actor}`];
    if (e.request) parts.push(`request=${e.request}`);
    if (e.channel) parts.push(`channel=${e.channel}`);
    if (e.artifactSha256) parts.push(`sha256=${e.artifactSha256}`);
    if (e.keyid) parts.push(`key=${e.keyid.slice(0, 16)}`);
    if (e.detail) parts.push(JSON.stringify(e.detail));
    return parts.join('  ');
  });
}
