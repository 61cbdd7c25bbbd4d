// Bundles for the XS engine (tests, CLI --engine xs, bench, virtual device)
// and for mcconfig. Input is tsc's output in dist/ (ES2022); @noble/hashes is
// resolved from node_modules. Output goes to build/ (never committed).
//
// `rollup -c rollup.config.js` builds every bundle. `node rollup.config.js`
// (what `npm run build` runs) builds only the stale ones: a bundle is stale
// when its output or its record is missing, or when the content of a module
// it was built from, its entry, this file or the rollup version changed.
// Each build records its inputs (module ids and content hashes) in
// build/.rollup-inputs/<name>.json. Content, not mtime: tsc rewrites files
// whose content did not change.
import { createHash } from 'node:crypto';
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import { rollup, VERSION as ROLLUP_VERSION } from '@rollup/wasm-node';
import { version as ESBUILD_VERSION } from 'esbuild';
// Compiled by tsc, which `npm run build` runs first.
import { lowerStaticFieldsForNoble } from './dist/tools/xs/lower-static-fields.js';

const here = resolve('.');
const VIRTUAL = '\0xs-entry:';

/** Virtual entry modules: `xs-entry:<name>` -> code given in `entries`. */
function virtualEntries(entries) {
  return {
    name: 'virtual-entries',
    resolveId(id) {
      return id.startsWith('xs-entry:') ? VIRTUAL + id.slice('xs-entry:'.length) : null;
    },
    load(id) {
      return id.startsWith(VIRTUAL) ? entries[id.slice(VIRTUAL.length)] : null;
    },
  };
}

const suitesDir = resolve('dist/test/core');
const suites = existsSync(suitesDir) ? readdirSync(suitesDir).filter((f) => f.endsWith('.suite.js')) : [];
const entries = {};
for (const f of suites) {
  const name = f.replace(/\.suite\.js$/, '');
  entries[`suite-${name}`] = `import suite from ${JSON.stringify(`${suitesDir}/${f}`)};
import { runOnXs } from ${JSON.stringify(`${here}/dist/test/harness/xs-entry.js`)};
runOnXs(suite);
`;
}

const RECORDS_DIR = resolve('build/.rollup-inputs');
const CONFIG_FILE = fileURLToPath(import.meta.url);
const hashes = new Map();
/** Content hash of a file, or null when it is gone. */
function fileHash(path) {
  if (!hashes.has(path)) hashes.set(path, existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null);
  return hashes.get(path);
}

/** What a bundle is built from, besides its modules: a change in any of these rebuilds it. */
const buildKey = (name) => ({ rollup: ROLLUP_VERSION, esbuild: ESBUILD_VERSION, config: fileHash(CONFIG_FILE), entry: entries[name] ?? null });

/** Writes the record of a bundle's inputs once its output is written. */
function recordInputs(name) {
  return {
    name: 'record-inputs',
    writeBundle() {
      const modules = {};
      for (const id of this.getModuleIds()) if (!id.startsWith('\0')) modules[id] = fileHash(id);
      mkdirSync(RECORDS_DIR, { recursive: true });
      writeFileSync(`${RECORDS_DIR}/${name}.json`, JSON.stringify({ ...buildKey(name), modules }));
    },
  };
}

/** True unless the output exists and nothing recorded for it changed. */
function isStale(name, outputFile) {
  const record = `${RECORDS_DIR}/${name}.json`;
  if (!existsSync(outputFile) || !existsSync(record)) return true;
  let r;
  try {
    r = JSON.parse(readFileSync(record, 'utf8'));
  } catch {
    return true;
  }
  const key = buildKey(name);
  if (r.rollup !== key.rollup || r.esbuild !== key.esbuild || r.config !== key.config || r.entry !== key.entry || typeof r.modules !== 'object' || r.modules === null) return true;
  return Object.entries(r.modules).some(([id, hash]) => fileHash(id) !== hash);
}

const xsScript = (name, input) => ({
  input,
  output: { file: `build/xs/${name}.js`, format: 'iife', name: `xs_${name.replace(/\W/g, '_')}`, generatedCode: 'es2015' },
  plugins: [virtualEntries(entries), nodeResolve(), lowerStaticFieldsForNoble(), recordInputs(name)],
  treeshake: true,
});

/** Any compiled `*.xs.js` under dist/ (outside dist/test/core) is an XS script entry: build/xs/<name>.js. */
function findXsEntries(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) findXsEntries(p, out);
    else if (e.name.endsWith('.xs.js')) out.push(p);
  }
  return out;
}
const scriptEntries = findXsEntries(resolve('dist/src')).concat(findXsEntries(resolve('dist/tools')), findXsEntries(resolve('dist/test')));

const bundles = [
  ...Object.keys(entries).map((name) => ({ name, input: `xs-entry:${name}` })),
  ...scriptEntries.map((p) => ({ name: p.split('/').pop().replace(/\.xs\.js$/, ''), input: p })),
];

export default bundles.map(({ name, input }) => xsScript(name, input));

if (process.argv[1] && resolve(process.argv[1]) === CONFIG_FILE) {
  // Run directly: build the stale bundles, one at a time (as the CLI does), warnings silenced (as --silent).
  const configs = bundles.map(({ name, input }) => ({ name, config: xsScript(name, input) }));
  const stale = configs.filter(({ name, config }) => isStale(name, config.output.file));
  for (const { config } of stale) {
    const bundle = await rollup({ ...config, onwarn: () => {} });
    try {
      await bundle.write(config.output);
    } finally {
      await bundle.close();
    }
  }
  if (process.env.BUILD_VERBOSE) console.log(`rollup: ${stale.length} of ${bundles.length} bundles rebuilt${stale.length ? `: ${stale.map((b) => b.name).join(', ')}` : ''}`);
}
