/**
 * What the user wrote in one chat, as the control API saw it: a bounded list (the newest 500)
 * with a running count, so a viewer that did not send them — the dashboard's chat panel, while
 * the person types in `botvisor chat` — can show the user's side too. Each message remembers the
 * transcript's cursor when it was written, to be placed between the bot's messages.
 */

export interface UserLogEntry {
  /** 1-based count of the user's messages in this chat: pass it back as `after`. */
  n: number;
  text: string;
  message_id: number;
  /** Sim clock, milliseconds since the epoch. */
  timestamp: number;
  /** The chat transcript's cursor when it was written: it goes after that entry. */
  after_seq: number;
}

export const USER_LOG_KEEP = 500;

export class UserLog {
  private readonly entries: UserLogEntry[] = [];
  private count = 0;

  get cursor(): number {
    return this.count;
  }

  append(entry: Omit<UserLogEntry, 'n'>): UserLogEntry {
    const full = { n: ++this.count, ...entry };
    this.entries.push(full);
    if (this.entries.length > USER_LOG_KEEP) this.entries.shift();
    return full;
  }

  /** Entries after `after` (0 = every one still kept). */
  read(after = 0): UserLogEntry[] {
    return this.entries.filter((e) => e.n > after);
  }
}
