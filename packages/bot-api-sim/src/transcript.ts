/**
 * What a bot did in one chat, in order, as the user would see it: messages sent, edited and
 * deleted, documents, chat actions and callback answers. Each entry's `seq` is its 1-based
 * position and doubles as the cursor for reading on or waiting for the next matching message.
 */
import type { JsonObject, MessageEntity } from './telegram-types.js';

export type TranscriptKind = 'sent' | 'edited' | 'deleted' | 'document' | 'chat_action' | 'callback_answer';

export interface TranscriptEntry {
  /** Position in this chat's transcript, from 1; pass it as `after` to read or wait past it. */
  seq: number;
  kind: TranscriptKind;
  /** Sim clock, milliseconds since the epoch. */
  timestamp: number;
  message_id?: number;
  /** Text as displayed (formatting markup removed); a document's caption; a callback answer's text. */
  text?: string;
  entities?: MessageEntity[];
  reply_markup?: JsonObject;
  document?: { file_name?: string; file_size?: number; mime_type?: string };
  /** sendChatAction's action. */
  action?: string;
  callback_query_id?: string;
  show_alert?: boolean;
  /** sendMessage with `disable_notification`: the user's phone stayed silent. */
  disable_notification?: boolean;
}

export type EntryInput = Omit<TranscriptEntry, 'seq'>;

/** What a wait accepts: a bot message (sent, edited or document) whose text is `text` or matches `pattern`. */
export interface MessageMatcher {
  text?: string;
  pattern?: RegExp;
}

const MESSAGE_KINDS: ReadonlySet<TranscriptKind> = new Set(['sent', 'edited', 'document']);

export function matchesMessage(entry: TranscriptEntry, matcher: MessageMatcher): boolean {
  if (!MESSAGE_KINDS.has(entry.kind)) return false;
  const text = entry.text ?? '';
  if (matcher.text !== undefined && text !== matcher.text) return false;
  if (matcher.pattern !== undefined) {
    matcher.pattern.lastIndex = 0; // a /g or /y pattern must not carry state between entries
    if (!matcher.pattern.test(text)) return false;
  }
  return true;
}

export class Transcript {
  private readonly entries: TranscriptEntry[] = [];
  private readonly listeners = new Set<(entry: TranscriptEntry) => void>();

  get cursor(): number {
    return this.entries.length;
  }

  append(input: EntryInput): TranscriptEntry {
    const entry: TranscriptEntry = { seq: this.entries.length + 1, ...input };
    this.entries.push(entry);
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  /** Entries after cursor `after` (0 = from the start). */
  read(after = 0): TranscriptEntry[] {
    return this.entries.slice(Math.max(0, after));
  }

  /**
   * The first bot message after cursor `after` that matches, as soon as there is one; undefined when
   * `timeoutMs` runs out or `signal` aborts first.
   */
  waitForMessage(matcher: MessageMatcher, after: number, timeoutMs: number, signal: AbortSignal): Promise<TranscriptEntry | undefined> {
    const seen = this.read(after).find((entry) => matchesMessage(entry, matcher));
    if (seen !== undefined || signal.aborted) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const finish = (entry: TranscriptEntry | undefined): void => {
        clearTimeout(timer);
        this.listeners.delete(onEntry);
        signal.removeEventListener('abort', onAbort);
        resolve(entry);
      };
      const onEntry = (entry: TranscriptEntry): void => {
        if (entry.seq > after && matchesMessage(entry, matcher)) finish(entry);
      };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.listeners.add(onEntry);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
