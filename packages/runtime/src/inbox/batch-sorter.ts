/**
 * Sorting a polled batch into the updates that are new and the ones the server handed out again
 * (see recent-updates.ts for how a duplicate is told from a new update reusing an id), noting a
 * new id epoch on the way. Pure: each inbox stores the fresh updates its own way.
 */
import type { Logger } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import { fingerprintOf } from './recent-updates.js';

/** What the inbox holds, as far as the sorting needs it. */
export interface InboxMemory {
  /** `[update_id, fingerprint]` of the recently accepted updates. */
  recent: Iterable<readonly [number, string]>;
  pending: Iterable<{ readonly update: { readonly update_id: number } }>;
  /** The offset stored before this batch. */
  storedOffset: number;
}

export interface SortedBatch {
  /** New updates in batch order, with their place in the batch (duplicates count). */
  fresh: Array<{ update: Update; fingerprint: string; position: number }>;
  /** Ids of the updates handed out again, skipped. */
  again: number[];
  /** The first new update whose id is below the stored offset: a new id epoch. */
  wentBack: { updateId: number; storedOffset: number } | undefined;
}

export function sortBatch(updates: readonly Update[], memory: InboxMemory): SortedBatch {
  // Only the batch's ids are looked up: indexing all of `recent` and `pending` per batch was most
  // of accept's own cost for a batch of one (the latency case).
  const batchIds = new Set(updates.map((u) => u.update_id));
  const seen = new Map<number, Set<string>>();
  for (const [id, fingerprint] of memory.recent) if (batchIds.has(id)) seen.set(id, (seen.get(id) ?? new Set()).add(fingerprint));
  const pendingIds = new Set<number>();
  for (const e of memory.pending) if (batchIds.has(e.update.update_id)) pendingIds.add(e.update.update_id);
  const sorted: SortedBatch = { fresh: [], again: [], wentBack: undefined };
  for (let position = 0; position < updates.length; position++) {
    const u = updates[position] as Update;
    const fingerprint = fingerprintOf(u);
    const seenIds = seen.get(u.update_id);
    // A pending update older than the recent window is known by its id alone.
    const duplicate = seenIds !== undefined ? seenIds.has(fingerprint) : pendingIds.has(u.update_id);
    if (duplicate) {
      sorted.again.push(u.update_id);
      continue;
    }
    if (u.update_id < memory.storedOffset) sorted.wentBack ??= { updateId: u.update_id, storedOffset: memory.storedOffset };
    seen.set(u.update_id, (seenIds ?? new Set()).add(fingerprint));
    pendingIds.add(u.update_id);
    sorted.fresh.push({ update: u, fingerprint, position });
  }
  return sorted;
}

/** Says what the sorting found, once the batch is stored: a new id epoch (WARNING) and skipped duplicates. */
export function reportSorted(sorted: SortedBatch, logger: Logger): void {
  if (sorted.wentBack !== undefined) {
    logger.warning('update ids went back below the stored offset: the Bot API server numbers updates anew (it was restarted, or Telegram chose new ids after a quiet week); taking them as new updates', sorted.wentBack);
  }
  if (sorted.again.length > 0) logger.info('skipped updates the server handed out again (already in the inbox or handled)', { updateIds: sorted.again });
}
