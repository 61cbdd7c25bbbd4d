// ESP32: the JavaScript side of the firmware, checked without a linked image.
//
// A linked ESP32 image cannot be made on these machines (Moddable 8.2.3 wants
// ESP-IDF v6.0, whose Xtensa GCC 15 and Wi-Fi libraries cannot be installed
// here: docs/boards.md). What can be proven is everything before the first C
// compile: with $IDF_PATH at an ESP-IDF v6.0 checkout, `mcconfig -m -p esp32`
// resolves the esp32 manifest and compiles every module (tsc + xsc); the
// generated makefile's `mc.xs.c` target then runs the esp32 preload (xsl),
// which executes every module's top level at build time and freezes it, with
// a placeholder sdkconfig.h (the preload reads no ESP-IDF configuration).
// Skips with the reason without $MODDABLE or $IDF_PATH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFirmware, findSdk, type Sdk } from '../tools/moddable/sdk.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const found = findSdk();
const idf = process.env.IDF_PATH;
const skip =
  typeof found === 'string'
    ? found
    : !idf
      ? 'IDF_PATH is not set (no ESP-IDF v6.0 checkout)'
      : !existsSync(join(idf, 'tools', 'cmake', 'version.cmake'))
        ? `IDF_PATH=${idf} is not an ESP-IDF checkout`
        : false;
/** Fixed, so reruns are incremental (a cold esp32 module compile takes minutes). */
const outputDir = join(tmpdir(), 'aws-device-agent-mcconfig-esp32');
/** Upper bound for the preload step (xsl over every module). */
const PRELOAD_TIMEOUT_MS = 15 * 60 * 1000;

test('esp32: every module of the agent compiles and the esp32 preload runs (mc.xs.c), up to the first C compile', { skip }, async () => {
  const sdk = found as Sdk;
  mkdirSync(outputDir, { recursive: true });
  const build = await buildFirmware({ sdk, project: root, platform: 'esp32', outputDir, env: { IDF_PATH: idf! } });
  // The build stops at the first C file (no Xtensa compiler here), possibly
  // before every module is compiled (make runs jobs in parallel). Anything
  // else (a manifest, TypeScript or xsc error) fails the test.
  assert.doesNotMatch(build.output, /### Error|error TS\d+|# typescript compile failure/, build.output.slice(-4000));
  // (Or, on a rerun over an earlier placeholder sdkconfig.h, at ESP-IDF's own configure step.)
  if (!build.ok) assert.match(build.output, /xtensa-esp32-elf-gcc: (No such file|not found)|idf\.py: command not found/, `stopped for another reason:\n${build.output.slice(-4000)}`);
  const folder = join(outputDir, 'tmp', 'esp32', 'release', basename(root));
  assert.ok(existsSync(join(folder, 'makefile')), `mcconfig wrote its makefile in ${folder}`);
  const config = join(folder, 'xsProj-esp32', 'build', 'config');
  mkdirSync(config, { recursive: true });
  writeFileSync(join(config, 'sdkconfig.h'), '/* placeholder: the esp32 preload reads no ESP-IDF configuration */\n');
  const target = join(folder, 'mc.xs.c');
  const make = spawnSync('make', ['-f', 'makefile', target], {
    cwd: folder,
    encoding: 'utf8',
    timeout: PRELOAD_TIMEOUT_MS,
    env: { ...process.env, MODDABLE: sdk.root, IDF_PATH: idf!, PATH: `${sdk.binDir}:${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
  });
  const out = `${make.stdout}${make.stderr}`;
  assert.equal(make.status, 0, `make mc.xs.c failed:\n${out.slice(-4000)}`);
  assert.doesNotMatch(out, /### Error/, out.slice(-4000));
  assert.ok(statSync(target).size > 100_000, 'mc.xs.c holds the preloaded heap');
  // mc.xs.c depends on every module: make compiled those the first run had not reached when the C compile stopped it.
  for (const module of ['agent.xsb', 'agent/updates.xsb', 'update/updater.xsb', 'platform/moddable/agent-entry.xsb']) {
    assert.ok(existsSync(join(folder, 'modules', module)), `${module} compiled`);
  }
});
