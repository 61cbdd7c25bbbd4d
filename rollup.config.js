// Bundles for the XS engine (tests, CLI --engine xs, bench, virtual device)
// and for mcconfig. Input is tsc's output in dist/ (ES2022); @noble/hashes is
// resolved from node_modules. Output goes to build/ (never committed).
import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import nodeResolve from '@rollup/plugin-node-resolve';

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

const xsScript = (name, input) => ({
  input,
  output: { file: `build/xs/${name}.js`, format: 'iife', name: `xs_${name.replace(/\W/g, '_')}`, generatedCode: 'es2015' },
  plugins: [virtualEntries(entries), nodeResolve()],
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

export default [
  ...Object.keys(entries).map((name) => xsScript(name, `xs-entry:${name}`)),
  ...scriptEntries.map((p) => xsScript(p.split('/').pop().replace(/\.xs\.js$/, ''), p)),
];
