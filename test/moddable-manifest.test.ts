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
import { dirname, join, posix, relative } from 'node:path';
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
    assert.ok(['partition', 'file', 'pico-flash'].includes(board.storage.kind), b);
  }
});

test('devices wrap 32-bit ticks; the simulator reads the wall clock', () => {
  for (const b of ['esp32', 'esp32-nodemcu', 'pico_w']) assert.equal(readJson(join(root, 'boards', b, 'agent.json')).config.board.tickWrapBits, 32, b);
  assert.equal(readJson(join(root, 'boards', 'simulator', 'agent.json')).config.board.tickWrapBits, 0);
});

test('Pico W respects the 62-byte preference value limit and keeps the queue on raw flash sectors', () => {
  const board = readJson(join(root, 'boards', 'pico_w', 'agent.json')).config.board;
  assert.ok(board.preferenceMaxValueBytes <= 62);
  assert.equal(board.storage.kind, 'pico-flash');
  assert.equal(board.randomIsHardware, false, 'pico_rand (xoroshiro128** over ROSC entropy) is not a strong source');
});

/** Every include of a manifest, followed through our own files, for one platform. */
function includesFor(manifestFile: string, platform: string): string[] {
  const out: string[] = [];
  const walk = (file: string): void => {
    const m = readJson(file);
    for (const inc of [m.include ?? []].flat() as string[]) {
      out.push(inc);
      if (!isSdkPath(inc)) walk(join(dirname(file), inc));
    }
  };
  walk(manifestFile);
  const entry = matchPlatform(readJson(manifestFile).platforms ?? {}, platform);
  if (entry?.include) walk(join(dirname(manifestFile), entry.include));
  return out;
}

test("the SDK's file module (littlefs on Pico W, which ignores close errors) is built only for the simulator", () => {
  const file = '$(MODULES)/files/file/manifest.json';
  const top = join(root, 'manifest.json');
  for (const platform of ['pico/pico_w', 'esp32', 'esp32/nodemcu']) {
    assert.ok(!includesFor(top, platform).includes(file), `${platform} includes ${file}`);
    assert.ok(!firmwareFor(top, platform).modules.has('platform/moddable/flash/file'), `${platform} lists flash/file`);
  }
  assert.ok(includesFor(top, 'lin').includes(file), 'the simulator keeps its file store');
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
  assert.equal(readJson(join(root, 'boards', 'pico_w', 'agent.json')).config.board.developmentMode, true, 'pico_w: pico_rand is not strong');
  const sim = readJson(join(root, 'boards', 'simulator', 'agent.json')).config.board;
  assert.equal(sim.randomIsHardware, true, 'simulator: getrandom() is strong');
  assert.equal(sim.developmentMode, false, 'simulator: production mode');
});

// ---- Module lists: the firmware carries exactly what its entry imports ----
// mcconfig names a module by its "modules" key; XS resolves a relative import
// against the importing module's name and strips .js, so `../shared/x.js` from
// `telemetry/queue` is the module `shared/x`. A bare specifier is one of ours
// when src/<name>.ts or node_modules/<name>.js exists, otherwise an SDK module
// (http, securesocket, mc/config, embedded:*, ...). `import type` is erased;
// Modules.importNow('x') is an edge taken only where the platform lists x
// (agent-ports picks the flash adapter at run time).

interface Firmware {
  /** Module name -> absolute path without extension, local modules only. */
  modules: Map<string, string>;
  /** Preloaded names (local or SDK). */
  preload: Set<string>;
  /** Globs and other entries the check refuses, with the manifest that has them. */
  globs: string[];
  /** Local modules the platform's board manifest adds. */
  fromBoard: Set<string>;
}

const isSdkPath = (value: string): boolean => value.includes('$(');

/** Merges a manifest and its local includes (the SDK's are not ours to check). */
function collect(file: string, into: Firmware): Firmware {
  const m = readJson(file);
  const dir = dirname(file);
  const where = relative(root, file);
  for (const inc of [m.include ?? []].flat() as string[]) if (!isSdkPath(inc)) collect(join(dir, inc), into);
  for (const [name, value] of Object.entries((m.modules ?? {}) as Record<string, string | string[]>)) {
    // SDK entries, and our C files (native functions: a .c file names exactly one source), are not module globs.
    const values = [value].flat().filter((v) => !isSdkPath(v) && !(name === '*' && !v.includes('*') && existsSync(join(dir, v) + '.c')));
    if (values.length === 0) continue;
    if (name.includes('*') || values.some((v) => v.includes('*'))) into.globs.push(`${where}: modules "${name}"`);
    else into.modules.set(name, join(dir, values[0]!));
  }
  for (const name of (m.preload ?? []) as string[]) {
    if (name.includes('*')) into.globs.push(`${where}: preload "${name}"`);
    else into.preload.add(name);
  }
  return into;
}

/** The firmware a manifest builds for one platform: its own entries plus the platform's board manifest. */
function firmwareFor(manifestFile: string, platform: string): Firmware {
  const fw = collect(manifestFile, { modules: new Map(), preload: new Set(), globs: [], fromBoard: new Set() });
  const entry = matchPlatform(readJson(manifestFile).platforms ?? {}, platform);
  if (entry?.include) {
    const before = new Set(fw.modules.keys());
    collect(join(dirname(manifestFile), entry.include), fw);
    for (const name of fw.modules.keys()) if (!before.has(name)) fw.fromBoard.add(name);
  }
  return fw;
}

function sourceOf(pathNoExt: string): string | undefined {
  for (const ext of ['.ts', '.js']) if (existsSync(pathNoExt + ext)) return pathNoExt + ext;
  return undefined;
}

/** Where an unlisted module name would come from, if it is ours. */
function ownFile(name: string): string | undefined {
  return sourceOf(join(root, 'src', name)) ?? (name.startsWith('@') ? sourceOf(join(root, 'node_modules', name)) : undefined);
}

interface Edge {
  name: string;
  optional: boolean;
  relative: boolean;
}

function importsOf(moduleName: string, file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const add = (spec: string, optional: boolean): void => {
    const rel = spec.startsWith('./') || spec.startsWith('../');
    const name = (rel ? posix.join(posix.dirname(moduleName), spec) : spec).replace(/\.(js|mjs|ts)$/, '');
    edges.push({ name, optional, relative: rel });
  };
  for (const m of text.matchAll(/^\s*(?:import|export)\b([^'";]*?)\bfrom\s*['"]([^'"]+)['"]/gm)) {
    if (/^\s*type\b/.test(m[1]!)) continue; // erased by the compiler
    add(m[2]!, false);
  }
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) add(m[1]!, false);
  for (const m of text.matchAll(/\bModules\.importNow\(\s*['"]([^'"]+)['"]/g)) add(m[1]!, true);
  return edges;
}

interface Reach {
  /** Local modules the entry reaches (listed or not). */
  reached: Set<string>;
  /** Reached but not in "modules". */
  missing: string[];
  /** Relative imports that name no file. */
  unresolved: string[];
}

function reach(fw: Firmware, entry: string): Reach {
  const reached = new Set<string>();
  const missing: string[] = [];
  const unresolved: string[] = [];
  const queue = [entry];
  while (queue.length) {
    const name = queue.shift()!;
    if (reached.has(name)) continue;
    const listed = fw.modules.get(name);
    const file = listed !== undefined ? sourceOf(listed) : ownFile(name);
    if (file === undefined) {
      unresolved.push(listed !== undefined ? `${name} -> ${relative(root, listed)} (no such file)` : name);
      continue;
    }
    reached.add(name);
    if (listed === undefined) missing.push(name);
    for (const e of importsOf(name, file)) {
      if (e.optional && !fw.modules.has(e.name)) continue;
      if (e.relative || fw.modules.has(e.name) || ownFile(e.name) !== undefined) {
        if (!reached.has(e.name)) queue.push(e.name);
      } // else an SDK module
    }
  }
  return { reached, missing: missing.sort(), unresolved };
}

const list = (names: Iterable<string>): string => JSON.stringify([...names].sort());

/** `boardExtrasAllowed`: a test firmware may leave board modules (the flash adapters) unused. */
function checkFirmware(manifestFile: string, platform: string, boardExtrasAllowed = false): void {
  const fw = firmwareFor(manifestFile, platform);
  const label = `${relative(root, manifestFile)} -p ${platform}`;
  assert.deepEqual(fw.globs, [], `${label}: list modules one by one; these globs pull in whatever the folder holds`);
  assert.ok(fw.modules.has('main'), `${label}: has a main module`);
  const r = reach(fw, 'main');
  assert.deepEqual(r.unresolved, [], `${label}: imports that resolve to no file`);
  assert.deepEqual(r.missing, [], `${label}: reached from main but not in "modules" (add them): ${r.missing.map((n) => `"${n}": "./${relative(root, ownFile(n) ?? n).replace(/\.[jt]s$/, '')}"`).join(', ')}`);
  const allowed = (n: string): boolean => boardExtrasAllowed && fw.fromBoard.has(n);
  const extra = [...fw.modules.keys()].filter((n) => !r.reached.has(n) && !allowed(n));
  assert.deepEqual(extra.sort(), [], `${label}: in "modules" but not reached from main (remove them): ${list(extra)}`);
  const notPreloaded = [...r.reached].filter((n) => n !== 'main' && !fw.preload.has(n));
  assert.deepEqual(notPreloaded.sort(), [], `${label}: reached but not in "preload" (add them): ${list(notPreloaded)}`);
  const strayPreload = [...fw.preload].filter((n) => !r.reached.has(n) && !allowed(n) && (fw.modules.has(n) || ownFile(n) !== undefined));
  assert.deepEqual(strayPreload.sort(), [], `${label}: preloaded but not reached from main (remove them): ${list(strayPreload)}`);
}

test('production firmware: "modules" and "preload" list exactly what main reaches, on every platform', () => {
  for (const platform of Object.keys(supported)) checkFirmware(join(root, 'manifest.json'), platform);
});

test('production firmware carries no test code: no module file under test/ or tools/, no fake, no smoke entry', () => {
  for (const platform of Object.keys(supported)) {
    const fw = firmwareFor(join(root, 'manifest.json'), platform);
    const files = [...reach(fw, 'main').reached].map((n) => relative(root, fw.modules.get(n) ?? ownFile(n) ?? n));
    const offenders = files.filter((f) => /^(test|tools)\//.test(f) || /fake|smoke|memory-flash|harness/i.test(f));
    assert.deepEqual(offenders, [], platform);
    assert.ok(files.includes('src/platform/moddable/agent-entry'), `${platform}: the agent is in the firmware`);
  }
});

test('smoke-test firmware: its own manifest lists exactly what its main reaches', () => {
  const smoke = join(root, 'test', 'moddable-smoke', 'manifest.json');
  for (const platform of Object.keys(supported)) checkFirmware(smoke, platform, true);
});

test('the reachability check is not vacuous: an unlisted import and a stray module are both reported', () => {
  // Probe firmware built from the real lists: drop one reached module, add one that nothing imports.
  const fw = firmwareFor(join(root, 'manifest.json'), 'esp32');
  const dropped = [...reach(fw, 'main').reached].find((n) => n.startsWith('telemetry/'))!;
  fw.modules.delete(dropped);
  const r = reach(fw, 'main');
  assert.ok(r.missing.includes(dropped), `${dropped} is reported missing`);
  fw.modules.set('telemetry/stray', join(root, 'src', 'telemetry', 'queue'));
  assert.ok(!reach(fw, 'main').reached.has('telemetry/stray'), 'a module nothing imports is not reached');
});
