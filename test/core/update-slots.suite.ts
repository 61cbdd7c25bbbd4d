// A/B firmware slots (src/update/slots.ts): the boot life cycle, the rules of
// trial boots, validation of the boot record read from flash, and a power cut
// at EVERY byte budget of every operation that writes it.
//
// Expected boot states are written out from the contract (docs of BootState
// and FirmwareSlots), never taken from a run of the implementation. After a
// cut: power on, a new FirmwareSlots on the same flash, boot(): the result is
// the state without the interrupted operation or the state with it, and an
// image that boots hashes to its SHA-256 (it was completely written).
import type { Check, PortableSuite } from '../harness/portable.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { BOOT_RECORD_BYTES, FirmwareSlots, MAX_TRIAL_BOOTS, type BootState, type SlotImage } from '../../src/update/slots.js';
import { UpdateError } from '../../src/update/update-error.js';
import { crc32 } from '../../src/shared/crc32.js';
import { hex } from '../../src/sigv4/hex.js';
import { PowerCut } from '../../src/telemetry/errors.js';
import type { FlashPort } from '../../src/ports.js';

const BLOCK_BYTES = 256;
const BLOCKS = 10; // 2 control blocks, two slots of 4 blocks
const SLOT_BYTES = 4 * BLOCK_BYTES;
/** More byte operations than any single operation here needs (it erases and writes a few blocks). */
const MAX_BUDGET = 8 * BLOCK_BYTES * BLOCKS;

const isCode = (code: string) => (e: unknown) => e instanceof UpdateError && e.code === code;

function newFlash(): MemoryFlash {
  return new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: BLOCKS });
}

function bytesOf(seed: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (seed * 131 + i * 7 + (i >> 8)) & 0xff;
  return b;
}

const A_BYTES = bytesOf(1, 700);
const B_BYTES = bytesOf(2, 900);
const C_BYTES = bytesOf(3, 300);
const imageOf = (b: Uint8Array): SlotImage => ({ length: b.length, sha256: hex(sha256(b)) });
const A = imageOf(A_BYTES);
const B = imageOf(B_BYTES);
const C = imageOf(C_BYTES);

/** Writes an image into a slot region the way staging does: each block erased before its first write. */
function writeImage(region: FlashPort, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; off += region.blockSize) {
    region.erase(off / region.blockSize);
    region.write(off, bytes, off, Math.min(region.blockSize, bytes.length - off));
  }
}

function stage(slots: FirmwareSlots, bytes: Uint8Array): void {
  writeImage(slots.inactive(), bytes);
}

const st = (slot: 0 | 1, trial: boolean, image: SlotImage | null, revertedFrom: SlotImage | null): BootState => ({ slot, trial, image, revertedFrom });
const FACTORY = st(0, false, null, null);

/** The booted image really is in the booted slot, whole. */
function checkBootedImage(t: Check, flash: FlashPort, s: BootState, why: string): void {
  if (s.image === null) return;
  const into = new Uint8Array(s.image.length);
  new FirmwareSlots(flash).readSlot(s.slot, 0, into, 0, into.length);
  t.equal(hex(sha256(into)), s.image.sha256, `${why}: booted slot ${s.slot} holds its image`);
}

/** Factory -> A staged in slot 1, activated, booted on trial, confirmed. */
function confirmedA(flash: MemoryFlash): void {
  const s = new FirmwareSlots(flash);
  stage(s, A_BYTES);
  s.activate(A);
  new FirmwareSlots(flash).boot();
  new FirmwareSlots(flash).confirm();
}

/** ... then B staged in slot 0 and activated (not yet booted). */
function activatedB(flash: MemoryFlash): void {
  confirmedA(flash);
  const s = new FirmwareSlots(flash);
  stage(s, B_BYTES);
  s.activate(B);
}

/** ... then booted once on trial. */
function trialB(flash: MemoryFlash): void {
  activatedB(flash);
  new FirmwareSlots(flash).boot();
}

function same(a: BootState, b: BootState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * For every budget 0, 1, 2, ... until `op` completes: a flash in the state
 * `setup` leaves, the power cut after that many byte operations during `op`,
 * then power on and boot. Returns how many cut runs gave each outcome.
 */
function cutEverywhere(
  t: Check,
  setup: (flash: MemoryFlash) => void,
  op: (slots: FirmwareSlots) => void,
  before: BootState,
  after: BootState,
  cutError: (e: unknown) => boolean = isCode('storage'),
): { old: number; new: number; budgets: number } {
  const template = newFlash();
  setup(template);
  const counts = { old: 0, new: 0, budgets: 0 };
  for (let budget = 0; budget <= MAX_BUDGET; budget++) {
    const flash = newFlash();
    flash.bytes.set(template.bytes);
    flash.cutPowerAfter(budget);
    try {
      op(new FirmwareSlots(flash));
    } catch (e) {
      // A cut surfaces as UpdateError 'storage' from FirmwareSlots (the flash threw); nothing else may escape.
      if (!flash.poweredOff || !cutError(e)) throw e;
    }
    const completed = !flash.poweredOff;
    flash.powerOn();
    const booted = new FirmwareSlots(flash).boot();
    const why = `budget ${budget}${completed ? ' (completed)' : ''}: ${JSON.stringify(booted)}`;
    if (completed) {
      t.deepEqual(booted, after, why);
    } else if (same(booted, before)) counts.old++;
    else if (same(booted, after)) counts.new++;
    else t.ok(false, `${why} is neither ${JSON.stringify(before)} nor ${JSON.stringify(after)}`);
    checkBootedImage(t, flash, booted, why);
    if (completed) {
      counts.budgets = budget;
      t.ok(counts.old > 0, 'an early cut leaves the old state');
      return counts;
    }
  }
  t.ok(false, `operation did not complete within ${MAX_BUDGET} byte operations`);
  return counts;
}

/** The stored record copy in control block `block`, re-sealed with a valid CRC after `edit`. */
function forgeRecord(flash: MemoryFlash, block: number, edit: (r: Uint8Array) => void): void {
  const r = flash.bytes.subarray(block * BLOCK_BYTES, block * BLOCK_BYTES + BOOT_RECORD_BYTES);
  edit(r);
  const crc = crc32(r, 0, BOOT_RECORD_BYTES - 4);
  r[BOOT_RECORD_BYTES - 4] = crc >>> 24;
  r[BOOT_RECORD_BYTES - 3] = (crc >>> 16) & 0xff;
  r[BOOT_RECORD_BYTES - 2] = (crc >>> 8) & 0xff;
  r[BOOT_RECORD_BYTES - 1] = crc & 0xff;
}

/** The control block holding the newer copy (the flash must hold a pending trial): the other one changes on the next record write. */
function newestBlock(flash: MemoryFlash): number {
  const snapshot = flash.bytes.slice(0, 2 * BLOCK_BYTES);
  const probe = newFlash();
  probe.bytes.set(flash.bytes);
  new FirmwareSlots(probe).revert(); // a pending trial: writes the block of the older copy
  for (let i = 0; i < BLOCK_BYTES; i++) if (probe.bytes[i] !== snapshot[i]) return 1;
  return 0;
}

class FailingReads implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  failReads = false;
  constructor(private readonly inner: FlashPort) {
    this.blockSize = inner.blockSize;
    this.blockCount = inner.blockCount;
  }
  erase(block: number): void {
    this.inner.erase(block);
  }
  read(offset: number, into: Uint8Array, start: number, length: number): void {
    if (this.failReads) throw new Error('read I/O error');
    this.inner.read(offset, into, start, length);
  }
  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.inner.write(offset, bytes, start, length);
  }
}

const suite: PortableSuite = () => [
  {
    name: 'fresh flash is the factory state: slot 0 confirmed, no image; slots split the rest equally',
    run(t) {
      const flash = newFlash();
      const s = new FirmwareSlots(flash);
      t.equal(FirmwareSlots.CONTROL_BLOCKS, 2);
      t.equal(s.slotBytes, SLOT_BYTES);
      t.deepEqual(s.state(), FACTORY);
      t.deepEqual(s.boot(), FACTORY);
      t.equal(flash.bytesWritten, 0, 'a factory boot writes nothing');
      const inactive = s.inactive();
      t.equal(inactive.blockCount * inactive.blockSize, SLOT_BYTES);
      // Odd block counts: the spare block is left unused, slots stay equal.
      t.equal(new FirmwareSlots(new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 7 })).slotBytes, 2 * BLOCK_BYTES);
    },
  },
  {
    name: 'a flash too small for the layout is refused (storage)',
    run(t) {
      t.throws(() => new FirmwareSlots(new MemoryFlash({ blockSize: BLOCK_BYTES, blockCount: 3 })), isCode('storage'));
      t.throws(() => new FirmwareSlots(new MemoryFlash({ blockSize: 128, blockCount: 10 })), isCode('storage'));
    },
  },
  {
    name: 'life cycle: activate, trial boot, confirm; activate, trial boot, no confirm: reverts; revert()',
    run(t) {
      const flash = newFlash();
      let s = new FirmwareSlots(flash);
      stage(s, A_BYTES);
      s.activate(A);
      t.deepEqual(s.state(), FACTORY, 'activate changes the next boot, not this one');
      s = new FirmwareSlots(flash);
      t.deepEqual(s.boot(), st(1, true, A, null), 'the activated slot boots on trial');
      checkBootedImage(t, flash, s.state(), 'trial A');
      t.deepEqual(new FirmwareSlots(flash).state(), st(1, true, A, null), 'the firmware sees the state boot() left');
      new FirmwareSlots(flash).confirm();
      t.deepEqual(new FirmwareSlots(flash).state(), st(1, false, A, null), 'confirmed: no longer on trial');
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, null), 'a confirmed slot keeps booting');
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, null));

      s = new FirmwareSlots(flash);
      stage(s, B_BYTES);
      s.activate(B);
      t.deepEqual(new FirmwareSlots(flash).boot(), st(0, true, B, null), 'B on trial in slot 0');
      // No confirm (the trial crashed or hung): the next boot reverts.
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, B), 'a trial booted once without confirm reverts');
      t.deepEqual(new FirmwareSlots(flash).state(), st(1, false, A, B));
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, null), 'revertedFrom is reported by the reverting boot only');

      s = new FirmwareSlots(flash);
      stage(s, C_BYTES);
      s.activate(C);
      t.deepEqual(new FirmwareSlots(flash).boot(), st(0, true, C, null));
      new FirmwareSlots(flash).revert();
      t.throws(() => new FirmwareSlots(flash).confirm(), isCode('busy'), 'nothing left to confirm after revert()');
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, C), 'after revert() the confirmed slot boots, revertedFrom set');
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, null));
      checkBootedImage(t, flash, new FirmwareSlots(flash).state(), 'A after the reverts');
      t.equal(MAX_TRIAL_BOOTS, 1);
    },
  },
  {
    name: 'revert() before the trial booted: the trial never boots',
    run(t) {
      const flash = newFlash();
      activatedB(flash);
      new FirmwareSlots(flash).revert();
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, B));
      const bytes = flash.bytesWritten;
      new FirmwareSlots(flash).revert();
      t.equal(flash.bytesWritten, bytes, 'revert() with nothing pending writes nothing');
    },
  },
  {
    name: 'while a trial runs, the confirmed slot is not handed out and nothing new activates (busy)',
    run(t) {
      const flash = newFlash();
      trialB(flash);
      const s = new FirmwareSlots(flash);
      t.throws(() => s.inactive(), isCode('busy'));
      t.throws(() => s.activate(C), isCode('busy'));
      s.revert();
      t.throws(() => s.inactive(), isCode('busy'), 'still running the trial until the reboot');
      const factory = new FirmwareSlots(newFlash());
      t.throws(() => factory.confirm(), isCode('busy'), 'confirm() with no trial');
    },
  },
  {
    name: 'activate() checks the image: larger than a slot is too-large, malformed is bad-hash',
    run(t) {
      const s = new FirmwareSlots(newFlash());
      t.throws(() => s.activate({ length: SLOT_BYTES + 1, sha256: A.sha256 }), isCode('too-large'));
      t.throws(() => s.activate({ length: 0, sha256: A.sha256 }), isCode('bad-hash'));
      t.throws(() => s.activate({ length: 1.5, sha256: A.sha256 }), isCode('bad-hash'));
      t.throws(() => s.activate({ length: 10, sha256: A.sha256.toUpperCase() }), isCode('bad-hash'));
      t.throws(() => s.activate({ length: 10, sha256: A.sha256.slice(2) }), isCode('bad-hash'));
      t.throws(() => s.activate(null as unknown as SlotImage), isCode('bad-hash'));
      s.activate({ length: SLOT_BYTES, sha256: A.sha256 });
      t.deepEqual(s.boot(), st(1, true, { length: SLOT_BYTES, sha256: A.sha256 }, null), 'a slot-sized image fits');
    },
  },
  {
    name: 'staging into the inactive slot withdraws a pending trial of it before the first erase',
    run(t) {
      const flash = newFlash();
      activatedB(flash);
      const region = new FirmwareSlots(flash).inactive();
      region.erase(0);
      t.deepEqual(new FirmwareSlots(flash).boot(), st(1, false, A, null), 'a half-rewritten slot never boots');
    },
  },
  {
    name: 'a copy that fails its CRC is ignored, the other one is used; both bad: factory, and boot() does not throw',
    run(t) {
      const flash = newFlash();
      trialB(flash);
      const newest = newestBlock(flash);
      flash.bytes[newest * BLOCK_BYTES + 20] ^= 0x01; // inside the record
      // The older copy is the activated, not yet booted state.
      t.deepEqual(new FirmwareSlots(flash).state(), st(1, false, A, null));
      flash.bytes[(1 - newest) * BLOCK_BYTES + 40] ^= 0x80;
      t.deepEqual(new FirmwareSlots(flash).state(), FACTORY);
      t.deepEqual(new FirmwareSlots(flash).boot(), FACTORY);
    },
  },
  {
    name: 'a record with a valid CRC but impossible fields is ignored (flash is outside data)',
    run(t) {
      const cases: Array<[string, (r: Uint8Array) => void]> = [
        ['slot number 7', (r) => (r[9] = 7)],
        ['image length beyond the slot', (r) => { r[11] = 0x7f; }],
        ['image present flag 2', (r) => (r[10] = 2)],
        ['unknown format version', (r) => (r[4] = 9)],
      ];
      for (const [what, edit] of cases) {
        const flash = newFlash();
        trialB(flash);
        const newest = newestBlock(flash);
        forgeRecord(flash, newest, edit);
        t.deepEqual(new FirmwareSlots(flash).state(), st(1, false, A, null), `${what}: the other copy is used`);
        forgeRecord(flash, 1 - newest, edit);
        t.deepEqual(new FirmwareSlots(flash).boot(), FACTORY, `${what}: both forged`);
      }
    },
  },
  {
    name: 'a flash that fails reads: boot() does not throw and boots no unrecorded trial; writes refuse (storage)',
    run(t) {
      const inner = newFlash();
      activatedB(inner);
      const flash = new FailingReads(inner);
      const s = new FirmwareSlots(flash);
      flash.failReads = true;
      const booted = s.boot();
      t.equal(booted.trial, false, 'no trial without recording its attempt');
      t.throws(() => s.activate(C), isCode('storage'));
      t.throws(() => s.revert(), isCode('storage'));
      t.throws(() => s.readSlot(0, 0, new Uint8Array(4), 0, 4), isCode('storage'));
      flash.failReads = false;
      t.deepEqual(s.boot(), st(0, true, B, null), 'the pending trial is still there');
    },
  },
  {
    name: 'readSlot reads the image bytes of a slot; outside the slot is storage',
    run(t) {
      const flash = newFlash();
      confirmedA(flash);
      const s = new FirmwareSlots(flash);
      const into = new Uint8Array(A_BYTES.length + 2);
      s.readSlot(1, 0, into, 2, A_BYTES.length);
      t.deepEqual(into.subarray(2), A_BYTES);
      t.throws(() => s.readSlot(1, SLOT_BYTES - 1, into, 0, 2), isCode('storage'));
      t.throws(() => s.readSlot(2 as 0, 0, into, 0, 1), isCode('storage'));
    },
  },
  {
    name: 'power cut at every byte of the first activate() (factory -> A on trial)',
    run(t) {
      cutEverywhere(
        t,
        (f) => writeImage(new FirmwareSlots(f).inactive(), A_BYTES),
        (s) => s.activate(A),
        FACTORY,
        st(1, true, A, null),
      );
    },
  },
  {
    name: 'power cut at every byte of activate() (A confirmed -> B on trial)',
    run(t) {
      cutEverywhere(
        t,
        (f) => {
          confirmedA(f);
          stage(new FirmwareSlots(f), B_BYTES);
        },
        (s) => s.activate(B),
        st(1, false, A, null),
        st(0, true, B, null),
      );
    },
  },
  {
    name: 'power cut at every byte of the boot() that records a trial attempt',
    run(t) {
      // Not recorded: the trial boots now; recorded: it counts as attempted, and without confirm it reverts.
      cutEverywhere(t, activatedB, (s) => void s.boot(), st(0, true, B, null), st(1, false, A, B));
    },
  },
  {
    name: 'power cut at every byte of confirm()',
    run(t) {
      // Not confirmed: the next boot reverts (a trial booted once); confirmed: B boots.
      cutEverywhere(t, trialB, (s) => s.confirm(), st(1, false, A, B), st(0, false, B, null));
    },
  },
  {
    name: 'power cut at every byte of revert() during the trial and before it',
    run(t) {
      cutEverywhere(t, trialB, (s) => s.revert(), st(1, false, A, B), st(1, false, A, B));
      cutEverywhere(t, activatedB, (s) => s.revert(), st(0, true, B, null), st(1, false, A, B));
    },
  },
  {
    name: 'power cut at every byte of the boot() that reverts an unconfirmed trial',
    run(t) {
      // Not recorded: this boot reverts again; recorded: the reverted state is there, its report spent.
      cutEverywhere(t, trialB, (s) => void s.boot(), st(1, false, A, B), st(1, false, A, null));
    },
  },
  {
    name: 'power cut at every byte of staging over a pending trial: a half-written image never boots',
    run(t) {
      // The test writes the slot itself: its own writes meet the cut as PowerCut.
      const cut = (e: unknown) => e instanceof PowerCut || isCode('storage')(e);
      const r = cutEverywhere(t, activatedB, (s) => stage(s, C_BYTES), st(0, true, B, null), st(1, false, A, null), cut);
      t.ok(r.new > 0, 'cuts while the slot is rewritten boot the confirmed image');
    },
  },
];
export default suite;
