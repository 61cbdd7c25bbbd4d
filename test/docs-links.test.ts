// The documentation's links hold: every relative link in every Markdown file
// of the repository points at a file that exists inside the repository (and,
// for `file.md#anchor`, at a heading of that file, slugged as GitHub does);
// every repository path quoted in code (`src/...`, `tools/...`) exists; the
// README stays an entry page (at most README_MAX_LINES) that links every
// document under docs/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The bound for the entry page. */
const README_MAX_LINES = 300;

/** Top-level folders whose paths, quoted in code spans, must exist (generated ones such as dist/ and build/ are not listed). */
const CHECKED_ROOTS = ['src/', 'test/', 'tools/', 'boards/', 'docs/', 'types/', 'bin/'];

/** Markdown files git knows of: tracked, plus new ones not ignored (so a doc is checked before its first commit). */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.md'], { cwd: repo, encoding: 'utf8' });
  return [...new Set(out.split('\0').filter((f) => f !== '' && existsSync(join(repo, f))))].sort();
}

/** The text outside fenced code blocks, line by line (fenced lines become empty, so line numbers stay right). */
function proseLines(text: string): string[] {
  let fence: string | null = null;
  return text.split('\n').map((line) => {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length) fence = null;
      return '';
    }
    if (m) {
      fence = m[1]!;
      return '';
    }
    return line;
  });
}

/** GitHub's heading anchor: rendered text lower-cased, punctuation dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Anchors a Markdown file offers: its headings (duplicates numbered as GitHub does) and explicit HTML ids. */
function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (h) {
      const base = githubSlug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Inline links `[text](target "title")`, images, and reference definitions `[x]: target`, outside code. */
function linksOf(text: string): Link[] {
  const links: Link[] = [];
  proseLines(text).forEach((raw, i) => {
    const line = raw.replace(/(`+)[\s\S]*?\1/g, ''); // code spans are not links
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1]! });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (def) links.push({ line: i + 1, target: def[1]! });
  });
  return links;
}

/** Repository paths quoted in code spans, e.g. `tools/devcloud/cli.ts` (no globs or placeholders). */
function codePathsOf(text: string): Link[] {
  const paths: Link[] = [];
  proseLines(text).forEach((line, i) => {
    for (const m of line.matchAll(/`([^`\s]+)`/g)) {
      const p = m[1]!.replace(/[.,:;]$/, '');
      if (!CHECKED_ROOTS.some((r) => p.startsWith(r))) continue;
      if (/[*<>{}$…]|\.\.\./.test(p)) continue;
      paths.push({ line: i + 1, target: p });
    }
  });
  return paths;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** Problems with one file's relative links, as `file:line: message`. */
function checkLinks(file: string): string[] {
  const abs = join(repo, file);
  const problems: string[] = [];
  for (const { line, target } of linksOf(readFileSync(abs, 'utf8'))) {
    if (target === '' || isExternal(target)) continue;
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
    const dest = pathPart === '' ? abs : pathPart.startsWith('/') ? join(repo, pathPart) : resolve(dirname(abs), pathPart);
    const where = `${file}:${line}: ${target}`;
    const inside = relative(repo, dest);
    if (inside.startsWith('..') || inside.split(sep)[0] === '..') {
      problems.push(`${where}: points outside the repository (a clone does not have it)`);
      continue;
    }
    if (!existsSync(dest)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor !== null && anchor !== '' && statSync(dest).isFile() && dest.endsWith('.md') && !anchorsOf(dest).has(anchor)) {
      problems.push(`${where}: no heading with anchor #${anchor} in ${relative(repo, dest)}`);
    }
  }
  return problems;
}

/** Problems with repository paths quoted in code spans. */
function checkCodePaths(file: string): string[] {
  const problems: string[] = [];
  for (const { line, target } of codePathsOf(readFileSync(join(repo, file), 'utf8'))) {
    if (!existsSync(join(repo, target))) problems.push(`${file}:${line}: \`${target}\`: no such file or folder in the repository`);
  }
  return problems;
}

const files = markdownFiles();

test('the repository has Markdown files to check, README.md among them', () => {
  assert.ok(files.includes('README.md'), files.join(', '));
});

test('every relative link in every Markdown file resolves (file inside the repository, and heading for #anchor)', () => {
  assert.deepEqual(files.flatMap(checkLinks), []);
});

test('every repository path quoted in code in the Markdown files exists', () => {
  assert.deepEqual(files.flatMap(checkCodePaths), []);
});

test(`README.md is an entry page: at most ${README_MAX_LINES} lines`, () => {
  const lines = readFileSync(join(repo, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
});

test('README.md links every document in docs/', () => {
  const docs = files.filter((f) => f.startsWith('docs/'));
  assert.ok(docs.length > 0, 'docs/ has documents');
  const linked = new Set(
    linksOf(readFileSync(join(repo, 'README.md'), 'utf8'))
      .filter((l) => !isExternal(l.target))
      .map((l) => relative(repo, resolve(repo, decodeURIComponent(l.target.split('#')[0]!)))),
  );
  assert.deepEqual(docs.filter((d) => !linked.has(d)), []);
});

// Expected anchors: the ones GitHub rendered for this README's former contents list, and its rule
// (lower case; letters, digits, `_`, `-` and spaces kept; spaces to hyphens) applied by hand.
test('the GitHub slug rule, on headings of the kinds these docs use', () => {
  assert.equal(githubSlug('Quick start'), 'quick-start');
  assert.equal(githubSlug('Local dev cloud (`tools/devcloud`, `npx devcloud`)'), 'local-dev-cloud-toolsdevcloud-npx-devcloud');
  assert.equal(githubSlug('Telemetry: crash-safe queue, credentials, fail-closed uploader'), 'telemetry-crash-safe-queue-credentials-fail-closed-uploader');
  assert.equal(githubSlug('SigV4 signer (`src/sigv4/`)'), 'sigv4-signer-srcsigv4');
  assert.equal(githubSlug('Test vectors: ../shared'), 'test-vectors-shared');
  assert.equal(githubSlug('Limits (`SignerLimits`, defaults in `DEFAULT_LIMITS`)'), 'limits-signerlimits-defaults-in-default_limits');
  assert.equal(githubSlug('Boards and firmware (Moddable SDK): ESP32, Raspberry Pi Pico W, desktop simulator'), 'boards-and-firmware-moddable-sdk-esp32-raspberry-pi-pico-w-desktop-simulator');
  assert.equal(githubSlug('[ESP32](boards/esp32/README.md) steps'), 'esp32-steps');
});
