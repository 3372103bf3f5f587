/**
 * The inbox's memory of the updates it accepted lately, for telling a duplicate from a new
 * update that reuses an id. The Bot API hands an unconfirmed update out again (after a
 * reconnect, or to a poll without offset), byte for byte; a restarted server, or Telegram after a
 * quiet week, starts a new id epoch whose ids may collide with old ones but whose updates differ.
 * So an update is a duplicate when its id *and* its fingerprint were seen; the id alone is not
 * enough. Bounded: only the newest RECENT_UPDATES_KEPT are kept, far more than the one
 * unconfirmed batch a server can hand out again.
 */
import { createHash } from 'node:crypto';

/** How many accepted updates the inbox remembers. */
export const RECENT_UPDATES_KEPT = 1000;

/** `[update_id, fingerprint]`, oldest first. A tuple keeps the stored file small. */
export type RecentUpdate = [number, string];

/** Object keys sorted at every level, so a stored copy (whose keys a schema may reorder) hashes as the wire original. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
}

/** Equal for the same update delivered twice; different, all but surely, for two updates. */
export function fingerprintOf(update: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(update))).digest('hex').slice(0, 16);
}

/** Appends `entry` and drops the oldest beyond the bound, in place. */
export function remember(recent: RecentUpdate[], entry: RecentUpdate): void {
  recent.push(entry);
  if (recent.length > RECENT_UPDATES_KEPT) recent.splice(0, recent.length - RECENT_UPDATES_KEPT);
}
