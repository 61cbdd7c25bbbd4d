// The Moddable SDK's littlefs on the Pico W layout (test/pico-flash/lfs-harness.c):
// the SDK's own lfs.c, configured as its modLittlefs.c configures it on Pico,
// over a simulated 2 MiB NOR chip, with the agent's raw queue region placed
// and written as on the board (agent-flash.c).
//
// 1. The queue the agent kept before, one 256 KiB file in a 384 KiB littlefs
//    partition, loses writes: close fails (LFS_ERR_NOSPC) and the SDK ignores
//    the result of close, so the loss is silent. The harness must see that,
//    or it could not see anything.
// 2. The shipped layout (queue sectors just below a 64 KiB littlefs
//    partition), 2,000 runs, each with a power cut at a random byte operation
//    (runs that finish first end without one): no committed littlefs file and
//    no acknowledged queue append is lost, littlefs always mounts, and no
//    byte outside the two regions changes. A region that overlaps littlefs
//    fails these checks (the negative control).
//
// Needs only $MODDABLE (for the littlefs sources) and cc; skips otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECTOR = 4096;

function littlefsDir(): string | null {
  const sdk = process.env.MODDABLE;
  return sdk ? join(sdk, 'modules', 'files', 'file', 'littlefs') : null;
}

function missing(): string | false {
  const dir = littlefsDir();
  if (dir === null) return 'MODDABLE is not set (the harness compiles the SDK\'s littlefs)';
  if (!existsSync(join(dir, 'lfs.c'))) return `no littlefs sources at ${dir}`;
  if (spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status !== 0) return 'no C compiler (cc)';
  return false;
}
const skip = missing();

let binary = '';
let workDir = '';
function harness(): string {
  if (binary) return binary;
  workDir = mkdtempSync(join(tmpdir(), 'pico-lfs-'));
  const lfs = littlefsDir()!;
  const region = join(root, 'src', 'platform', 'moddable', 'flash', 'pico');
  const here = join(root, 'test', 'pico-flash');
  binary = join(workDir, 'lfs-harness');
  const r = spawnSync('cc', ['-O2', '-Wall', '-Werror', '-I', join(here, 'lfs-host'), '-I', lfs, '-I', region, '-o', binary,
    join(here, 'lfs-harness.c'), join(lfs, 'lfs.c'), join(lfs, 'lfs_util.c'), join(region, 'agent-flash.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `cc failed:\n${r.stderr}`);
  return binary;
}
test.after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

type Report = Record<string, number | boolean | string>;
function run(...args: string[]): Report {
  const r = spawnSync(harness(), args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `lfs-harness ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  const report = JSON.parse(r.stdout.trim()) as Report;
  assert.equal(report.error, undefined, String(report.error));
  return report;
}

test('the old store (one 256 KiB queue file in a 384 KiB littlefs partition) loses writes that the SDK reports as done', { skip }, (t) => {
  const r = run('old-file', '96', '64', '200', '76');
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.created, true);
  assert.equal(r.writeFailed, 0, 'lfs_file_write itself succeeds');
  assert.ok((r.closeFailed as number) > 0, 'close fails (LFS_ERR_NOSPC) for some writes');
  assert.equal(r.silentLossUnderSdk, r.closeFailed, 'every failed close lost its write: with close ignored, a silent loss');
  assert.ok((r.erasesPerWrite as number) > 10, `copy-on-write of the file: ${r.erasesPerWrite} erases per record`);
  // A smaller file fits littlefs' copy-on-write: the harness does not fail everything.
  const small = run('old-file', '96', '40', '200', '76');
  assert.equal(small.closeFailed, 0);
  assert.equal(small.silentLossUnderSdk, 0);
});

test('Pico W layout: the queue region beside the SDK\'s littlefs, power cuts at random byte operations: nothing committed is lost, nothing outside is touched', { skip }, (t) => {
  const r = run('layout', '2000', '40');
  t.diagnostic(JSON.stringify(r));
  // Placement as modAgentFlash.c: whole sectors, just below littlefs, above the image.
  assert.equal(r.queueBase as number + (r.queueBytes as number), r.lfsOffset, 'the queue ends where littlefs starts');
  assert.equal(r.queueBytes, 64 * SECTOR);
  assert.equal(r.lfsBlocks, 16, "the SDK's default 64 KiB partition");
  assert.ok((r.queueBase as number) >= (r.imageEnd as number), 'the queue is above the image');
  // The cuts hit both regions, many times.
  assert.ok((r.cutsInQueue as number) >= 50 && (r.cutsInLittlefs as number) >= 50, `cuts: queue ${r.cutsInQueue}, littlefs ${r.cutsInLittlefs}`);
  assert.ok((r.appends as number) > 100_000 && (r.fileWrites as number) > 20_000);
  assert.equal(r.mountFailures, 0, 'littlefs mounts after every cut');
  assert.equal(r.fileLoss, 0, 'every file whose close returned 0 reads back');
  assert.equal(r.recordLoss, 0, 'every append agent-flash.c acknowledged reads back');
  assert.equal(r.bytesChangedOutsideRegions, 0, 'the image and the preferences are untouched');
  assert.equal(r.fileCloseFailed, 0, 'without a cut, littlefs has room for its files');
  // Appends that failed are the ones the cut interrupted: reported, not acknowledged.
  assert.ok((r.appendFailed as number) <= (r.cutsInQueue as number));
});

test('negative control: a queue region reaching into littlefs breaks it, and the harness sees it', { skip }, () => {
  const r = run('layout', '300', '40', 'overlap');
  assert.ok((r.queueBase as number) + (r.queueBytes as number) > (r.lfsOffset as number));
  assert.ok((r.mountFailures as number) + (r.fileLoss as number) + (r.fileCloseFailed as number) > 0, JSON.stringify(r));
});
