// Architecture rules that a compiler cannot check for us.
// The portable core (src/ outside src/platform/) must import no platform
// module and keep module top level free of mutable state, so that the same
// code runs on Node, on XS and preloaded into flash on a device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

function coreFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (relative(join(root, 'src'), p) !== 'platform') coreFiles(p, out);
    } else if (e.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = coreFiles(join(root, 'src'));

test('core modules exist', () => assert.ok(files.length > 0));

test('core imports only relative modules and @noble/hashes', () => {
  const offenders: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (!spec.startsWith('./') && !spec.startsWith('../') && !spec.startsWith('@noble/hashes')) offenders.push(`${relative(root, f)}: ${spec}`);
    }
    for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g)) offenders.push(`${relative(root, f)}: dynamic import ${m[1]}`);
  }
  assert.deepEqual(offenders, []);
});

test('core uses no Node or browser globals and never reads the wall clock', () => {
  // Globals as objects or calls: `process.env`, `require(...)`, `new TextEncoder()`; a method that happens to be
  // named `process` is fine.
  const banned = /\b(?:Buffer|setTimeout|setInterval|TextEncoder|TextDecoder|globalThis)\b|(?<![.\w$])process\s*\.|(?<![.\w$])require\s*\(|\bDate\.now\b|\bperformance\.now\b|\bnew Date\(\s*\)/;
  const offenders: string[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed.startsWith('*') || trimmed.startsWith('/*')) return; // doc comment
      const code = line.replace(/\/\/.*$/, '');
      if (banned.test(code)) offenders.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('core module top level declares no mutable state (preload-safe)', () => {
  const offenders: string[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/^(export\s+)?(let|var)\s/.test(line)) offenders.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('portable suites use nothing Moddable\u2019s XS lacks (they also run in the simulator and on boards)', () => {
  const dir = join(root, 'test', 'core');
  const offenders: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.data.ts'))) {
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (/\b(?:TextEncoder|TextDecoder|Buffer|setTimeout|structuredClone)\b|(?<![.\w$])process\s*\./.test(code)) offenders.push(`test/core/${f}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(offenders, []);
});
