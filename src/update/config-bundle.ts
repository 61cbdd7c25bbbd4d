// Config bundles: the settings a signed `config` target may change, and where
// the applied one is kept. A bundle is a JSON object of at most
// MAX_CONFIG_BUNDLE_BYTES of UTF-8 with only the fields below:
//   free (any value the agent config accepts): sampleIntervalMs, healthIntervalMs
//   tighten-only (never looser than the firmware's compiled limits):
//     minSources  >= compiled  (more agreeing time sources)
//     maxBoundMs  <= compiled  (a narrower trusted time interval)
//     phiPpm      >= compiled  (assume more drift: the bound grows faster)
// A signer of config can therefore make a device stricter, never weaker
// than its firmware, whose own release is governed separately.
import { crc32 } from '../shared/crc32.js';
import {
  MAX_HEALTH_INTERVAL_MS,
  MAX_MAX_BOUND_MS,
  MAX_MIN_SOURCES,
  MAX_PHI_PPM,
  MAX_SAMPLE_INTERVAL_MS,
  MIN_HEALTH_INTERVAL_MS,
  MIN_MAX_BOUND_MS,
  MIN_MIN_SOURCES,
  MIN_PHI_PPM,
  MIN_SAMPLE_INTERVAL_MS,
} from '../shared/config-bounds.js';
import { decodeUtf8, utf8Bytes } from '../shared/utf8.js';
import { integerInRange, numberInRange, type Fail } from '../shared/validate.js';
import type { KeyValuePort } from '../ports.js';
import { UpdateError } from './update-error.js';

/** Largest config bundle (bytes of UTF-8). */
export const MAX_CONFIG_BUNDLE_BYTES = 4096;
/** Longest target path kept in an applied-config record. */
export const MAX_CONFIG_TARGET_CHARS = 256;
/** Longest stored applied-config record (checksum, space, JSON); a longer one is corrupt. */
export const MAX_CONFIG_RECORD_CHARS = 1024;
/** KeyValuePort keys of the two applied-config slots (newest valid one is current, the other last good). */
export const CONFIG_RECORD_KEYS: readonly string[] = Object.freeze(['update.config.0', 'update.config.1']);

/** What a config bundle may set. Each field optional. */
export interface ConfigOverlay {
  /** Free: the telemetry sample interval. */
  sampleIntervalMs?: number;
  /** Free: the health report interval (0 = off). */
  healthIntervalMs?: number;
  /** Tighten-only: at least the compiled value. */
  minSources?: number;
  /** Tighten-only: at most the compiled value. */
  maxBoundMs?: number;
  /** Tighten-only: at least the compiled value. */
  phiPpm?: number;
}

/** The limits compiled into the firmware (the agent's parsed config), which a bundle may only tighten. */
export interface CompiledLimits {
  sampleIntervalMs: number;
  healthIntervalMs: number;
  minSources: number;
  maxBoundMs: number;
  phiPpm: number;
}

/** An applied bundle: its overlay, the target it came from, its SHA-256 (lowercase hex) and security version. */
export interface AppliedConfig {
  overlay: ConfigOverlay;
  target: string;
  sha256: string;
  securityVersion: number;
}

const OVERLAY_FIELDS = ['sampleIntervalMs', 'healthIntervalMs', 'minSources', 'maxBoundMs', 'phiPpm'];

const malformed: Fail = (path, why) => {
  throw new UpdateError('malformed-config', `${path}: ${why}`);
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks each field's type and absolute range (the agent config's); no unknown field. */
function overlayFrom(o: Record<string, unknown>, what: string): ConfigOverlay {
  for (const k in o) {
    if (Object.prototype.hasOwnProperty.call(o, k) && OVERLAY_FIELDS.indexOf(k) < 0) malformed(what, 'has a field this firmware does not know');
  }
  const out: ConfigOverlay = {};
  const at = (f: string) => `${what}.${f}`;
  if (o['sampleIntervalMs'] !== undefined) out.sampleIntervalMs = numberInRange(o['sampleIntervalMs'], at('sampleIntervalMs'), MIN_SAMPLE_INTERVAL_MS, MAX_SAMPLE_INTERVAL_MS, malformed);
  if (o['healthIntervalMs'] !== undefined) out.healthIntervalMs = numberInRange(o['healthIntervalMs'], at('healthIntervalMs'), MIN_HEALTH_INTERVAL_MS, MAX_HEALTH_INTERVAL_MS, malformed);
  if (o['minSources'] !== undefined) out.minSources = integerInRange(o['minSources'], at('minSources'), MIN_MIN_SOURCES, MAX_MIN_SOURCES, malformed);
  if (o['maxBoundMs'] !== undefined) out.maxBoundMs = numberInRange(o['maxBoundMs'], at('maxBoundMs'), MIN_MAX_BOUND_MS, MAX_MAX_BOUND_MS, malformed);
  if (o['phiPpm'] !== undefined) out.phiPpm = numberInRange(o['phiPpm'], at('phiPpm'), MIN_PHI_PPM, MAX_PHI_PPM, malformed);
  return out;
}

/**
 * True when `text` nests arrays or objects deeper than `max` (outside
 * strings). Checked before JSON.parse so a bundle of 4096 '[' cannot recurse
 * the parser deep on a small stack.
 */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses a config bundle's bytes. Throws UpdateError 'too-large' (over
 * MAX_CONFIG_BUNDLE_BYTES), 'malformed-config' (not UTF-8, not a JSON object,
 * an unknown field, a value the agent config would refuse) or 'loosens-limit'
 * (a tighten-only field looser than `compiled`).
 */
export function parseConfigBundle(bytes: Uint8Array, compiled: CompiledLimits): ConfigOverlay {
  if (bytes.length > MAX_CONFIG_BUNDLE_BYTES) throw new UpdateError('too-large', `config bundle is over ${MAX_CONFIG_BUNDLE_BYTES} bytes`);
  const text = decodeUtf8(bytes, 0, bytes.length, 'refuse');
  if (text === null) malformed('bundle', 'is not UTF-8');
  // A bundle is one flat object: nothing nests.
  if (nestsDeeperThan(text, 1)) malformed('bundle', 'nests values (a bundle is a flat object of numbers)');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    malformed('bundle', 'is not JSON');
  }
  if (!isPlainObject(json)) malformed('bundle', 'is not a JSON object');
  const o = overlayFrom(json, 'bundle');
  const loosens = (field: string, why: string): never => {
    throw new UpdateError('loosens-limit', `bundle.${field} ${why}`);
  };
  // Written as !(stricter) so a compiled value that is not a number refuses.
  if (o.minSources !== undefined && !(o.minSources >= compiled.minSources)) loosens('minSources', `is below the firmware's ${compiled.minSources}`);
  if (o.maxBoundMs !== undefined && !(o.maxBoundMs <= compiled.maxBoundMs)) loosens('maxBoundMs', `is above the firmware's ${compiled.maxBoundMs}`);
  if (o.phiPpm !== undefined && !(o.phiPpm >= compiled.phiPpm)) loosens('phiPpm', `is below the firmware's ${compiled.phiPpm}`);
  return o;
}

/**
 * The settings in force: free fields from the overlay, tighten-only ones the
 * stricter of overlay and compiled. A stored overlay is combined again at
 * each boot because a later firmware may compile stricter limits than the
 * ones the bundle was checked against.
 */
export function effectiveLimits(compiled: CompiledLimits, overlay: ConfigOverlay | null): CompiledLimits {
  const o = overlay ?? {};
  return {
    sampleIntervalMs: o.sampleIntervalMs ?? compiled.sampleIntervalMs,
    healthIntervalMs: o.healthIntervalMs ?? compiled.healthIntervalMs,
    minSources: Math.max(compiled.minSources, o.minSources ?? compiled.minSources),
    maxBoundMs: Math.min(compiled.maxBoundMs, o.maxBoundMs ?? compiled.maxBoundMs),
    phiPpm: Math.max(compiled.phiPpm, o.phiPpm ?? compiled.phiPpm),
  };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Validates a record's fields; throws 'malformed-config' naming the field. */
function recordFrom(v: unknown, what: string): AppliedConfig {
  if (!isPlainObject(v)) malformed(what, 'is not an object');
  const target = v['target'];
  if (typeof target !== 'string' || target.length < 1 || target.length > MAX_CONFIG_TARGET_CHARS) malformed(`${what}.target`, `must be a path of 1..${MAX_CONFIG_TARGET_CHARS} characters`);
  const sha256 = v['sha256'];
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) malformed(`${what}.sha256`, 'must be 64 lowercase hex digits');
  const sv = v['securityVersion'];
  if (typeof sv !== 'number' || !Number.isSafeInteger(sv) || sv < 0) malformed(`${what}.securityVersion`, 'must be a non-negative integer');
  const overlay = v['overlay'];
  if (!isPlainObject(overlay)) malformed(`${what}.overlay`, 'is not an object');
  return { overlay: overlayFrom(overlay, `${what}.overlay`), target, sha256, securityVersion: sv };
}

function hex8(n: number): string {
  const s = (n >>> 0).toString(16);
  return '00000000'.slice(s.length) + s;
}

interface Slot {
  index: number;
  seq: number;
  record: AppliedConfig;
}

/**
 * The applied config bundle in the KeyValuePort, in two slots. apply() writes
 * one slot with one kv.set (the one not holding the current record) with a
 * sequence number one above the current; the newest slot that validates
 * (CRC-32, shape, ranges) is current, the other last good. A torn or corrupt
 * write of the new record therefore leaves the previous one current: a
 * corrupt record is ignored, never an error (the compiled limits stay the
 * floor). A kv that throws is UpdateError 'storage'.
 */
export class ConfigStore {
  readonly #kv: KeyValuePort;

  constructor(kv: KeyValuePort) {
    this.#kv = kv;
  }

  #read(index: number): Slot | null {
    let text: string | undefined;
    try {
      text = this.#kv.get(CONFIG_RECORD_KEYS[index]!);
    } catch {
      throw new UpdateError('storage', 'reading the applied config failed');
    }
    if (typeof text !== 'string' || text.length > MAX_CONFIG_RECORD_CHARS || text.length < 10 || text.charCodeAt(8) !== 0x20) return null;
    const json = text.slice(9);
    if (text.slice(0, 8) !== hex8(crc32(utf8Bytes(json)))) return null;
    try {
      const v = JSON.parse(json) as unknown;
      if (!isPlainObject(v)) return null;
      const seq = v['seq'];
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null;
      return { index, seq, record: recordFrom(v, 'stored config') };
    } catch {
      return null;
    }
  }

  /** [newest valid, the other valid one or null]. */
  #slots(): [Slot | null, Slot | null] {
    const a = this.#read(0);
    const b = this.#read(1);
    if (a === null) return [b, null];
    if (b === null) return [a, null];
    return b.seq > a.seq ? [b, a] : [a, b];
  }

  current(): AppliedConfig | null {
    return this.#slots()[0]?.record ?? null;
  }

  lastGood(): AppliedConfig | null {
    return this.#slots()[1]?.record ?? null;
  }

  /** Makes `record` current and the current one last good. Throws 'malformed-config' for an invalid record, 'storage' when the kv fails. */
  apply(record: AppliedConfig): void {
    const r = recordFrom(record, 'record');
    const [newest] = this.#slots();
    const index = newest === null ? 0 : 1 - newest.index;
    const json = JSON.stringify({ seq: newest === null ? 1 : newest.seq + 1, target: r.target, sha256: r.sha256, securityVersion: r.securityVersion, overlay: r.overlay });
    const text = `${hex8(crc32(utf8Bytes(json)))} ${json}`;
    if (text.length > MAX_CONFIG_RECORD_CHARS) malformed('record', `is over ${MAX_CONFIG_RECORD_CHARS} characters stored`);
    try {
      this.#kv.set(CONFIG_RECORD_KEYS[index]!, text);
    } catch {
      throw new UpdateError('storage', 'writing the applied config failed');
    }
    const back = this.#read(index);
    if (back === null || back.record.sha256 !== r.sha256) throw new UpdateError('storage', 'the applied config did not persist');
  }
}
