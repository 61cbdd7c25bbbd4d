// The agent's flash layout: geometry changes and moving both queues to a new
// geometry. FlashRegion (a run of blocks as a FlashPort of its own) lives in
// src/shared/flash-region.ts, re-exported here for the agent's callers.
import type { FlashPort } from '../ports.js';
import { FlashRegion } from '../shared/flash-region.js';
import { PersistentQueue, type FullPolicy } from '../telemetry/queue.js';
import { AgentError } from './errors.js';

export { FlashRegion, FlashRegionError, type FlashRegionErrorCode } from '../shared/flash-region.js';

/**
 * Offered by a flash adapter whose stored image has another geometry than
 * configured (a firmware update changed blockCount): the adapter keeps the old
 * image untouched and hands out both, and the port itself refuses every call
 * until commit(). The owner copies the records from `from` into `to`, then
 * commits; a crash before commit() leaves the old image as the stored one.
 */
export interface FlashGeometryChange {
  /** The stored image, with the geometry it was written with. Only read. */
  readonly from: FlashPort;
  /** A fresh, erased image of the configured geometry (not yet the stored one). */
  readonly to: FlashPort;
  /** Makes `to` the stored image durably (the old one goes) and the port usable on it. */
  commit(): void;
}

/** The geometry change a flash port offers, or null (ports without the member have none). */
export function geometryChangeOf(flash: FlashPort): FlashGeometryChange | null {
  const change = (flash as { geometryChange?: FlashGeometryChange | null }).geometryChange;
  return change ?? null;
}

export interface QueueMigration {
  queue: 'telemetry' | 'security';
  live: number;
  deadLetters: number;
  dropped: number;
  corrupt: number;
  nextSeq: number;
}

/**
 * Copies both agent queues from an image of one geometry to an erased image of
 * another, keeping order and sequence numbers. The layout is the agent's: the
 * security queue owns the last `securityBlocks` blocks, telemetry the rest.
 * Telemetry (drop-oldest) keeps its newest records when the new region is
 * smaller (the rest counted as dropped); security (reject-new) must fit whole,
 * else AgentError 'flash-migration' and the caller keeps the old image.
 */
export function migrateAgentFlash(from: FlashPort, to: FlashPort, securityBlocks: number): QueueMigration[] {
  if (from.blockSize !== to.blockSize) throw new AgentError('flash-migration', `block size changed from ${from.blockSize} to ${to.blockSize}: not supported`);
  if (from.blockCount < securityBlocks + 2) throw new AgentError('flash-migration', `old image has ${from.blockCount} blocks, fewer than the layout needs (${securityBlocks + 2})`);
  const layouts: Array<{ queue: 'telemetry' | 'security'; whenFull: FullPolicy; from: FlashRegion; to: FlashRegion }> = [
    { queue: 'telemetry', whenFull: 'drop-oldest', from: new FlashRegion(from, 0, from.blockCount - securityBlocks), to: new FlashRegion(to, 0, to.blockCount - securityBlocks) },
    { queue: 'security', whenFull: 'reject-new', from: new FlashRegion(from, from.blockCount - securityBlocks, securityBlocks), to: new FlashRegion(to, to.blockCount - securityBlocks, securityBlocks) },
  ];
  const out: QueueMigration[] = [];
  for (const l of layouts) {
    try {
      const source = new PersistentQueue(l.from, { whenFull: l.whenFull });
      const target = new PersistentQueue(l.to, { whenFull: l.whenFull });
      const r = target.copyFrom(source);
      out.push({ queue: l.queue, live: r.live, deadLetters: r.deadLetters, dropped: r.dropped, corrupt: r.corrupt, nextSeq: target.stats().nextSeq });
    } catch (e) {
      throw new AgentError('flash-migration', `${l.queue} queue not migrated (old image kept): ${(e as Error).message}`);
    }
  }
  return out;
}
