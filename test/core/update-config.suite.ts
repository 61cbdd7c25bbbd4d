// Config bundles (src/update/config-bundle.ts): what a signed config target
// may set (free fields within the agent config's ranges, tighten-only
// limits), what is refused, and the applied record kept in the KeyValuePort
// with its last good predecessor. The ranges are checked against
// parseAgentConfig itself, so the bundle cannot accept what the agent would not.
import type { Check, PortableSuite } from '../harness/portable.js';
import { MemoryKeyValue } from '../harness/fakes.js';
import { parseAgentConfig } from '../../src/agent.js';
import * as bounds from '../../src/shared/config-bounds.js';
import { utf8Bytes } from '../../src/shared/utf8.js';
import type { KeyValuePort } from '../../src/ports.js';
import {
  CONFIG_RECORD_KEYS,
  ConfigStore,
  effectiveLimits,
  MAX_CONFIG_BUNDLE_BYTES,
  parseConfigBundle,
  UpdateError,
  type AppliedConfig,
  type CompiledLimits,
} from '../../src/update/index.js';

const COMPILED: CompiledLimits = { sampleIntervalMs: 60_000, healthIntervalMs: 60_000, minSources: 2, maxBoundMs: 60_000, phiPpm: 50 };

const json = (o: unknown) => utf8Bytes(JSON.stringify(o));
function code(c: string) {
  return (e: unknown) => e instanceof UpdateError && e.code === c;
}
function refuses(t: Check, bytes: Uint8Array, c: string, what: string, compiled = COMPILED): void {
  let got = 'none';
  try {
    parseConfigBundle(bytes, compiled);
  } catch (e) {
    got = e instanceof UpdateError ? e.code : `not an UpdateError: ${String(e)}`;
  }
  t.equal(got, c, what);
}

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SHA_C = 'c'.repeat(64);
const record = (target: string, sha256: string, securityVersion: number, overlay = {}): AppliedConfig => ({ overlay, target, sha256, securityVersion });

/** The config slot whose stored text mentions `target`. */
function slotOf(kv: MemoryKeyValue, target: string): string {
  const k = CONFIG_RECORD_KEYS.find((key) => (kv.map.get(key) ?? '').includes(target));
  if (k === undefined) throw new Error(`no slot holds ${target}`);
  return k;
}

class ThrowingKv implements KeyValuePort {
  constructor(readonly inner: MemoryKeyValue, public failGet = false, public failSet = false) {}
  get(k: string) {
    if (this.failGet) throw new Error('flash read failed');
    return this.inner.get(k);
  }
  set(k: string, v: string) {
    if (this.failSet) throw new Error('flash write failed');
    this.inner.set(k, v);
  }
}

function agentConfig(over: Record<string, unknown>): Record<string, unknown> {
  return {
    thingName: 'dev-1', region: 'us-east-1', roleAlias: 'telemetry-role',
    dataEndpoint: { host: 'a1b2c3-ats.iot.us-east-1.amazonaws.com', port: 443 },
    credentialsEndpoint: { host: 'c2abc.credentials.iot.us-east-1.amazonaws.com' },
    timeServers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6', '192.0.2.7', '192.0.2.8'],
    buildTimeMs: Date.UTC(2026, 10, 22),
    ...over,
  };
}
function agentAccepts(field: string, value: number): boolean {
  try {
    parseAgentConfig(agentConfig({ [field]: value }));
    return true;
  } catch {
    return false;
  }
}

const suite: PortableSuite = () => [
  {
    name: 'a bundle may set free fields to any value the agent accepts and tighten-only limits to the compiled value or stricter',
    run(t) {
      t.deepEqual(parseConfigBundle(json({}), COMPILED), {}, 'an empty bundle sets nothing');
      const all = { sampleIntervalMs: 10, healthIntervalMs: 0, minSources: 2, maxBoundMs: 60_000, phiPpm: 50 };
      t.deepEqual(parseConfigBundle(json(all), COMPILED), all, 'free fields lower than compiled, limits equal');
      const stricter = { sampleIntervalMs: 86_400_000, minSources: 8, maxBoundMs: 1, phiPpm: 100_000 };
      t.deepEqual(parseConfigBundle(json(stricter), COMPILED), stricter, 'limits at the strict end');
      t.deepEqual(parseConfigBundle(utf8Bytes(' { "phiPpm" : 50.5 } \n'), COMPILED), { phiPpm: 50.5 }, 'whitespace and a fractional ppm');
    },
  },
  {
    name: 'loosens-limit: each tighten-only field one step looser than compiled is refused',
    run(t) {
      refuses(t, json({ minSources: 1 }), 'loosens-limit', 'minSources below compiled');
      refuses(t, json({ maxBoundMs: 60_001 }), 'loosens-limit', 'maxBoundMs above compiled');
      refuses(t, json({ maxBoundMs: 60_000.5 }), 'loosens-limit', 'maxBoundMs a fraction above compiled');
      refuses(t, json({ phiPpm: 49.9 }), 'loosens-limit', 'phiPpm below compiled');
      refuses(t, json({ sampleIntervalMs: 1000, phiPpm: 0 }), 'loosens-limit', 'a valid free field does not excuse a loosened limit');
      refuses(t, json({ phiPpm: 60 }), 'loosens-limit', 'a compiled limit that is not a number refuses', { ...COMPILED, phiPpm: NaN });
    },
  },
  {
    name: 'malformed-config: not UTF-8, not a JSON object, nested, an unknown field, a value the agent config refuses',
    run(t) {
      const cases: Array<[Uint8Array, string]> = [
        [new Uint8Array([0x7b, 0x7d, 0xff]), 'not UTF-8'],
        [utf8Bytes('{"phiPpm": 60'), 'truncated JSON'],
        [utf8Bytes(''), 'empty'],
        [json([]), 'an array'],
        [json('phiPpm'), 'a string'],
        [json(null), 'null'],
        [json(5), 'a number'],
        [json({ phiPpm: [60] }), 'a nested array'],
        [utf8Bytes('['.repeat(2000) + ']'.repeat(2000)), 'deep nesting'],
        [json({ maxTickStepMs: 5 }), 'a known agent field a bundle may not set'],
        [json({ phiPPM: 60 }), 'a field name in another case'],
        [utf8Bytes('{"__proto__": 1, "phiPpm": 60}'), 'a field named __proto__'],
        [json({ sampleIntervalMs: 9 }), 'sampleIntervalMs below 10'],
        [json({ sampleIntervalMs: 86_400_001 }), 'sampleIntervalMs above a day'],
        [json({ sampleIntervalMs: '60000' }), 'sampleIntervalMs a string'],
        [json({ sampleIntervalMs: null }), 'sampleIntervalMs null'],
        [json({ healthIntervalMs: -1 }), 'healthIntervalMs negative'],
        [json({ minSources: 2.5 }), 'minSources not an integer'],
        [json({ minSources: 9 }), 'minSources above the most time servers'],
        [json({ maxBoundMs: 0 }), 'maxBoundMs 0'],
        [json({ phiPpm: 100_001 }), 'phiPpm above its range'],
        [json({ phiPpm: true }), 'phiPpm a boolean'],
      ];
      for (const [bytes, what] of cases) refuses(t, bytes, 'malformed-config', what);
      refuses(t, utf8Bytes('{"minSources": 1, "colour": 1}'), 'malformed-config', 'an unknown field is malformed even beside a loosened limit');
    },
  },
  {
    name: 'too-large: a bundle of MAX_CONFIG_BUNDLE_BYTES applies, one byte more is refused before it is parsed',
    run(t) {
      const body = '{"phiPpm":60}';
      const exact = utf8Bytes(body + ' '.repeat(MAX_CONFIG_BUNDLE_BYTES - body.length));
      t.equal(exact.length, MAX_CONFIG_BUNDLE_BYTES);
      t.deepEqual(parseConfigBundle(exact, COMPILED), { phiPpm: 60 });
      refuses(t, utf8Bytes(body + ' '.repeat(MAX_CONFIG_BUNDLE_BYTES + 1 - body.length)), 'too-large', 'one byte over');
      refuses(t, new Uint8Array(MAX_CONFIG_BUNDLE_BYTES + 1).fill(0xff), 'too-large', 'over and not even UTF-8');
    },
  },
  {
    name: 'the ranges a bundle accepts are exactly the ones parseAgentConfig accepts',
    run(t) {
      const ranges: Array<[string, number, number, number]> = [
        ['sampleIntervalMs', bounds.MIN_SAMPLE_INTERVAL_MS, bounds.MAX_SAMPLE_INTERVAL_MS, 0.5],
        ['healthIntervalMs', bounds.MIN_HEALTH_INTERVAL_MS, bounds.MAX_HEALTH_INTERVAL_MS, 0.5],
        ['minSources', bounds.MIN_MIN_SOURCES, bounds.MAX_MIN_SOURCES, 1],
        ['maxBoundMs', bounds.MIN_MAX_BOUND_MS, bounds.MAX_MAX_BOUND_MS, 0.5],
        ['phiPpm', bounds.MIN_PHI_PPM, bounds.MAX_PHI_PPM, 0.5],
      ];
      // Compiled limits that allow the whole range in both directions.
      const open: CompiledLimits = { sampleIntervalMs: 1000, healthIntervalMs: 1000, minSources: bounds.MIN_MIN_SOURCES, maxBoundMs: bounds.MAX_MAX_BOUND_MS, phiPpm: bounds.MIN_PHI_PPM };
      const bundleAccepts = (field: string, value: number) => {
        try {
          parseConfigBundle(json({ [field]: value }), open);
          return true;
        } catch {
          return false;
        }
      };
      for (const [field, min, max, step] of ranges) {
        for (const value of [min - step, min, max, max + step]) {
          t.equal(bundleAccepts(field, value), agentAccepts(field, value), `${field} = ${value}`);
        }
        t.ok(agentAccepts(field, min) && agentAccepts(field, max) && !agentAccepts(field, min - step) && !agentAccepts(field, max + step), `${field}: the agent's range is [${min}, ${max}]`);
      }
    },
  },
  {
    name: 'effectiveLimits: free fields from the overlay, tighten-only ones the stricter of overlay and compiled',
    run(t) {
      t.deepEqual(effectiveLimits(COMPILED, null), COMPILED);
      t.deepEqual(effectiveLimits(COMPILED, { sampleIntervalMs: 5000, minSources: 3, maxBoundMs: 1000, phiPpm: 80 }), { sampleIntervalMs: 5000, healthIntervalMs: 60_000, minSources: 3, maxBoundMs: 1000, phiPpm: 80 });
      // A newer firmware compiled stricter than a stored overlay: the firmware wins.
      t.deepEqual(effectiveLimits({ ...COMPILED, minSources: 4, maxBoundMs: 500, phiPpm: 200 }, { minSources: 3, maxBoundMs: 1000, phiPpm: 80 }), { ...COMPILED, minSources: 4, maxBoundMs: 500, phiPpm: 200 });
    },
  },
  {
    name: 'ConfigStore: each apply is one kv write; the previous record becomes last good; it survives a new instance',
    run(t) {
      const kv = new MemoryKeyValue();
      const s = new ConfigStore(kv);
      t.equal(s.current(), null);
      t.equal(s.lastGood(), null);
      const a = record('config/prod/vdevice/a.json', SHA_A, 1, { sampleIntervalMs: 5000 });
      const b = record('config/prod/vdevice/b.json', SHA_B, 2, { phiPpm: 80, minSources: 3 });
      const c = record('config/prod/vdevice/c.json', SHA_C, 2, {});
      s.apply(a);
      t.equal(kv.writes, 1);
      t.deepEqual(s.current(), a);
      t.equal(s.lastGood(), null);
      s.apply(b);
      t.equal(kv.writes, 2);
      t.deepEqual(s.current(), b);
      t.deepEqual(s.lastGood(), a);
      s.apply(c);
      t.equal(kv.writes, 3);
      const again = new ConfigStore(kv);
      t.deepEqual(again.current(), c, 'after a reboot');
      t.deepEqual(again.lastGood(), b);
    },
  },
  {
    name: 'ConfigStore: a corrupt or torn current record is ignored and the last good one is current; apply then keeps it as last good',
    run(t) {
      const kv = new MemoryKeyValue();
      const s = new ConfigStore(kv);
      const a = record('config/prod/vdevice/a.json', SHA_A, 1, { sampleIntervalMs: 5000 });
      const b = record('config/prod/vdevice/b.json', SHA_B, 2, { phiPpm: 80 });
      s.apply(a);
      s.apply(b);
      const slotB = slotOf(kv, 'b.json');
      const good = kv.map.get(slotB)!;
      const corruptions: Array<[string, string]> = [
        [good.replace('"phiPpm":80', '"phiPpm":10'), 'a changed value (checksum)'],
        [good.slice(0, good.length - 7), 'a torn write'],
        ['', 'an empty value'],
        ['garbage', 'garbage'],
        ['x'.repeat(5000), 'a huge value'],
      ];
      for (const [bad, what] of corruptions) {
        kv.map.set(slotB, bad);
        t.deepEqual(s.current(), a, `${what}: the last good record is current`);
        t.equal(s.lastGood(), null, `${what}: nothing older`);
      }
      const c = record('config/prod/vdevice/c.json', SHA_C, 3, { maxBoundMs: 1000 });
      s.apply(c);
      t.deepEqual(s.current(), c);
      t.deepEqual(s.lastGood(), a, 'the corrupt record is not kept');
      t.equal(slotOf(kv, 'c.json'), slotB, 'the new record went over the corrupt slot, not over the last good one');
      for (const k of CONFIG_RECORD_KEYS) kv.map.set(k, '{}');
      t.equal(s.current(), null, 'both corrupt: no applied config (the compiled one rules)');
    },
  },
  {
    name: 'ConfigStore: an invalid record is refused without a write; a failing kv is storage',
    run(t) {
      const kv = new MemoryKeyValue();
      const s = new ConfigStore(kv);
      const bad: Array<[AppliedConfig, string]> = [
        [record('', SHA_A, 1), 'empty target'],
        [record('x'.repeat(257), SHA_A, 1), 'target over its bound'],
        [record('t', 'A'.repeat(64), 1), 'uppercase hash'],
        [record('t', 'a'.repeat(63), 1), 'short hash'],
        [record('t', SHA_A, -1), 'negative security version'],
        [record('t', SHA_A, 1, { colour: 1 }), 'unknown overlay field'],
        [record('t', SHA_A, 1, { phiPpm: -5 }), 'overlay value out of range'],
      ];
      for (const [r, what] of bad) t.throws(() => s.apply(r), code('malformed-config'), what);
      t.equal(kv.writes, 0);
      const failing = new ThrowingKv(kv, false, true);
      t.throws(() => new ConfigStore(failing).apply(record('t', SHA_A, 1)), code('storage'), 'kv.set throws');
      failing.failGet = true;
      t.throws(() => new ConfigStore(failing).current(), code('storage'), 'kv.get throws');
      const dropping: KeyValuePort = { get: () => undefined, set: () => undefined };
      t.throws(() => new ConfigStore(dropping).apply(record('t', SHA_A, 1)), code('storage'), 'a write that does not persist');
    },
  },
];

export default suite;
