// The runtime policy after TUF (src/update/policy.ts): checkTarget's refusals
// and their order, the anti-rollback counters in the KeyValuePort, and what
// the Updater reports about a verified target (its role, the keys that
// counted towards the threshold, the URL it fetches). Expected values come
// from the design (docs/updates.md, "Trust policy") and from the inputs,
// never from the code's own output.
import type { Check, PortableSuite } from '../harness/portable.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { MemoryKeyValue } from '../harness/fakes.js';
import { FUTURE, hexOf, key, keyJson, macSetup, sign, type TestKey } from '../harness/tuf-mac-repo.js';
import { utf8Bytes } from '../../src/shared/utf8.js';
import type { KeyValuePort } from '../../src/ports.js';
import {
  ANTI_ROLLBACK_KEYS,
  AntiRollbackCounters,
  checkTarget,
  MAX_BINDING_CHARS,
  MAX_PROVENANCE_FIELDS,
  MAX_PROVENANCE_VALUE_CHARS,
  MAX_TARGET_THINGS,
  TARGET_KINDS,
  TufError,
  UpdateError,
  type DevicePolicy,
  type TargetInfo,
  type TargetKind,
} from '../../src/update/index.js';

const POLICY: DevicePolicy = {
  hardwareModel: 'vdevice',
  channel: 'prod',
  thingName: 'dev-1',
  acceptKinds: ['firmware', 'config'],
  maxBytes: { firmware: 65536, config: 4096 },
  requireProvenance: [],
};

function custom(over: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = { kind: 'firmware', channel: 'prod', hardwareModel: 'vdevice', securityVersion: 5, ...over };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}
function target(c: unknown, length = 1000, path = 'firmware/prod/vdevice/agent-1.2.0.js'): TargetInfo {
  return { path, length, hashes: { sha256: '00'.repeat(32) }, custom: c, role: 'targets', signers: ['id-a'] };
}
const counters = (firmware = 0, config = 0) => ({ get: (k: TargetKind) => (k === 'firmware' ? firmware : config) });

function code(c: string) {
  return (e: unknown) => e instanceof UpdateError && e.code === c;
}
function refuses(t: Check, policy: DevicePolicy, info: TargetInfo, c: string, what: string, ctr = counters()): void {
  let got = 'none';
  try {
    checkTarget(policy, info, ctr);
  } catch (e) {
    got = e instanceof UpdateError ? e.code : `not an UpdateError: ${String(e)}`;
    // 'storage' is the device's own state, not about the target.
    if (e instanceof UpdateError && e.code !== 'storage') t.ok(e.message.includes(info.path), `${what}: the message names the target`);
  }
  t.equal(got, c, what);
}

/** A kv that counts writes and can be made to fail. */
class FaultyKv implements KeyValuePort {
  map = new Map<string, string>();
  writes = 0;
  failGet = false;
  failSet = false;
  dropSet = false;
  get(k: string) {
    if (this.failGet) throw new Error('flash read failed');
    return this.map.get(k);
  }
  set(k: string, v: string) {
    if (this.failSet) throw new Error('flash write failed');
    this.writes++;
    if (!this.dropSet) this.map.set(k, v);
  }
}

async function rejectsTuf(t: Check, p: Promise<unknown>, c: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    t.ok(e instanceof TufError && e.code === c, `${what}: expected TufError ${c}, got ${String(e)}`);
    return;
  }
  t.ok(false, `${what}: expected TufError ${c}, but it resolved`);
}

const suite: PortableSuite = () => [
  {
    name: 'a target bound to this device applies and its binding is what custom says',
    run(t) {
      t.deepEqual([...TARGET_KINDS], ['firmware', 'config']);
      const c = custom({
        things: ['dev-1', 'dev-2'],
        provenance: { sourceRevision: 'abc123', builder: 'ci', pipelineRun: 42 },
        release: { request: '20261201-0a1b2c3d', requester: 'alice' },
      });
      const b = checkTarget(POLICY, target(c), counters());
      t.deepEqual(
        { ...b, provenance: { ...b.provenance } },
        {
          kind: 'firmware', channel: 'prod', hardwareModel: 'vdevice', securityVersion: 5, things: ['dev-1', 'dev-2'],
          provenance: { sourceRevision: 'abc123', builder: 'ci', pipelineRun: 42 }, release: { request: '20261201-0a1b2c3d', requester: 'alice' },
        },
      );
      const plain = checkTarget(POLICY, target(custom({ kind: 'config' }), 10, 'config/prod/vdevice/agent.json'), counters());
      t.equal(plain.kind, 'config');
      t.equal(plain.things, null, 'no allow-list: every thing of the channel');
      t.equal(plain.provenance, null);
      t.equal(plain.release, null);
    },
  },
  {
    name: 'malformed-custom: custom missing or not an object, a field of the wrong type or over its bound, an unknown field',
    run(t) {
      const bad: Array<[unknown, string]> = [
        [undefined, 'custom missing'],
        [null, 'custom null'],
        [['kind', 'firmware'], 'custom an array'],
        ['firmware', 'custom a string'],
        [custom({ kind: 1 }), 'kind a number'],
        [custom({ channel: undefined }), 'channel missing'],
        [custom({ channel: 7 }), 'channel a number'],
        [custom({ channel: '' }), 'channel empty'],
        [custom({ channel: 'p'.repeat(MAX_BINDING_CHARS + 1) }), 'channel over MAX_BINDING_CHARS'],
        [custom({ hardwareModel: undefined }), 'hardwareModel missing'],
        [custom({ hardwareModel: ['vdevice'] }), 'hardwareModel an array'],
        [custom({ securityVersion: undefined }), 'securityVersion missing'],
        [custom({ securityVersion: -1 }), 'securityVersion negative'],
        [custom({ securityVersion: 1.5 }), 'securityVersion not an integer'],
        [custom({ securityVersion: '5' }), 'securityVersion a string'],
        [custom({ securityVersion: 2 ** 53 }), 'securityVersion not a safe integer'],
        [custom({ things: 'dev-1' }), 'things a string'],
        [custom({ things: ['dev-1', 'dev.2'] }), 'things: a name with a dot'],
        [custom({ things: [''] }), 'things: an empty name'],
        [custom({ things: [7] }), 'things: a number'],
        [custom({ things: Array.from({ length: MAX_TARGET_THINGS + 1 }, (_, i) => `dev-${i}`) }), 'things over MAX_TARGET_THINGS'],
        [custom({ provenance: 'abc' }), 'provenance a string'],
        [custom({ provenance: ['abc'] }), 'provenance an array'],
        [custom({ provenance: { builder: true } }), 'provenance: a boolean value'],
        [custom({ provenance: { builder: 1.5 } }), 'provenance: a float'],
        [custom({ provenance: { builder: { name: 'ci' } } }), 'provenance: an object value'],
        [custom({ provenance: { builder: 'x'.repeat(MAX_PROVENANCE_VALUE_CHARS + 1) } }), 'provenance: a value over its bound'],
        [custom({ provenance: Object.fromEntries(Array.from({ length: MAX_PROVENANCE_FIELDS + 1 }, (_, i) => [`f${i}`, 'v'])) }), 'provenance over MAX_PROVENANCE_FIELDS'],
        [custom({ release: 'r1' }), 'release a string'],
        [custom({ release: { request: 'r1' } }), 'release without requester'],
        [custom({ release: { request: 'r1', requester: 'alice', approvedBy: 'bob' } }), 'release with an unknown field'],
        [custom({ minBootloader: 3 }), 'an unknown custom field'],
      ];
      for (const [c, what] of bad) refuses(t, POLICY, target(c), 'malformed-custom', what);
      // The bounds themselves are accepted.
      const atBounds = custom({
        channel: 'p'.repeat(MAX_BINDING_CHARS),
        things: Array.from({ length: MAX_TARGET_THINGS - 1 }, (_, i) => `dev-${i + 2}`).concat(['dev-1']),
        provenance: Object.fromEntries(Array.from({ length: MAX_PROVENANCE_FIELDS }, (_, i) => [`f${i}`, 'x'.repeat(MAX_PROVENANCE_VALUE_CHARS)])),
        securityVersion: Number.MAX_SAFE_INTEGER,
      });
      const b = checkTarget({ ...POLICY, channel: 'p'.repeat(MAX_BINDING_CHARS) }, target(atBounds), counters());
      t.equal(b.things!.length, MAX_TARGET_THINGS);
    },
  },
  {
    name: 'unknown-kind: kind missing, not a kind at all, or one this device does not accept',
    run(t) {
      refuses(t, POLICY, target(custom({ kind: undefined })), 'unknown-kind', 'kind missing');
      refuses(t, POLICY, target(custom({ kind: 'bootloader' })), 'unknown-kind', 'kind bootloader');
      refuses(t, POLICY, target(custom({ kind: 'Firmware' })), 'unknown-kind', 'kind is case-sensitive');
      refuses(t, { ...POLICY, acceptKinds: ['firmware'] }, target(custom({ kind: 'config' })), 'unknown-kind', 'config on a firmware-only device');
      refuses(t, { ...POLICY, acceptKinds: [] }, target(custom()), 'unknown-kind', 'a device that accepts nothing');
    },
  },
  {
    name: 'wrong-hardware, wrong-channel, not-for-this-thing',
    run(t) {
      refuses(t, POLICY, target(custom({ hardwareModel: 'esp32' })), 'wrong-hardware', 'another model');
      refuses(t, POLICY, target(custom({ hardwareModel: 'VDEVICE' })), 'wrong-hardware', 'case differs');
      refuses(t, POLICY, target(custom({ channel: 'beta' })), 'wrong-channel', 'another channel');
      refuses(t, POLICY, target(custom({ things: ['dev-2', 'dev-3'] })), 'not-for-this-thing', 'an allow-list without this thing');
      refuses(t, POLICY, target(custom({ things: [] })), 'not-for-this-thing', 'an empty allow-list lists no thing');
      refuses(t, POLICY, target(custom({ things: ['DEV-1'] })), 'not-for-this-thing', 'thing names are case-sensitive');
      t.equal(checkTarget(POLICY, target(custom({ things: ['dev-1'] })), counters()).things!.length, 1);
    },
  },
  {
    name: 'too-large: a target of exactly maxBytes of its kind applies, one byte more is refused',
    run(t) {
      t.equal(checkTarget(POLICY, target(custom(), 65536), counters()).kind, 'firmware');
      refuses(t, POLICY, target(custom(), 65537), 'too-large', 'firmware over maxBytes.firmware');
      t.equal(checkTarget(POLICY, target(custom({ kind: 'config' }), 4096), counters()).kind, 'config');
      refuses(t, POLICY, target(custom({ kind: 'config' }), 4097), 'too-large', 'config over maxBytes.config (firmware would fit)');
    },
  },
  {
    name: 'missing-provenance: each required field must be a non-empty string',
    run(t) {
      const policy = { ...POLICY, requireProvenance: ['sourceRevision', 'builder'] };
      refuses(t, policy, target(custom()), 'missing-provenance', 'no provenance at all');
      refuses(t, policy, target(custom({ provenance: { sourceRevision: 'abc' } })), 'missing-provenance', 'builder absent');
      refuses(t, policy, target(custom({ provenance: { sourceRevision: 'abc', builder: '' } })), 'missing-provenance', 'builder empty');
      refuses(t, policy, target(custom({ provenance: { sourceRevision: 'abc', builder: 7 } })), 'missing-provenance', 'builder an integer');
      const b = checkTarget(policy, target(custom({ provenance: { sourceRevision: 'abc', builder: 'ci', pipelineRun: 9 } })), counters());
      t.equal(b.provenance!['builder'], 'ci');
    },
  },
  {
    name: 'security-rollback: equal to the counter of its kind applies, below refuses; the other kind\u2019s counter does not count',
    run(t) {
      t.equal(checkTarget(POLICY, target(custom({ securityVersion: 5 })), counters(5)).securityVersion, 5, 'equal applies');
      t.equal(checkTarget(POLICY, target(custom({ securityVersion: 6 })), counters(5)).securityVersion, 6, 'above applies');
      refuses(t, POLICY, target(custom({ securityVersion: 4 })), 'security-rollback', 'below refuses', counters(5));
      t.equal(checkTarget(POLICY, target(custom({ securityVersion: 0 })), counters(0)).securityVersion, 0, '0 on a new device');
      t.equal(checkTarget(POLICY, target(custom({ kind: 'config', securityVersion: 1 }), 10), counters(9, 1)).kind, 'config', 'config reads the config counter');
      refuses(t, POLICY, target(custom({ kind: 'config', securityVersion: 1 }), 10), 'security-rollback', 'config below its counter', counters(0, 2));
    },
  },
  {
    name: 'checks run in the documented order (malformed-custom, unknown-kind, wrong-hardware, wrong-channel, not-for-this-thing, too-large, missing-provenance, security-rollback)',
    run(t) {
      const policy = { ...POLICY, requireProvenance: ['builder'] };
      // Wrong in every way; fix one fault at a time and the next refusal shows.
      const c = custom({ kind: 'bootloader', hardwareModel: 'esp32', channel: 'beta', things: ['dev-9'], securityVersion: 1, minBootloader: 1 });
      const steps: Array<[string, () => void]> = [
        ['malformed-custom', () => delete c['minBootloader']],
        ['unknown-kind', () => (c['kind'] = 'firmware')],
        ['wrong-hardware', () => (c['hardwareModel'] = 'vdevice')],
        ['wrong-channel', () => (c['channel'] = 'prod')],
        ['not-for-this-thing', () => (c['things'] = ['dev-1'])],
      ];
      for (const [expected, fix] of steps) {
        refuses(t, policy, target(c, 70000), expected, `before fixing ${expected}`, counters(3));
        fix();
      }
      refuses(t, policy, target(c, 70000), 'too-large', 'too-large before provenance', counters(3));
      refuses(t, policy, target(c, 100), 'missing-provenance', 'missing-provenance before rollback', counters(3));
      c['provenance'] = { builder: 'ci' };
      refuses(t, policy, target(c, 100), 'security-rollback', 'rollback last', counters(3));
      let read = 0;
      const watching = { get: () => (read++, 0) };
      refuses(t, policy, target({ ...c, channel: 'beta' }, 100), 'wrong-channel', 'refused before the counter', watching);
      t.equal(read, 0, 'the counter is not read for a target refused earlier');
    },
  },
  {
    name: 'AntiRollbackCounters: absent is 0, raise persists per kind, never lowers, writes only when it grows',
    run(t) {
      const kv = new MemoryKeyValue();
      const c = new AntiRollbackCounters(kv);
      t.equal(c.get('firmware'), 0);
      t.equal(c.get('config'), 0);
      c.raise('firmware', 7);
      t.equal(kv.writes, 1);
      t.equal(new AntiRollbackCounters(kv).get('firmware'), 7, 'survives a new instance (reboot)');
      t.equal(c.get('config'), 0, 'kinds are independent');
      c.raise('firmware', 3);
      c.raise('firmware', 7);
      t.equal(c.get('firmware'), 7, 'raise to a lower or equal value keeps 7');
      t.equal(kv.writes, 1, 'and writes nothing');
      c.raise('firmware', 8);
      t.equal(c.get('firmware'), 8);
      t.equal(kv.map.get(ANTI_ROLLBACK_KEYS.firmware), '8', 'stored under its named key as decimal');
      t.ok(ANTI_ROLLBACK_KEYS.firmware !== ANTI_ROLLBACK_KEYS.config);
      t.throws(() => c.raise('config', -1), (e) => e instanceof RangeError, 'a negative version is a caller bug');
      t.throws(() => c.raise('config', 1.5), (e) => e instanceof RangeError);
      // The counter a checkTarget reads is the persisted one.
      refuses(t, POLICY, target(custom({ securityVersion: 7 })), 'security-rollback', 'below the persisted counter', c);
      t.equal(checkTarget(POLICY, target(custom({ securityVersion: 8 })), c).securityVersion, 8);
    },
  },
  {
    name: 'AntiRollbackCounters: garbage in the kv is the device\u2019s broken state (storage), never 0; a failing kv is storage',
    run(t) {
      for (const garbage of ['', 'abc', '-1', '01', '1.5', ' 1', '1e3', '0x10', '99999999999999999', '\u0661']) {
        const kv = new FaultyKv();
        kv.map.set(ANTI_ROLLBACK_KEYS.firmware, garbage);
        const c = new AntiRollbackCounters(kv);
        t.throws(() => c.get('firmware'), code('storage'), `stored ${JSON.stringify(garbage)}`);
        t.throws(() => c.raise('firmware', 5), code('storage'), `raise over ${JSON.stringify(garbage)}`);
        t.equal(kv.writes, 0, 'raise does not overwrite a corrupt counter');
        refuses(t, POLICY, target(custom({ securityVersion: 100 })), 'storage', `checkTarget with ${JSON.stringify(garbage)} stored`, c);
        t.equal(c.get('config'), 0, 'the other kind is unaffected');
      }
      const kv = new FaultyKv();
      const c = new AntiRollbackCounters(kv);
      kv.failGet = true;
      t.throws(() => c.get('config'), code('storage'), 'kv.get throws');
      kv.failGet = false;
      kv.failSet = true;
      t.throws(() => c.raise('config', 2), code('storage'), 'kv.set throws');
      kv.failSet = false;
      kv.dropSet = true;
      t.throws(() => c.raise('config', 2), code('storage'), 'kv.set that does not persist');
      t.equal(c.get('config'), 0);
    },
  },
  {
    name: 'signers: a target listed by targets signed by 2 of its 3 keys (threshold 2) reports exactly those 2 key IDs, sorted, and role targets',
    async run(t) {
      const [k1, k2, k3] = [key('approver-c'), key('approver-a'), key('approver-b')];
      const { repo, updater } = macSetup(undefined, undefined, (r) => {
        r.targKeys = [k1, k2, k3];
        r.targThreshold = 2;
      });
      const content = utf8Bytes('firmware 1.2.0');
      const entry = { length: content.length, hashes: { sha256: hexOf(sha256(content)) }, custom: custom() };
      repo.targSigners = [k1, k3];
      repo.publishTop({ 'firmware/prod/vdevice/agent-1.2.0.js': entry });
      const info = await updater().getTargetInfo('firmware/prod/vdevice/agent-1.2.0.js');
      t.ok(info !== null, 'listed');
      t.equal(info!.role, 'targets');
      t.deepEqual([...info!.signers], ['id-approver-b', 'id-approver-c']);
      t.equal(checkTarget(POLICY, info!, counters()).securityVersion, 5, 'custom reaches the policy through the metadata parser');
      // One approver alone (and an unknown key) is below the threshold.
      repo.targSigners = [k2, key('outsider')];
      repo.publishTop({ 'firmware/prod/vdevice/agent-1.2.0.js': entry }, { version: 2 });
      await rejectsTuf(t, updater().getTargetInfo('firmware/prod/vdevice/agent-1.2.0.js'), 'unsigned', 'one of three');
    },
  },
  {
    name: 'signers: a target listed by a delegated role reports that role and the delegated keys, not the delegator\u2019s',
    async run(t) {
      const { repo, updater } = macSetup();
      const d1 = key('fam-1');
      const d2 = key('fam-2');
      const content = utf8Bytes('config');
      const entry = { length: content.length, hashes: { sha256: hexOf(sha256(content)) }, custom: custom({ kind: 'config' }) };
      const deleg = (keys: TestKey[]) => ({
        keys: Object.fromEntries(keys.map((k) => [k.id, keyJson(k)])),
        roles: [{ name: 'vdevice-family', keyids: keys.map((k) => k.id), threshold: 1, terminating: true, paths: ['config/*/vdevice/*'] }],
      });
      repo.files.set('vdevice-family.json', sign({ _type: 'targets', spec_version: '1.0.31', version: 1, expires: FUTURE, targets: { 'config/prod/vdevice/agent.json': entry } }, [d2]));
      repo.publishTop({}, { delegations: deleg([d1, d2]), extra: { 'vdevice-family.json': { version: 1 } } });
      const info = await updater().getTargetInfo('config/prod/vdevice/agent.json');
      t.equal(info!.role, 'vdevice-family');
      t.deepEqual([...info!.signers], ['id-fam-2']);
    },
  },
  {
    name: 'targetUrl: the URL downloadTarget fetches, with the hash prefix under consistent snapshots',
    async run(t) {
      const content = utf8Bytes('firmware 2.0.0');
      const hash = hexOf(sha256(content));
      const entry = { length: content.length, hashes: { sha256: hash }, custom: custom() };
      for (const consistent of [false, true]) {
        const { repo, updater } = macSetup(undefined, undefined, (r) => (r.consistentSnapshot = consistent));
        repo.publishTop({ 'firmware/prod/vdevice/agent-2.0.0.js': entry });
        const expected = consistent ? `http://repo/t/firmware/prod/vdevice/${hash}.agent-2.0.0.js` : 'http://repo/t/firmware/prod/vdevice/agent-2.0.0.js';
        repo.files.set(expected.slice('http://repo/'.length), content);
        const u = updater();
        const info = (await u.getTargetInfo('firmware/prod/vdevice/agent-2.0.0.js'))!;
        t.equal(u.targetUrl(info), expected, `consistent_snapshot ${consistent}`);
        repo.requests.length = 0;
        t.equal((await u.downloadTarget(info)).length, content.length);
        t.deepEqual(repo.requests, [expected.slice('http://repo/'.length)], 'downloadTarget fetched exactly that URL');
      }
      const { updater } = macSetup();
      t.throws(() => updater().targetUrl(target(custom())), (e) => e instanceof TufError && e.code === 'state', 'before a refresh');
    },
  },
];

export default suite;
