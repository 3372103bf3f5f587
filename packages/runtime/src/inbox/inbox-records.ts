/**
 * The inbox's journal records: what each change of the inbox writes to its journal, and how a
 * record changes the inbox's state. The live inbox and the replay after a restart apply records
 * with the same function, so what is replayed is what happened. The state's `journalSeq` is the
 * number of the last record applied; a snapshot (or backup) of the state therefore says which
 * records it holds already.
 */
import type { Numbered } from '@botvisor/core';
import type { InboxState } from './inbox.js';
import { remember } from './recent-updates.js';

type StoredUpdate = InboxState['pending'][number]['update'];

/** A batch taken in: its new updates (with their fingerprints) and the offset that confirms it. */
export interface AcceptedRecord extends Numbered {
  accepted: Array<{ update: StoredUpdate; fingerprint: string }>;
  receivedAt: string;
  offset: number;
}

/** A handler began on the oldest unstarted entry with this update id. */
export interface StartedRecord extends Numbered {
  started: number;
}

/** A handler settled: the entry with this update id leaves the inbox (a started one first). */
export interface SettledRecord extends Numbered {
  settled: number;
}

/**
 * The inbox was closed cleanly without folding its journal into the snapshot (a reload's
 * hand-over: the new process replays the journal instead of waiting for that rewrite).
 */
export interface ClosedRecord extends Numbered {
  closed: true;
}

export type InboxRecord = AcceptedRecord | StartedRecord | SettledRecord | ClosedRecord;

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** The shape check of a journal line (cheap: it runs for every line at open). */
export function isInboxRecord(raw: unknown): raw is InboxRecord {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as Record<string, unknown>;
  if (!isInt(r.n)) return false;
  if ('started' in r) return isInt(r.started);
  if ('settled' in r) return isInt(r.settled);
  if ('closed' in r) return r.closed === true;
  return (
    Array.isArray(r.accepted) &&
    typeof r.receivedAt === 'string' &&
    isInt(r.offset) &&
    r.accepted.every((a: unknown) => {
      const e = a as { update?: { update_id?: unknown }; fingerprint?: unknown } | null;
      return typeof e?.fingerprint === 'string' && isInt(e.update?.update_id);
    })
  );
}

function removeSettled(d: InboxState, updateId: number): void {
  let i = d.pending.findIndex((e) => e.update.update_id === updateId && e.started);
  if (i < 0) i = d.pending.findIndex((e) => e.update.update_id === updateId);
  if (i >= 0) d.pending.splice(i, 1);
}

/** Applies one record to the state, in place. */
export function applyRecord(d: InboxState, r: InboxRecord): void {
  if ('started' in r) {
    const entry = d.pending.find((e) => e.update.update_id === r.started && !e.started);
    if (entry !== undefined) entry.started = true;
  } else if ('settled' in r) {
    removeSettled(d, r.settled);
  } else if ('closed' in r) {
    d.cleanShutdown = true;
  } else {
    for (const { update, fingerprint } of r.accepted) {
      remember(d.recent, [update.update_id, fingerprint]);
      d.pending.push({ update, receivedAt: r.receivedAt, started: false, crashes: 0 });
    }
    d.offset = r.offset;
  }
  d.journalSeq = r.n;
}
