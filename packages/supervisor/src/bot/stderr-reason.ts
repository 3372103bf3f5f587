/**
 * The reason a bot process gives for failing, read from its stderr: the `botvisor-bot: <why>`
 * line the runtime writes (REASON_LINE_PREFIX), or else the last meaningful line — the thrown
 * message, not node's decoration around it: stack frames (`    at …`), the source pointer
 * (`file:///…/bot.js:12`, `node:internal/…:496`) with its caret line, an error's indented
 * property dump, `(node:123) Warning` notes and the `Node.js v20…` trailer.
 */
import { REASON_LINE_PREFIX } from '@botvisor/core';

/** The reason is a sentence, not a dump. */
const MAX_REASON_CHARS = 300;

export function isNoise(line: string): boolean {
  const trimmed = line.trim();
  return (
    trimmed === '' ||
    /^\s/.test(line) || // stack frames, an error's own properties, a quoted source line
    /^[{}[\]()]+,?$/.test(trimmed) || // the braces of a property dump
    /^\S+:\d+(:\d+)?$/.test(trimmed) || // `file:///x/bot.js:12`, `node:internal/errors:496`
    /^\^+$/.test(trimmed) ||
    /^Node\.js v\d/.test(trimmed) ||
    /^\(node:\d+\)/.test(trimmed) ||
    /^\(Use `node --trace-/.test(trimmed)
  );
}

function shorten(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}

export class StderrReason {
  private stated: string | undefined;
  private lastMeaningful: string | undefined;

  /** One complete line of the process's stderr. */
  see(line: string): void {
    if (line.startsWith(REASON_LINE_PREFIX)) {
      const why = line.slice(REASON_LINE_PREFIX.length).trim();
      if (why !== '') this.stated = why;
      return;
    }
    if (!isNoise(line)) this.lastMeaningful = line.trim();
  }

  /** What the process said was wrong, or its last meaningful line; undefined when it said nothing. */
  get reason(): string | undefined {
    const why = this.stated ?? this.lastMeaningful;
    return why === undefined ? undefined : shorten(why);
  }
}
