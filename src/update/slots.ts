// A/B firmware slots with a power-safe boot record (the role of MCUboot's
// image trailer or an A/B boot control block), on one FlashPort:
//
//   [block 0: boot record copy][block 1: boot record copy][slot 0][slot 1]
//
// The two copies are written alternately: an update erases the block of the
// OLDER copy and writes the new record there with the next sequence number;
// the newer copy is never touched. A power cut at any byte of that erase or
// write leaves a copy that fails its CRC (ignored) next to the intact
// previous one, or the complete new one: the state is the old or the new,
// never a mix. Everything read back is validated (flash is outside data); a
// record that fails any check counts as absent, and no valid copy at all is
// the factory state (slot 0 confirmed, its image the factory one: null).
//
// Trial boots: activate() makes the inactive slot pending; the next boot()
// boots it on trial and records the attempt BEFORE it runs; a boot that
// finds the attempt recorded and no confirm() reverts to the confirmed slot.
// So a trial that crashes, hangs or loses power before confirming runs at
// most MAX_TRIAL_BOOTS times.
import type { FlashPort } from '../ports.js';
import { crc32 } from '../shared/crc32.js';
import { FlashRegion } from '../shared/flash-region.js';
import { hex, hexDigitValue } from '../sigv4/hex.js';
import { UpdateError } from './update-error.js';

export interface SlotImage {
  length: number;
  /** Lowercase hex. */
  sha256: string;
}

export interface BootState {
  slot: 0 | 1;
  /** On trial: booted after activate(), not yet confirmed. */
  trial: boolean;
  /** The image in the booted slot, or null for the factory image (nothing staged yet). */
  image: SlotImage | null;
  /** Set when this boot reverted a trial that never confirmed (or was reverted by revert()). */
  revertedFrom: SlotImage | null;
}

/** Boots of a pending image without confirm() before boot() reverts it. */
export const MAX_TRIAL_BOOTS = 1;

/** Bytes of one encoded boot record (at the start of its control block); the flash's blocks must hold one. */
export const BOOT_RECORD_BYTES = 202;

const MAGIC = [0x41, 0x42, 0x66, 0x77]; // "ABfw"
const FORMAT_VERSION = 1;
const SHA256_BYTES = 32;
/** Present flag, length, digest. */
const IMAGE_BYTES = 1 + 4 + SHA256_BYTES;
const O_VERSION = 4;
const O_SEQ = 5;
const O_CONFIRMED_SLOT = 9;
const O_CONFIRMED_IMAGE = 10;
const O_PENDING_IMAGE = O_CONFIRMED_IMAGE + IMAGE_BYTES;
const O_TRIAL_BOOTS = O_PENDING_IMAGE + IMAGE_BYTES;
const O_BOOTED_SLOT = O_TRIAL_BOOTS + 1;
const O_BOOTED_TRIAL = O_BOOTED_SLOT + 1;
const O_BOOTED_IMAGE = O_BOOTED_TRIAL + 1;
const O_REVERTED_FROM = O_BOOTED_IMAGE + IMAGE_BYTES;
const O_REVERT_NOTICE = O_REVERTED_FROM + IMAGE_BYTES;
const O_CRC = O_REVERT_NOTICE + IMAGE_BYTES;

/** The decoded boot record. Images are validated copies; the pending image, if any, is in slot 1 - confirmedSlot. */
interface BootRecord {
  seq: number;
  confirmedSlot: 0 | 1;
  confirmedImage: SlotImage | null;
  pendingImage: SlotImage | null;
  /** Boots of the pending image so far (0..MAX_TRIAL_BOOTS). */
  trialBoots: number;
  /** What the last boot() decided (state() reports it). */
  bootedSlot: 0 | 1;
  bootedTrial: boolean;
  bootedImage: SlotImage | null;
  revertedFrom: SlotImage | null;
  /** Set by revert(): the next boot() reports it as revertedFrom. */
  revertNotice: SlotImage | null;
}

function factoryRecord(): BootRecord {
  return { seq: 0, confirmedSlot: 0, confirmedImage: null, pendingImage: null, trialBoots: 0, bootedSlot: 0, bootedTrial: false, bootedImage: null, revertedFrom: null, revertNotice: null };
}

function sameImage(a: SlotImage | null, b: SlotImage | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.sha256 === b.sha256;
}

/** Same content, sequence number aside. */
function sameRecord(a: BootRecord, b: BootRecord): boolean {
  return (
    a.confirmedSlot === b.confirmedSlot && sameImage(a.confirmedImage, b.confirmedImage) && sameImage(a.pendingImage, b.pendingImage) &&
    a.trialBoots === b.trialBoots && a.bootedSlot === b.bootedSlot && a.bootedTrial === b.bootedTrial && sameImage(a.bootedImage, b.bootedImage) &&
    sameImage(a.revertedFrom, b.revertedFrom) && sameImage(a.revertNotice, b.revertNotice)
  );
}

/** Serial-number order (RFC 1982) so the 32-bit sequence may wrap. */
function newerSeq(a: number, b: number): boolean {
  return a !== b && ((a - b) >>> 0) < 0x80000000;
}

function getU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function isSlotImage(image: SlotImage, slotBytes: number): boolean {
  return (
    typeof image === 'object' && image !== null && Number.isInteger(image.length) && image.length >= 1 && image.length <= slotBytes &&
    typeof image.sha256 === 'string' && image.sha256.length === SHA256_BYTES * 2 && /^[0-9a-f]+$/.test(image.sha256)
  );
}

function putImage(b: Uint8Array, o: number, image: SlotImage | null): void {
  b.fill(0, o, o + IMAGE_BYTES);
  if (image === null) return;
  b[o] = 1;
  putU32(b, o + 1, image.length);
  for (let i = 0; i < SHA256_BYTES; i++) {
    b[o + 5 + i] = (hexDigitValue(image.sha256.charCodeAt(2 * i)) << 4) | hexDigitValue(image.sha256.charCodeAt(2 * i + 1));
  }
}

/** The image at o, null for none, or undefined when the bytes are not a valid image entry. */
function getImage(b: Uint8Array, o: number, slotBytes: number): SlotImage | null | undefined {
  const present = b[o]!;
  if (present === 0) {
    for (let i = o + 1; i < o + IMAGE_BYTES; i++) if (b[i] !== 0) return undefined;
    return null;
  }
  if (present !== 1) return undefined;
  const length = getU32(b, o + 1);
  if (!(length >= 1 && length <= slotBytes)) return undefined;
  return { length, sha256: hex(b.subarray(o + 5, o + 5 + SHA256_BYTES)) };
}

function encodeRecord(r: BootRecord, b: Uint8Array): void {
  b.fill(0, 0, BOOT_RECORD_BYTES);
  for (let i = 0; i < MAGIC.length; i++) b[i] = MAGIC[i]!;
  b[O_VERSION] = FORMAT_VERSION;
  putU32(b, O_SEQ, r.seq);
  b[O_CONFIRMED_SLOT] = r.confirmedSlot;
  putImage(b, O_CONFIRMED_IMAGE, r.confirmedImage);
  putImage(b, O_PENDING_IMAGE, r.pendingImage);
  b[O_TRIAL_BOOTS] = r.trialBoots;
  b[O_BOOTED_SLOT] = r.bootedSlot;
  b[O_BOOTED_TRIAL] = r.bootedTrial ? 1 : 0;
  putImage(b, O_BOOTED_IMAGE, r.bootedImage);
  putImage(b, O_REVERTED_FROM, r.revertedFrom);
  putImage(b, O_REVERT_NOTICE, r.revertNotice);
  putU32(b, O_CRC, crc32(b, 0, O_CRC));
}

/** The record in b, or null when any byte of it fails a check. */
function decodeRecord(b: Uint8Array, slotBytes: number): BootRecord | null {
  for (let i = 0; i < MAGIC.length; i++) if (b[i] !== MAGIC[i]) return null;
  if (b[O_VERSION] !== FORMAT_VERSION) return null;
  if (getU32(b, O_CRC) !== crc32(b, 0, O_CRC)) return null;
  const confirmedSlot = b[O_CONFIRMED_SLOT]!;
  const trialBoots = b[O_TRIAL_BOOTS]!;
  const bootedSlot = b[O_BOOTED_SLOT]!;
  const bootedTrial = b[O_BOOTED_TRIAL]!;
  if (!(confirmedSlot <= 1 && bootedSlot <= 1 && bootedTrial <= 1 && trialBoots <= MAX_TRIAL_BOOTS)) return null;
  const confirmedImage = getImage(b, O_CONFIRMED_IMAGE, slotBytes);
  const pendingImage = getImage(b, O_PENDING_IMAGE, slotBytes);
  const bootedImage = getImage(b, O_BOOTED_IMAGE, slotBytes);
  const revertedFrom = getImage(b, O_REVERTED_FROM, slotBytes);
  const revertNotice = getImage(b, O_REVERT_NOTICE, slotBytes);
  if (confirmedImage === undefined || pendingImage === undefined || bootedImage === undefined || revertedFrom === undefined || revertNotice === undefined) return null;
  // Only a pending image has trial boots; a trial boot is of the pending slot.
  if (pendingImage === null && trialBoots !== 0) return null;
  if (bootedTrial === 1 && bootedSlot === confirmedSlot) return null;
  return {
    seq: getU32(b, O_SEQ),
    confirmedSlot: confirmedSlot as 0 | 1,
    confirmedImage,
    pendingImage,
    trialBoots,
    bootedSlot: bootedSlot as 0 | 1,
    bootedTrial: bootedTrial === 1,
    bootedImage,
    revertedFrom,
    revertNotice,
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The current record and where it lives; readFailed: a copy could not be read at all (not the same as invalid). */
interface Loaded {
  record: BootRecord;
  /** Control block of the current record, or -1 for the factory state. */
  block: number;
  readFailed: boolean;
}

/**
 * The inactive slot handed out for staging. An erase first withdraws a
 * pending (not yet booted) trial of this slot, so that a power cut while the
 * slot is being rewritten can never boot a half-written image.
 */
class StagingSlot implements FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;

  constructor(
    private readonly region: FlashRegion,
    /** Withdraws a pending trial of this slot (UpdateError 'busy' if the slot is booted or confirmed by now). */
    private readonly beforeErase: () => void,
  ) {
    this.blockSize = region.blockSize;
    this.blockCount = region.blockCount;
  }

  erase(block: number): void {
    // Every erase, not only the first: activate() may have run since.
    this.beforeErase();
    this.region.erase(block);
  }

  read(offset: number, into: Uint8Array, start: number, length: number): void {
    this.region.read(offset, into, start, length);
  }

  write(offset: number, bytes: Uint8Array, start: number, length: number): void {
    this.region.write(offset, bytes, start, length);
  }
}

export class FirmwareSlots {
  /** Two copies of the boot record, one per block. */
  static readonly CONTROL_BLOCKS = 2;
  readonly slotBytes: number;
  private readonly control: readonly FlashRegion[];
  private readonly slots: readonly FlashRegion[];
  /** One record's bytes: reading, and the record being written. */
  private readonly readBuffer = new Uint8Array(BOOT_RECORD_BYTES);
  private readonly writeBuffer = new Uint8Array(BOOT_RECORD_BYTES);

  /** Throws UpdateError 'storage' when the flash cannot hold the layout (blocks smaller than a record, fewer than 4 blocks). */
  constructor(flash: FlashPort) {
    const { blockSize, blockCount } = flash;
    if (!(Number.isInteger(blockSize) && blockSize >= BOOT_RECORD_BYTES && Number.isInteger(blockCount) && blockCount >= FirmwareSlots.CONTROL_BLOCKS + 2)) {
      throw new UpdateError('storage', `firmware flash of ${blockCount} blocks of ${blockSize} bytes cannot hold ${FirmwareSlots.CONTROL_BLOCKS} control blocks of ${BOOT_RECORD_BYTES} bytes and two slots`);
    }
    const slotBlocks = Math.floor((blockCount - FirmwareSlots.CONTROL_BLOCKS) / 2);
    this.slotBytes = slotBlocks * blockSize;
    this.control = [new FlashRegion(flash, 0, 1), new FlashRegion(flash, 1, 1)];
    this.slots = [new FlashRegion(flash, FirmwareSlots.CONTROL_BLOCKS, slotBlocks), new FlashRegion(flash, FirmwareSlots.CONTROL_BLOCKS + slotBlocks, slotBlocks)];
  }

  /** Bootloader: decides what boots now (a trial booted once without confirm reverts) and records the attempt. Never throws. */
  boot(): BootState {
    const loaded = this.load();
    const r = loaded.record;
    const next: BootRecord = { ...r, revertedFrom: null, revertNotice: null };
    if (r.pendingImage !== null && r.trialBoots < MAX_TRIAL_BOOTS) {
      next.trialBoots = r.trialBoots + 1;
      next.bootedSlot = (1 - r.confirmedSlot) as 0 | 1;
      next.bootedTrial = true;
      next.bootedImage = r.pendingImage;
    } else {
      next.pendingImage = null;
      next.trialBoots = 0;
      next.bootedSlot = r.confirmedSlot;
      next.bootedTrial = false;
      next.bootedImage = r.confirmedImage;
      // A trial that used its boots without confirm() reverts now; revert() left its notice for this boot.
      next.revertedFrom = r.pendingImage ?? r.revertNotice;
    }
    if (!sameRecord(next, r)) {
      try {
        if (loaded.readFailed) throw new UpdateError('storage', 'boot record unreadable');
        this.store(loaded, next);
      } catch {
        // The attempt could not be recorded: a trial must not run unrecorded
        // (it could boot forever), so the confirmed slot boots; nothing else
        // depends on the write.
        if (next.bootedTrial) return { slot: r.confirmedSlot, trial: false, image: r.confirmedImage, revertedFrom: null };
      }
    }
    return FirmwareSlots.stateOf(next);
  }

  /** Firmware: the state boot() left, read only. */
  state(): BootState {
    return FirmwareSlots.stateOf(this.load().record);
  }

  /**
   * The slot not booted now, as a FlashPort, for staging. Throws UpdateError
   * 'busy' while the booted slot is not the confirmed one (a trial: the other
   * slot holds the only confirmed image). An erase of it withdraws a
   * pending trial that has not booted yet (UpdateError 'storage' if that fails).
   */
  inactive(): FlashPort {
    const r = this.loadForWrite();
    if (r.record.bootedSlot !== r.record.confirmedSlot) throw new UpdateError('busy', 'running a trial image: the other slot holds the confirmed one');
    const slot = (1 - r.record.confirmedSlot) as 0 | 1;
    return new StagingSlot(this.slots[slot]!, () => this.withdrawPending(slot));
  }

  /** Bootloader: reads image bytes of a slot. Throws UpdateError 'storage' (bad slot, range or flash failure). */
  readSlot(slot: 0 | 1, offset: number, into: Uint8Array, start: number, length: number): void {
    if (slot !== 0 && slot !== 1) throw new UpdateError('storage', `no slot ${String(slot)}`);
    try {
      this.slots[slot]!.read(offset, into, start, length);
    } catch (e) {
      throw new UpdateError('storage', `slot ${slot}: ${message(e)}`);
    }
  }

  /**
   * The inactive slot (holding image) boots next, on trial. Atomic. Throws
   * UpdateError 'too-large' (image longer than a slot), 'bad-hash' (length or
   * sha256 malformed), 'busy' (running a trial), 'storage'.
   */
  activate(image: SlotImage): void {
    if (typeof image === 'object' && image !== null && Number.isInteger(image.length) && image.length > this.slotBytes) {
      throw new UpdateError('too-large', `image of ${image.length} bytes, slot of ${this.slotBytes}`);
    }
    if (!isSlotImage(image, this.slotBytes)) throw new UpdateError('bad-hash', 'image needs an integer length >= 1 and a lowercase hex sha256');
    const loaded = this.loadForWrite();
    const r = loaded.record;
    if (r.bootedSlot !== r.confirmedSlot) throw new UpdateError('busy', 'running a trial image: confirm or revert it first');
    this.store(loaded, { ...r, pendingImage: { length: image.length, sha256: image.sha256 }, trialBoots: 0, revertNotice: null });
  }

  /** Self-test passed: the trial slot becomes the confirmed one. Throws UpdateError 'busy' when not running a trial, 'storage'. */
  confirm(): void {
    const loaded = this.loadForWrite();
    const r = loaded.record;
    if (!(r.bootedTrial && r.pendingImage !== null && r.bootedSlot !== r.confirmedSlot)) throw new UpdateError('busy', 'not running a trial image');
    this.store(loaded, { ...r, confirmedSlot: r.bootedSlot, confirmedImage: r.pendingImage, pendingImage: null, trialBoots: 0, bootedTrial: false, revertNotice: null });
  }

  /** Self-test failed: the confirmed slot boots next (and that boot reports revertedFrom). No pending trial: nothing to do. Throws UpdateError 'storage'. */
  revert(): void {
    const loaded = this.loadForWrite();
    const r = loaded.record;
    if (r.pendingImage === null) return;
    this.store(loaded, { ...r, pendingImage: null, trialBoots: 0, revertNotice: r.pendingImage });
  }

  /** Before an erase of `slot` for staging: a pending trial of it that has not booted is withdrawn. */
  private withdrawPending(slot: 0 | 1): void {
    const loaded = this.loadForWrite();
    const r = loaded.record;
    if (r.bootedSlot === slot || r.confirmedSlot === slot) throw new UpdateError('busy', `slot ${slot} is booted or confirmed`);
    if (r.pendingImage === null) return;
    this.store(loaded, { ...r, pendingImage: null, trialBoots: 0 });
  }

  private static stateOf(r: BootRecord): BootState {
    return { slot: r.bootedSlot, trial: r.bootedTrial, image: r.bootedImage, revertedFrom: r.revertedFrom };
  }

  private loadForWrite(): Loaded {
    const loaded = this.load();
    if (loaded.readFailed) throw new UpdateError('storage', 'boot record unreadable');
    return loaded;
  }

  /** The newer valid copy, else the other valid one, else the factory state. */
  private load(): Loaded {
    let best: BootRecord | null = null;
    let block = -1;
    let readFailed = false;
    for (let i = 0; i < FirmwareSlots.CONTROL_BLOCKS; i++) {
      try {
        this.control[i]!.read(0, this.readBuffer, 0, BOOT_RECORD_BYTES);
      } catch {
        readFailed = true;
        continue;
      }
      const r = decodeRecord(this.readBuffer, this.slotBytes);
      if (r !== null && (best === null || newerSeq(r.seq, best.seq))) {
        best = r;
        block = i;
      }
    }
    return { record: best ?? factoryRecord(), block, readFailed };
  }

  /** Writes `next` with the next sequence number into the block that does not hold the current record, then reads it back. */
  private store(current: Loaded, next: BootRecord): void {
    const target = current.block === 0 ? 1 : 0;
    const record: BootRecord = { ...next, seq: current.block < 0 ? 1 : (current.record.seq + 1) >>> 0 };
    encodeRecord(record, this.writeBuffer);
    const region = this.control[target]!;
    try {
      region.erase(0);
      region.write(0, this.writeBuffer, 0, BOOT_RECORD_BYTES);
      region.read(0, this.readBuffer, 0, BOOT_RECORD_BYTES);
    } catch (e) {
      throw new UpdateError('storage', `boot record: ${message(e)}`);
    }
    for (let i = 0; i < BOOT_RECORD_BYTES; i++) {
      if (this.readBuffer[i] !== this.writeBuffer[i]) throw new UpdateError('storage', 'boot record did not read back as written');
    }
  }
}
