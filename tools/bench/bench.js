#!/usr/bin/env node
// `npm run bench`: runs every benchmark section (dist/tools/bench/*.section.js,
// compiled from tools/bench/*.section.ts) one after the other in this process,
// prints each section's table, and ends with ONE JSON line merging all figures.
// A section exports `async function run(): Promise<Record<string, number|string|boolean|null>>`.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = 'dist/tools/bench';
const only = process.argv[2];
const sections = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.section.js')).sort() : [];
const merged = {};
let failures = 0;
for (const f of sections) {
  const name = f.slice(0, -'.section.js'.length);
  if (only && name !== only) continue;
  console.error(`\n== bench: ${name}`);
  try {
    const mod = await import(pathToFileURL(join(dir, f)).href);
    Object.assign(merged, await mod.run());
  } catch (e) {
    failures++;
    console.error(`bench section ${name} failed:`, e);
    merged[`${name}_error`] = String(e && e.message ? e.message : e);
  }
}
console.log(JSON.stringify(merged));
process.exit(failures ? 1 : 0);
