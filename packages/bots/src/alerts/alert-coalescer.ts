/**
 * Coalescing of alerts: the events of one kind about one bot (say, "main crashed") within a quiet
 * window become one message whose count is edited — a crash loop produces one message that says
 * ×37, not 37 messages and a 429. Edits are throttled, so a burst costs one send and a few edits.
 * Pure logic with an injected clock: what to send or edit, and when; the bot does the sending.
 */

export interface AlertEvent {
  kind: string;
  bot?: string;
  at: string;
  message: string;
}

export type AlertAction = { type: 'send'; key: string; text: string } | { type: 'edit'; key: string; text: string };

interface Thread {
  first: AlertEvent;
  last: AlertEvent;
  count: number;
  lastActivity: number;
  /** The count the chat last saw. */
  shownCount: number;
  lastEditAt: number;
  /** An edit is due at this time (throttled), if the count moved since the last one. */
  editDueAt: number | undefined;
}

export interface CoalescerOptions {
  /** Events of the same kind and bot within this time join the same message. Default 10 min. */
  quietMs?: number;
  /** At most one edit of a message per this time. Default 3 s. */
  editEveryMs?: number;
  now?: () => number;
}

const ICON: Record<string, string> = {
  crashed: '💥',
  restarted: '🔄',
  hung: '⏳',
  errored: '🛑',
  'conflict-storm': '⚔️',
  'orphans-reaped': '🧹',
  ready: '✅',
  started: '▶️',
  stopped: '⏹',
  problem: '⚠️',
  'problem-cleared': '🆗',
  'reload-failed': '↩️',
  'cluster-active': '🔀',
};

/** Events that end another kind's thread for their bot: a problem that comes back after it cleared is a new message, not an edit of the old one. */
const ENDS: Record<string, string> = { 'problem-cleared': 'problem' };

/** The text of an event in a chat: a cleared problem is a short note (the problem's own message already said what it was). */
function textOf(event: AlertEvent): string {
  if (event.kind === 'problem-cleared') return event.bot !== undefined ? `bot ${event.bot}: the problem has cleared` : 'the problem has cleared';
  return event.message;
}

export function renderAlert(first: AlertEvent, last: AlertEvent, count: number): string {
  const icon = ICON[last.kind] ?? 'ℹ️';
  const time = last.at.slice(11, 19);
  if (count === 1) return `${icon} ${textOf(last)} (${time} UTC)`;
  return `${icon} ${textOf(last)}\n×${count} since ${first.at.slice(11, 19)} UTC, last at ${time} UTC`;
}

export class AlertCoalescer {
  private readonly threads = new Map<string, Thread>();
  private readonly quietMs: number;
  private readonly editEveryMs: number;
  private readonly now: () => number;

  constructor(o: CoalescerOptions = {}) {
    this.quietMs = o.quietMs ?? 10 * 60_000;
    this.editEveryMs = o.editEveryMs ?? 3000;
    this.now = o.now ?? Date.now;
  }

  static keyOf(e: AlertEvent): string {
    return `${e.bot ?? '(supervisor)'}:${e.kind}`;
  }

  /** An event arrived: a new message to send, or nothing now (an edit will be due). */
  add(event: AlertEvent): AlertAction[] {
    const now = this.now();
    const ended = ENDS[event.kind];
    if (ended !== undefined) this.threads.delete(AlertCoalescer.keyOf({ ...event, kind: ended }));
    const key = AlertCoalescer.keyOf(event);
    const t = this.threads.get(key);
    if (t === undefined || now - t.lastActivity > this.quietMs) {
      this.threads.set(key, { first: event, last: event, count: 1, lastActivity: now, shownCount: 1, lastEditAt: now, editDueAt: undefined });
      return [{ type: 'send', key, text: renderAlert(event, event, 1) }];
    }
    t.count++;
    t.last = event;
    t.lastActivity = now;
    t.editDueAt ??= Math.max(now, t.lastEditAt + this.editEveryMs);
    return this.due();
  }

  /** Edits whose time has come (call it from a timer as well). */
  due(): AlertAction[] {
    const now = this.now();
    const out: AlertAction[] = [];
    for (const [key, t] of this.threads) {
      if (t.editDueAt === undefined || t.editDueAt > now || t.count === t.shownCount) continue;
      t.editDueAt = undefined;
      t.shownCount = t.count;
      t.lastEditAt = now;
      out.push({ type: 'edit', key, text: renderAlert(t.first, t.last, t.count) });
    }
    return out;
  }

  /** When the next edit is due, for the caller's timer. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.threads.values()) if (t.editDueAt !== undefined && (next === undefined || t.editDueAt < next)) next = t.editDueAt;
    return next;
  }
}
