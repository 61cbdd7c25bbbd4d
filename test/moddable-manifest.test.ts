// Structure of the firmware configuration: manifest.json, boards/*, and the
// ESP32 partition table. Runs everywhere (no SDK needed). Expected values come
// from the SDK's documented rules and from the hardware, not from our files:
// - mcconfig picks the first `platforms` key that equals the full platform,
//   then its `x/*` wildcard, then shorter prefixes, then "..."
//   (documentation/tools/manifest.md, "platforms");
// - ESP-IDF partition tables: app partitions aligned to 0x10000, data to
//   0x1000, no overlap, inside the 4 MiB flash of a DevKitC / NodeMCU-32S;
// - NVS names are at most 15 characters; Pico preference values at most 62
//   bytes (modPreferenceSet takes 63 bytes including the NUL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
type Json = Record<string, any>;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;
const manifest = readJson(join(root, 'manifest.json'));

/** mcconfig's platform selection, as documented: exact, `head/*`, `*\/tail`, then shorter prefixes, then "...". */
function matchPlatform(platforms: Json, full: string): Json | undefined {
  const parts = full.split('/');
  while (parts.length) {
    const partial = parts.join('/');
    for (const key of Object.keys(platforms)) {
      if (key.endsWith('/*') ? partial.startsWith(key.slice(0, -1)) : key.startsWith('*/') ? partial.endsWith(key.slice(1)) : partial === key)
        return platforms[key];
    }
    parts.pop();
  }
  return platforms['...'];
}

const supported: Record<string, string> = {
  esp32: 'boards/esp32',
  'esp32/nodemcu': 'boards/esp32-nodemcu',
  'pico/pico_w': 'boards/pico_w',
  lin: 'boards/simulator',
  mac: 'boards/simulator',
  win: 'boards/simulator',
};

test('each supported platform includes its board manifest, which exists', () => {
  for (const [platform, dir] of Object.entries(supported)) {
    const entry = matchPlatform(manifest.platforms, platform);
    assert.ok(entry, platform);
    assert.equal(entry.error, undefined, `${platform} must not be an error`);
    assert.equal(entry.include, `./${dir}/manifest.json`, platform);
    assert.ok(existsSync(join(root, dir, 'manifest.json')), `${dir}/manifest.json exists`);
  }
});

test('unsupported platforms and boards fail with a message naming what is supported', () => {
  for (const platform of ['esp', 'esp32/m5stack', 'esp32/esp32c3', 'pico', 'pico/pico_2_w', 'nrf52', 'zephyr/xiao', 'wasm']) {
    const entry = matchPlatform(manifest.platforms, platform);
    assert.ok(entry && typeof entry.error === 'string', `${platform} is an error`);
    assert.match(entry.error, /aws-device-agent/, platform);
    assert.equal(entry.include, undefined, platform);
  }
});

test('local includes and modules of manifest.json exist', () => {
  for (const inc of manifest.include as string[]) if (inc.startsWith('./')) assert.ok(existsSync(join(root, inc)), inc);
  assert.ok(existsSync(join(root, `${manifest.modules.main}.ts`)), 'the main module exists');
  assert.ok(manifest.include.includes('$(MODDABLE)/examples/manifest_base.json'));
  assert.ok(manifest.include.includes('$(MODULES)/crypt/tls.json'), 'TLS is built in');
});

test('preloaded adapter modules keep no mutable state at module top level', () => {
  const dir = join(root, 'src', 'platform', 'moddable');
  const offenders: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    readFileSync(join(dir, f), 'utf8').split('\n').forEach((line, i) => {
      if (/^(export\s+)?(let|var)\s/.test(line)) offenders.push(`${f}:${i + 1}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('common config disables the SDK setup SNTP and lists at least three time servers', () => {
  const common = readJson(join(root, 'boards', 'common', 'manifest.json')).config;
  // The SDK's setup/network would otherwise set the clock from one unauthenticated SNTP reply.
  assert.equal(common.sntp, '');
  const servers = String(common.timeServers).split(',');
  assert.ok(servers.length >= 3, 'a majority needs three independent servers');
  assert.equal(common.timeServerPort, 123);
  for (const key of ['ssid', 'password', 'awsRegion', 'iotEndpoint', 'credentialsEndpoint', 'roleAlias', 'thingName'])
    assert.equal(common[key], '', `${key} is provisioned, not committed`);
});

const boards = ['esp32', 'esp32-nodemcu', 'pico_w', 'simulator'];

test('each board has creation sizes and a valid board config', () => {
  for (const b of boards) {
    const m = readJson(join(root, 'boards', b, 'manifest.json'));
    assert.ok(m.include.includes('./agent.json'), `${b} includes its agent.json`);
    const c = m.creation;
    for (const v of [c.static, c.chunk.initial, c.heap.initial, c.stack]) assert.ok(Number.isInteger(v) && v >= 0, `${b} creation`);
    assert.ok(c.static > 0 || c.chunk.initial >= 64 * 1024, `${b}: TLS needs a chunk heap of 64 KiB or more`);
    const board = readJson(join(root, 'boards', b, 'agent.json')).config.board;
    assert.ok(board.tickWrapBits === 0 || board.tickWrapBits === 32, b);
    assert.ok(board.driftPpmAwake > 0 && board.driftPpmAsleep >= board.driftPpmAwake, `${b} drift`);
    assert.match(board.preferenceDomain, /^[A-Za-z0-9_]{1,15}$/, `${b}: NVS namespace <= 15 chars`);
    assert.equal(typeof board.randomIsHardware, 'boolean');
    assert.ok(['partition', 'file'].includes(board.storage.kind), b);
  }
});

test('devices wrap 32-bit ticks; the simulator reads the wall clock', () => {
  for (const b of ['esp32', 'esp32-nodemcu', 'pico_w']) assert.equal(readJson(join(root, 'boards', b, 'agent.json')).config.board.tickWrapBits, 32, b);
  assert.equal(readJson(join(root, 'boards', 'simulator', 'agent.json')).config.board.tickWrapBits, 0);
});

test('Pico W respects the 62-byte preference value limit and keeps the queue in littlefs', () => {
  const board = readJson(join(root, 'boards', 'pico_w', 'agent.json')).config.board;
  assert.ok(board.preferenceMaxValueBytes <= 62);
  assert.equal(board.storage.kind, 'file');
  assert.equal(board.randomIsHardware, false, 'Pico rand() is not a hardware RNG');
});

interface Partition { name: string; type: string; subtype: string; offset: number; size: number }

function parsePartitions(text: string): Partition[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, type, subtype, offset, size] = l.split(',').map((s) => s.trim());
      return { name: name!, type: type!, subtype: subtype!, offset: Number(offset), size: Number(size) };
    });
}

test('ESP32 partition table: aligned, ordered, inside 4 MiB, with the queue partition the board config names', () => {
  for (const b of ['esp32', 'esp32-nodemcu']) {
    const m = readJson(join(root, 'boards', b, 'manifest.json'));
    const csv = join(root, 'boards', b, m.build.PARTITIONS_FILE);
    assert.ok(existsSync(csv), `${b}: partition file exists`);
    const parts = parsePartitions(readFileSync(csv, 'utf8'));
    let end = 0x9000; // the partition table itself sits at 0x8000..0x9000
    for (const p of parts) {
      assert.ok(p.offset >= end, `${p.name} does not overlap`);
      assert.equal(p.offset % (p.type === 'app' ? 0x10000 : 0x1000), 0, `${p.name} aligned`);
      assert.equal(p.size % 0x1000, 0, `${p.name} size in 4 KiB sectors`);
      end = p.offset + p.size;
    }
    assert.ok(end <= 0x400000, 'fits 4 MiB flash');
    assert.ok(parts.some((p) => p.type === 'app' && p.subtype === 'factory'));
    assert.ok(parts.some((p) => p.subtype === 'nvs'), 'NVS for Preference');
    const storage = readJson(join(root, 'boards', b, 'agent.json')).config.board.storage;
    assert.equal(storage.kind, 'partition');
    const queue = parts.find((p) => p.name === storage.partition);
    assert.ok(queue && queue.type === 'data', `${b}: queue partition ${storage.partition} is a data partition`);
    assert.ok(queue.size >= 2 * 0x1000, 'at least two erase blocks');
    assert.ok(m.include.includes('$(MODULES)/files/flash/manifest.json'), 'raw flash module included');
  }
});

test('each board states development mode explicitly: off only with a hardware RNG', () => {
  // The agent refuses a random port that is not strong unless development mode is on
  // (src/agent.ts): a board without a hardware RNG must say so, an ESP32 must not need it.
  for (const b of boards) {
    const board = readJson(join(root, 'boards', b, 'agent.json')).config.board;
    assert.equal(typeof board.developmentMode, 'boolean', `${b}: developmentMode is stated`);
    if (!board.randomIsHardware) assert.equal(board.developmentMode, true, `${b}: no hardware RNG, so development mode`);
  }
  for (const b of ['esp32', 'esp32-nodemcu']) {
    const board = readJson(join(root, 'boards', b, 'agent.json')).config.board;
    assert.equal(board.randomIsHardware, true, `${b}: esp_random() is the hardware RNG`);
    assert.equal(board.developmentMode, false, `${b}: production mode`);
  }
  for (const b of ['pico_w', 'simulator']) assert.equal(readJson(join(root, 'boards', b, 'agent.json')).config.board.developmentMode, true, `${b}: libc rand()`);
});

test('every core directory is a module of the firmware, and preloaded', () => {
  // A core module importing ../shared/x resolves to the module `shared/x`: each src/<dir> needs its mapping.
  const dirs = readdirSync(join(root, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'platform').map((d) => d.name);
  assert.ok(dirs.includes('shared'));
  for (const d of dirs) {
    assert.equal(manifest.modules[`${d}/*`], `./src/${d}/*`, `modules maps ${d}/*`);
    assert.ok((manifest.preload as string[]).includes(`${d}/*`), `${d}/* is preloaded`);
  }
});
