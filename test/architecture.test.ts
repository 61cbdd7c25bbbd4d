// Architecture rules that a compiler cannot check for us.
// The portable core (src/ outside src/platform/) must import no platform
// module and keep module top level free of mutable state, so that the same
// code runs on Node, on XS and preloaded into flash on a device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

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

// @noble/curves: the portable TUF signature verifier (src/update/verify-noble.ts, issue 12).
test('core imports only relative modules, @noble/hashes and @noble/curves', () => {
  const offenders: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (!spec.startsWith('./') && !spec.startsWith('../') && !spec.startsWith('@noble/hashes') && !spec.startsWith('@noble/curves/')) offenders.push(`${relative(root, f)}: ${spec}`);
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

// ---------------------------------------------------------------------------
// Layout: who may import whom, one implementation per fact, no fakes, no
// copied blocks. These read every file under src/, platform adapters included.

function allSrcFiles(dir = join(root, 'src'), out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) allSrcFiles(p, out);
    else if (e.endsWith('.ts')) out.push(p);
  }
  return out;
}

const srcFiles = allSrcFiles();
const srcRel = (f: string): string => relative(join(root, 'src'), f).split('\\').join('/');

/**
 * The part a src/ module belongs to and its layer: a module imports only its
 * own part or parts of a lower layer, so dependencies flow one way
 * (platform -> agent -> {credentials, telemetry} -> {sigv4, time} -> shared/ports).
 */
function partOf(rel: string): { part: string; layer: number } {
  if (rel === 'ports.ts' || rel.startsWith('shared/')) return { part: 'shared', layer: 0 };
  if (rel.startsWith('sigv4/')) return { part: 'sigv4', layer: 1 };
  if (rel.startsWith('time/')) return { part: 'time', layer: 1 };
  if (rel.startsWith('credentials/')) return { part: 'credentials', layer: 2 };
  if (rel.startsWith('telemetry/')) return { part: 'telemetry', layer: 2 };
  if (rel.startsWith('update/')) return { part: 'update', layer: 2 };
  if (rel === 'agent.ts' || rel.startsWith('agent/')) return { part: 'agent', layer: 3 };
  if (rel.startsWith('platform/')) return { part: rel.split('/').slice(0, 2).join('/'), layer: 4 };
  throw new Error(`src/${rel}: in no layer (add it to partOf in test/architecture.test.ts)`);
}

/** Every module specifier of import/export-from statements (multi-line ones too) and side-effect imports. */
function importSpecifiers(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  return specs;
}

/** The src/-relative path an import names, or null for a module outside src/ (SDK, Node, npm). */
function resolveInSrc(fromRel: string, spec: string): string | null {
  let target: string;
  if (spec.startsWith('./') || spec.startsWith('../')) {
    target = join(dirname(join(root, 'src', fromRel)), spec);
  } else if (spec.startsWith('platform/')) {
    target = join(root, 'src', spec); // Moddable manifest names (`platform/moddable/agent-entry`)
  } else return null;
  return srcRel(target).replace(/\.js$/, '.ts').replace(/^(?!.*\.ts$)(.*)$/, '$1.ts');
}

test('every src/ module is in a layer and imports only its own part or lower layers', () => {
  const offenders: string[] = [];
  for (const f of srcFiles) {
    const rel = srcRel(f);
    const from = partOf(rel);
    for (const spec of importSpecifiers(readFileSync(f, 'utf8'))) {
      const target = resolveInSrc(rel, spec);
      if (target === null) continue;
      // A native module of ours is JavaScript (`@ "xs_..."` functions): src/platform/moddable/native/*.js.
      if (!existsSync(join(root, 'src', target)) && !existsSync(join(root, 'src', target.replace(/\.ts$/, '.js')))) {
        offenders.push(`src/${rel}: ${spec} names no module in src/`);
        continue;
      }
      const to = partOf(target);
      if (to.part === from.part || to.layer < from.layer) continue;
      offenders.push(`src/${rel} (${from.part}) imports src/${target} (${to.part}): ${to.layer === from.layer ? 'peers must not import each other' : 'a lower layer must not import a higher one'}`);
    }
  }
  assert.deepEqual(offenders, []);
});

/** `name(` of the function or method that encloses line `i` (the nearest declaration above it). */
function enclosingFunction(lines: string[], i: number): string {
  for (let k = i; k >= 0; k--) {
    const m = /^\s*(?:export\s+)?(?:async\s+)?function\s+(\w+)/.exec(lines[k]!) ?? /^\s*(?:(?:private|protected|public|static|readonly|override)\s+)*(\w+)\s*\([^)]*\)\s*(?::\s*[^={]+)?\{\s*$/.exec(lines[k]!);
    if (m && !/^(?:if|for|while|switch|catch)$/.test(m[1]!)) return m[1]!;
  }
  return '(top level)';
}

/**
 * Facts with one implementation each: where it lives, the exported names that
 * would betray a second one, and code that characterises an implementation.
 */
const singleFacts: Array<{ fact: string; home: string; names: RegExp; code: RegExp[] }> = [
  {
    fact: 'UTF-8 encode/length/decode',
    home: 'shared/utf8.ts',
    names: /utf-?8|codepoint/i,
    // The first byte of a 2-byte form, its bound, and the lowest valid 2-byte lead byte of a decoder.
    code: [/0xc0\s*\|\s*\(?\s*\w+\s*>>\s*6/, /<\s*0x800\b/, /\b0xc2\b/],
  },
  {
    fact: 'thing-name, role-alias, region, host, endpoint, time-server and topic rules',
    home: 'shared/validate.ts',
    names: /^(?:is)?(?:thingName|ThingName|roleAlias|RoleAlias|region|Region|host|Host|endpoint|Endpoint|timeServer|TimeServer|ipv4|Ipv4|topic|Topic)$/,
    // The thing-name alphabet, DNS label walking, dotted-quad octets.
    code: [/':_-'|\[A-Za-z0-9:_-\]/, /MAX_HOST_LABEL_CHARS|labelStart/, /Number\(\w+\)\s*>\s*255/],
  },
];

/**
 * Kept on purpose. The signer's percent-encoders encode UTF-8 inline while
 * percent-encoding: a call into shared/utf8.ts per character would cost
 * computrons on every signature (docs/signer.md, "Performance on XS").
 * sigv4/iot.ts checkEndpoint only checks the characters of the Host the
 * signer writes; endpoint rules for config are shared/validate.ts endpoint().
 */
const allowedCopies = new Set(['sigv4/uri-encode.ts encodedTextSize', 'sigv4/uri-encode.ts encodeTextInto', 'sigv4/iot.ts checkEndpoint']);

test('one module each implements UTF-8 and the name/endpoint/time-server validators (allowed copies named)', () => {
  const offenders: string[] = [];
  for (const f of srcFiles) {
    const rel = srcRel(f);
    const lines = readFileSync(f, 'utf8').split('\n');
    for (const { fact, home, names, code } of singleFacts) {
      if (rel === home) continue;
      lines.forEach((line, i) => {
        const t = line.trim();
        if (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return;
        const exported = /^\s*export\s+(?:async\s+)?function\s+(\w+)/.exec(line);
        if (exported && names.test(exported[1]!)) offenders.push(`src/${rel}:${i + 1}: exports ${exported[1]} (${fact} live in src/${home})`);
        const codeOnly = line.replace(/\/\/.*$/, '');
        if (code.some((re) => re.test(codeOnly))) {
          const fn = enclosingFunction(lines, i);
          if (!allowedCopies.has(`${rel} ${fn}`)) offenders.push(`src/${rel}:${i + 1} in ${fn}: implements part of ${fact} (use src/${home})`);
        }
      });
    }
  }
  assert.deepEqual(offenders, []);
});

// Fakes are test code: they live under test/harness/, never in the firmware's source tree.
const looksLikeFake = (rel: string, text: string): boolean => /(?:^|\/)(?:fakes?|mocks?|stubs?|memory-flash)[^/]*\.ts$/i.test(rel) || /\bclass\s+(?:Fake|Mock|Stub)\w*/.test(text);

test('no test fakes or harnesses under src/', () => {
  const offenders = srcFiles.map(srcRel).filter((rel) => looksLikeFake(rel, readFileSync(join(root, 'src', rel), 'utf8')));
  assert.deepEqual(offenders, []);
});

/** Lines that carry logic: not blank, comment, import/export-from or punctuation only; whitespace folded. */
function significantLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let inImport = false;
  text.split('\n').forEach((raw, i) => {
    const t = raw.trim().replace(/\s+/g, ' ');
    if (inImport) {
      if (/\bfrom\s*['"]/.test(t)) inImport = false;
      return;
    }
    if (t === '' || t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return;
    if (/^(?:import|export)\b/.test(t) && (/\bfrom\s*['"]/.test(t) || /^import\s*['"]/.test(t))) return;
    if (/^(?:import|export)(?:\s+type)?\s*\{[^}]*$/.test(t)) {
      inImport = true; // a multi-line import/export list
      return;
    }
    if (/^[\s{}()[\];,.:]*$/.test(t)) return;
    out.push({ line: i + 1, text: t });
  });
  return out;
}

const RUN_LINES = 6;

test(`no run of ${RUN_LINES} identical significant lines stands twice in src/`, () => {
  const seen = new Map<string, { rel: string; index: number; line: number }>();
  const offenders: string[] = [];
  for (const f of srcFiles) {
    const rel = srcRel(f);
    const lines = significantLines(readFileSync(f, 'utf8'));
    for (let i = 0; i + RUN_LINES <= lines.length; i++) {
      const key = lines.slice(i, i + RUN_LINES).map((l) => l.text).join('\n');
      const first = seen.get(key);
      if (first === undefined) seen.set(key, { rel, index: i, line: lines[i]!.line });
      else if (first.rel !== rel || i - first.index >= RUN_LINES) offenders.push(`src/${rel}:${lines[i]!.line} repeats src/${first.rel}:${first.line}`);
    }
  }
  assert.deepEqual(offenders, []);
});
