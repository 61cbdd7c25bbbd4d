#!/usr/bin/env node
// Makes sure the XS engine from @agoric/xsnap is built.
//
// npm may skip a dependency's install script (npm 11 `allowScripts`, or
// --ignore-scripts in a CI image). Without this check `npm test` would fail
// later with a confusing spawn error; here we build the worker ourselves with
// the package's own build script, and fail loudly if that is impossible.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
let pkg;
try {
  pkg = dirname(require.resolve('@agoric/xsnap/package.json'));
} catch {
  console.log('ensure-engine: @agoric/xsnap not installed (production install?); skipping');
  process.exit(0);
}
const worker = join(pkg, 'xsnap-native', 'xsnap', 'build', 'bin', 'lin', 'release', 'xsnap-worker');
if (existsSync(worker)) {
  console.log('ensure-engine: XS engine present');
  process.exit(0);
}
console.log('ensure-engine: XS engine missing, building it from the sources in @agoric/xsnap (about a minute)');
const result = spawnSync(process.execPath, ['src/build.js'], { cwd: pkg, stdio: 'inherit' });
if (result.status !== 0 || !existsSync(worker)) {
  console.error('ensure-engine: building the XS engine failed; it needs cc and make');
  process.exit(1);
}
console.log('ensure-engine: XS engine built');
