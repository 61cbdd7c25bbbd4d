#!/usr/bin/env node
// `npm test` entry: runs every compiled test file under dist/test with node's
// test runner. Listing files here (instead of relying on node --test
// discovery) keeps behaviour identical on Node 20 and 22.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (entry.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv[2];
const files = walk('dist/test', []).filter((f) => !filter || f.includes(filter)).sort();
if (files.length === 0) {
  console.error('run-all: no test files found under dist/test');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
