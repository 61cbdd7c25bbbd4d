// The device's runtime policy after TUF: "signature is not approval". A target
// that TUF verified applies only when its signed `custom` fields bind it to
// this device (kind, hardware model, channel, optionally an allow-list of
// things), it fits the staging area, it carries the provenance the policy
// requires and its security version is not below the persisted anti-rollback
// counter of its kind. Refusals are UpdateErrors whose messages name the
// target and the field; they never echo the target's values (outside data).
import { isThingName } from '../shared/validate.js';
import type { KeyValuePort } from '../ports.js';
import { UpdateError, type UpdateErrorCode } from './update-error.js';
import type { TargetInfo } from './updater.js';

export type TargetKind = 'firmware' | 'config';
export const TARGET_KINDS: readonly TargetKind[] = Object.freeze(['firmware', 'config'] as TargetKind[]);

/** Longest `channel`, `hardwareModel`, `release.request` and `release.requester` (the release tool's words have at most 64). */
export const MAX_BINDING_CHARS = 64;
/** Most entries in `custom.things` (the allow-list). */
export const MAX_TARGET_THINGS = 128;
/** Most fields in `custom.provenance`. */
export const MAX_PROVENANCE_FIELDS = 16;
/** Longest provenance field name. */
export const MAX_PROVENANCE_NAME_CHARS = 64;
/** Longest provenance string value (a pipeline run URL fits). */
export const MAX_PROVENANCE_VALUE_CHARS = 256;

export interface DevicePolicy {
  hardwareModel: string;
  channel: string;
  thingName: string;
  acceptKinds: readonly TargetKind[];
  /** Largest target of each kind this device can stage. */
  maxBytes: { firmware: number; config: number };
  /** Provenance fields that must be present as non-empty strings (e.g. ['sourceRevision', 'builder']); [] = none. */
  requireProvenance: readonly string[];
}

export interface TargetBinding {
  kind: TargetKind;
  channel: string;
  hardwareModel: string;
  securityVersion: number;
  things: readonly string[] | null;
  provenance: Readonly<Record<string, string | number>> | null;
  release: { request: string; requester: string } | null;
}

/** The custom fields a target may carry; any other field is refused (a signed field we do not understand may be a restriction we would ignore). */
const CUSTOM_FIELDS = ['kind', 'channel', 'hardwareModel', 'securityVersion', 'things', 'provenance', 'release'];
const RELEASE_FIELDS = ['request', 'requester'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses the shape and bounds of `custom`; the kind is only checked to be a string here. */
class CustomParser {
  constructor(readonly path: string) {}

  malformed(field: string, why: string): never {
    throw new UpdateError('malformed-custom', `target ${this.path}: custom${field === '' ? '' : '.' + field} ${why}`);
  }

  word(v: unknown, field: string): string {
    if (typeof v !== 'string' || v.length < 1 || v.length > MAX_BINDING_CHARS) this.malformed(field, `must be a string of 1..${MAX_BINDING_CHARS} characters`);
    return v;
  }

  onlyFields(o: Record<string, unknown>, allowed: readonly string[], field: string): void {
    // Bounded: the metadata parser bounded the file, and we stop at the first unknown name.
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      if (allowed.indexOf(k) < 0) this.malformed(field, 'has a field this device does not know');
    }
  }

  securityVersion(v: unknown): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.malformed('securityVersion', 'must be a non-negative integer');
    return v;
  }

  things(v: unknown): string[] | null {
    if (v === undefined) return null;
    if (!Array.isArray(v) || v.length > MAX_TARGET_THINGS) this.malformed('things', `must be an array of at most ${MAX_TARGET_THINGS} thing names`);
    const out: string[] = [];
    for (let i = 0; i < v.length; i++) {
      if (!isThingName(v[i])) this.malformed(`things[${i}]`, 'is not a thing name');
      out.push(v[i] as string);
    }
    return out;
  }

  provenance(v: unknown): Record<string, string | number> | null {
    if (v === undefined) return null;
    if (!isPlainObject(v)) this.malformed('provenance', 'must be an object');
    const out: Record<string, string | number> = Object.create(null);
    let n = 0;
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      if (++n > MAX_PROVENANCE_FIELDS) this.malformed('provenance', `has more than ${MAX_PROVENANCE_FIELDS} fields`);
      if (k.length < 1 || k.length > MAX_PROVENANCE_NAME_CHARS) this.malformed('provenance', `has a field name outside 1..${MAX_PROVENANCE_NAME_CHARS} characters`);
      const value = v[k];
      if (typeof value === 'string') {
        if (value.length > MAX_PROVENANCE_VALUE_CHARS) this.malformed(`provenance.${k}`, `is longer than ${MAX_PROVENANCE_VALUE_CHARS} characters`);
      } else if (!(typeof value === 'number' && Number.isSafeInteger(value))) this.malformed(`provenance.${k}`, 'must be a string or an integer');
      out[k] = value as string | number;
    }
    return out;
  }

  release(v: unknown): { request: string; requester: string } | null {
    if (v === undefined) return null;
    if (!isPlainObject(v)) this.malformed('release', 'must be an object');
    this.onlyFields(v, RELEASE_FIELDS, 'release');
    return { request: this.word(v['request'], 'release.request'), requester: this.word(v['requester'], 'release.requester') };
  }
}

/**
 * Decides whether a verified target may apply on this device. Checks, in this
 * order: malformed-custom, unknown-kind, wrong-hardware, wrong-channel,
 * not-for-this-thing, too-large, missing-provenance, security-rollback (a
 * security version equal to the counter applies: re-applying the current
 * release is not a rollback). `counters.get` is called last, so a storage
 * failure (UpdateError 'storage') surfaces only for a target that otherwise
 * applies.
 */
export function checkTarget(policy: DevicePolicy, info: TargetInfo, counters: { get(kind: TargetKind): number }): TargetBinding {
  const p = new CustomParser(info.path);
  const custom = isPlainObject(info.custom) ? info.custom : p.malformed('', 'is missing or not an object');
  p.onlyFields(custom, CUSTOM_FIELDS, '');
  const kindValue = custom['kind'];
  if (kindValue !== undefined && typeof kindValue !== 'string') p.malformed('kind', 'must be a string');
  const channel = p.word(custom['channel'], 'channel');
  const hardwareModel = p.word(custom['hardwareModel'], 'hardwareModel');
  const sv = p.securityVersion(custom['securityVersion']);
  const things = p.things(custom['things']);
  const provenance = p.provenance(custom['provenance']);
  const release = p.release(custom['release']);

  const refuse = (code: UpdateErrorCode, why: string): never => {
    throw new UpdateError(code, `target ${info.path}: ${why}`);
  };
  if (kindValue === undefined) refuse('unknown-kind', 'custom.kind is missing');
  const kind = kindValue as TargetKind;
  if (TARGET_KINDS.indexOf(kind) < 0 || policy.acceptKinds.indexOf(kind) < 0) refuse('unknown-kind', 'custom.kind is not a kind this device accepts');
  if (hardwareModel !== policy.hardwareModel) refuse('wrong-hardware', `custom.hardwareModel is not this device's (${policy.hardwareModel})`);
  if (channel !== policy.channel) refuse('wrong-channel', `custom.channel is not this device's (${policy.channel})`);
  if (things !== null && things.indexOf(policy.thingName) < 0) refuse('not-for-this-thing', 'custom.things does not list this thing');
  const max = policy.maxBytes[kind];
  if (!(info.length <= max)) refuse('too-large', `length is over the ${max} bytes this device stages for ${kind}`);
  for (const field of policy.requireProvenance) {
    const value = provenance === null ? undefined : provenance[field];
    if (typeof value !== 'string' || value.length === 0) refuse('missing-provenance', `custom.provenance.${field} is required as a non-empty string`);
  }
  const counter = counters.get(kind);
  if (sv < counter) refuse('security-rollback', `custom.securityVersion is below this device's ${kind} counter (${counter})`);
  return { kind, channel, hardwareModel, securityVersion: sv, things, provenance, release };
}

/** KeyValuePort keys of the anti-rollback counters. */
export const ANTI_ROLLBACK_KEYS: Readonly<Record<TargetKind, string>> = Object.freeze({ firmware: 'update.counter.firmware', config: 'update.counter.config' });

/** A stored counter: a canonical decimal safe integer (no sign, no leading zero). */
const COUNTER_TEXT = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * Persisted anti-rollback counters, one per kind, in the KeyValuePort. An
 * absent key is 0 (a device that never applied an update). A value that is
 * not a counter is NOT read as 0: that would let any rollback through after a
 * corrupted write, and it is the device's own state that is broken, not the
 * target's fault. It is UpdateError 'storage', so nothing applies until the
 * device is re-provisioned; likewise a kv that throws. raise() never lowers
 * and writes only when the value grows (flash wear).
 */
export class AntiRollbackCounters {
  readonly #kv: KeyValuePort;

  constructor(kv: KeyValuePort) {
    this.#kv = kv;
  }

  get(kind: TargetKind): number {
    const key = ANTI_ROLLBACK_KEYS[kind];
    if (key === undefined) throw new UpdateError('unknown-kind', 'no anti-rollback counter for this kind');
    let text: string | undefined;
    try {
      text = this.#kv.get(key);
    } catch {
      throw new UpdateError('storage', `reading the ${kind} anti-rollback counter failed`);
    }
    if (text === undefined) return 0;
    const n = typeof text === 'string' && COUNTER_TEXT.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n)) throw new UpdateError('storage', `the stored ${kind} anti-rollback counter is corrupt`);
    return n;
  }

  raise(kind: TargetKind, version: number): void {
    if (!Number.isSafeInteger(version) || version < 0) throw new RangeError('an anti-rollback counter is a non-negative integer');
    if (version <= this.get(kind)) return;
    try {
      this.#kv.set(ANTI_ROLLBACK_KEYS[kind], String(version));
    } catch {
      throw new UpdateError('storage', `writing the ${kind} anti-rollback counter failed`);
    }
    if (this.get(kind) !== version) throw new UpdateError('storage', `the ${kind} anti-rollback counter did not persist`);
  }
}
