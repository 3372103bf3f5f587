/**
 * What sessions keep durably, in the bot's own store (the bridge's state file): the budget ledger
 * (usage per user and session per UTC day) and one record per live agent process (so the next
 * start knows which chats lost their session to a crash). The schema is zod, so a hand-edited or
 * older file loads with defaults instead of failing.
 */
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)

const usage = z.object({ costUsd: z.number().min(0), tokens: z.number().min(0) });

export const liveSessionSchema = z.object({
  chatId: z.number().int(),
  name: z.string(),
  pid: z.number().int(),
  startTime: z.number(),
  /** The process tree's job marker: finds an orphan that escaped its group. */
  marker: z.string(),
  startedAt: z.string(),
  /** Messages accepted and not yet answered when this was last written. */
  pending: z.number().int().min(0).default(0),
});

export const sessionsFileSchema = z.object({
  ledger: z.object({ day: z.string(), used: z.record(z.string(), usage) }).default({ day: '', used: {} }),
  live: z.array(liveSessionSchema).default([]),
});

export type SessionUsage = z.infer<typeof usage>;
export type LiveSessionRecord = z.infer<typeof liveSessionSchema>;
export type SessionsFile = z.infer<typeof sessionsFileSchema>;

export function emptySessionsFile(): SessionsFile {
  return { ledger: { day: '', used: {} }, live: [] };
}

/**
 * The part of a durable store that holds the sessions' file: read live, changed only through a
 * synchronous `update` (one check-and-change can never interleave with another), flushed to disk.
 */
export interface SessionsStore {
  read(): Readonly<SessionsFile>;
  update<R>(fn: (file: SessionsFile) => R): R;
  flush(): Promise<void>;
}
