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

/** An integer-like key, which JSON.stringify would put first whatever the sort: left to the general path. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/**
 * `JSON.stringify(canonical(value))` in one pass, without the sorted copies (it runs for every
 * update accepted: the copies were most of its cost in a profile). Anything but plain JSON data,
 * or an object with integer-like keys, takes the general path, so the text is always the same.
 */
export function canonicalJson(value: unknown): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i > 0 ? ',' : ''}${canonicalJson(value[i]) ?? 'null'}`;
    return `${out}]`;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (!keys.some((k) => INDEX_KEY.test(k))) {
      keys.sort();
      let out = '{';
      for (const k of keys) {
        const v = canonicalJson(record[k]);
        if (v === undefined) continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${v}`;
      }
      return `${out}}`;
    }
  }
  return JSON.stringify(canonical(value));
}

/** Equal for the same update delivered twice; different, all but surely, for two updates. */
export function fingerprintOf(update: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(update) ?? 'undefined')
    .digest('hex')
    .slice(0, 16);
}

/** Appends `entry` and drops the oldest beyond the bound, in place. */
export function remember(recent: RecentUpdate[], entry: RecentUpdate): void {
  recent.push(entry);
  if (recent.length > RECENT_UPDATES_KEPT) recent.splice(0, recent.length - RECENT_UPDATES_KEPT);
}
