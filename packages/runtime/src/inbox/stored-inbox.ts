/**
 * What a bot's inbox holds on disk right now, read the way the bot reads it at start: the
 * snapshot (`inbox.json`) with the journal records it lacks applied (inbox-journal.ts).
 * Read-only and lock-free: for tools and tests that look at a running bot's offset or pending updates.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { InboxState } from './inbox.js';
import { applyRecord, isInboxRecord } from './inbox-records.js';

export function readStoredInbox(botDir: string): InboxState {
  const state = JSON.parse(readFileSync(path.join(botDir, 'inbox.json'), 'utf8')) as InboxState;
  state.journalSeq ??= 0;
  const segments = readdirSync(botDir)
    .filter((name) => /^inbox\.json\.journal\.\d+\.jsonl$/.test(name))
    .sort();
  for (const name of segments) {
    for (const line of readFileSync(path.join(botDir, name), 'utf8').split('\n')) {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        continue; // a torn last line
      }
      if (isInboxRecord(raw) && raw.n > state.journalSeq) applyRecord(state, raw);
    }
  }
  return state;
}
