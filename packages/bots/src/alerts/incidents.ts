/**
 * Incidents: what the alerts bot says about a bot's health, so that each new trouble notifies and
 * its repeats do not. Telegram does not notify on edits, so:
 *
 *   - a new incident is a new message: a crash (or hang) after a healthy period, `errored`, a
 *     problem raised;
 *   - repeats inside an incident (a crash loop, the same problem again) edit that message, at most
 *     once per `editEveryMs`, with the count;
 *   - a recovery is a short new message, sent quietly: "back up after 3.2 s" once the bot has
 *     stayed ready for `healthyMs` (a crash before that is the same incident), "problem cleared";
 *   - a restart somebody asked for (`/restart`, `botvisor restart`, the dashboard) is one quiet
 *     message once the bot is ready again: "back up after" when it was down, or, for a hand-over
 *     to a fresh process (a ready bot's `/restart` and the dashboard's Restart; the `restarted`
 *     event's `handOver`), that polling did not pause. A reload's hand-over is not a restart
 *     anyone asked for of this bot (cause `reload`): the reload's own summary says it.
 *
 * Per bot an explicit state: `healthy` → `down` (crash incident open) → `recovering` (ready,
 * waiting out `healthyMs`) → `healthy`; a problem incident runs beside it. Pure logic with an
 * injected clock: the bot does the sending.
 */
import type { AlertEvent } from './alert-coalescer.js';

export interface IncidentEvent extends AlertEvent {
  data?: Record<string, unknown>;
}

export type IncidentAction = { type: 'send'; key: string; text: string; quiet: boolean } | { type: 'edit'; key: string; text: string };

export interface IncidentOptions {
  /** Ready this long after a crash and the bot has recovered; a later crash is a new incident. Default 10 s. */
  healthyMs?: number;
  /** At most one edit of a message per this time. Default 3 s. */
  editEveryMs?: number;
  now?: () => number;
}

/** The event kinds this model reads. */
export const INCIDENT_KINDS = new Set(['crashed', 'hung', 'errored', 'ready', 'restarted', 'stopped', 'problem', 'problem-cleared']);

/** Restart causes that mean a person asked for it (see ManagedBot.spawn). */
const REQUESTED = new Set(['manual', 'restart-request']);

/** One message and what it has counted. */
interface Thread {
  key: string;
  firstAt: number;
  count: number;
  shownCount: number;
  last: IncidentEvent;
  lastEditAt: number;
  editDueAt: number | undefined;
  render: (t: Thread) => string;
}

type Health = { kind: 'healthy' } | { kind: 'down'; thread: Thread } | { kind: 'recovering'; thread: Thread; readyAt: number; dueAt: number };

interface BotIncidents {
  health: Health;
  problem: (Thread & { text: string }) | undefined;
  /** A restart a person asked for, waiting for the bot to be ready: since when, and whether it was a hand-over (no pause in polling). */
  requested: { since: number; handOver: boolean } | undefined;
  /** The last `stopped` event: a requested restart measured from the stop. */
  stoppedAt: number | undefined;
}

function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function hhmmss(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function renderDown(t: Thread): string {
  const icon = t.last.kind === 'errored' ? '🛑' : t.last.kind === 'hung' ? '⏳' : '💥';
  if (t.count === 1) return `${icon} ${t.last.message} (${t.last.at.slice(11, 19)} UTC)`;
  return `${icon} ${t.last.message}\n${t.count} times since ${hhmmss(t.firstAt)} UTC (a crash loop), last at ${t.last.at.slice(11, 19)} UTC`;
}

function renderProblem(t: Thread): string {
  const head = `⚠️ ${t.last.message}`;
  return t.count === 1 ? `${head} (${t.last.at.slice(11, 19)} UTC)` : `${head}\nraised ${t.count} times since ${hhmmss(t.firstAt)} UTC`;
}

export class Incidents {
  private readonly bots = new Map<string, BotIncidents>();
  private readonly healthyMs: number;
  private readonly editEveryMs: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(o: IncidentOptions = {}) {
    this.healthyMs = o.healthyMs ?? 10_000;
    this.editEveryMs = o.editEveryMs ?? 3000;
    this.now = o.now ?? Date.now;
  }

  /** An event arrived: messages to send now, plus any edits that are due. */
  add(event: IncidentEvent): IncidentAction[] {
    const name = event.bot;
    if (name === undefined || !INCIDENT_KINDS.has(event.kind)) return this.due();
    const bot = this.of(name);
    const now = this.now();
    const out: IncidentAction[] = [];
    switch (event.kind) {
      case 'crashed':
      case 'hung':
      case 'errored':
        out.push(...this.trouble(bot, event, now));
        break;
      case 'ready':
        if (bot.health.kind === 'down') bot.health = { kind: 'recovering', thread: bot.health.thread, readyAt: now, dueAt: now + this.healthyMs };
        else if (bot.requested !== undefined) {
          const after = seconds(now - bot.requested.since);
          const text = bot.requested.handOver
            ? `🔄 bot ${name} restarted on request: a fresh process took over without a pause in polling, ready after ${after}`
            : `🔄 bot ${name} restarted on request; back up after ${after}`;
          out.push(this.send(`${name}:restart`, text, true));
          bot.requested = undefined;
        }
        break;
      case 'stopped':
        bot.stoppedAt = now;
        break;
      case 'restarted':
        if (REQUESTED.has(String(event.data?.cause ?? ''))) {
          const handOver = event.data?.handOver === true;
          bot.requested = { since: !handOver && bot.stoppedAt !== undefined && now - bot.stoppedAt < 60_000 ? bot.stoppedAt : now, handOver };
        }
        bot.stoppedAt = undefined;
        break;
      case 'problem':
        out.push(...this.problem(bot, event, now));
        break;
      case 'problem-cleared':
        if (bot.problem !== undefined) {
          out.push(this.send(`${name}:cleared`, `✅ bot ${name}: its problem cleared after ${seconds(now - bot.problem.firstAt)}`, true));
          bot.problem = undefined;
        }
        break;
    }
    return [...out, ...this.due()];
  }

  /** Edits and recovery notes whose time has come (call it from a timer as well). */
  due(): IncidentAction[] {
    const now = this.now();
    const out: IncidentAction[] = [];
    for (const [name, bot] of this.bots) {
      if (bot.health.kind === 'recovering' && bot.health.dueAt <= now) {
        const { thread, readyAt } = bot.health;
        const times = thread.count > 1 ? ` (${thread.count} crashes)` : '';
        out.push(...this.editIfDue(thread, now, true));
        out.push(this.send(`${name}:recovered`, `✅ bot ${name} back up after ${seconds(Math.max(0, readyAt - thread.firstAt))}${times}`, true));
        bot.health = { kind: 'healthy' };
        bot.requested = undefined; // an errored bot restarted by hand: its recovery note says it
      }
      if (bot.health.kind !== 'healthy') out.push(...this.editIfDue(bot.health.thread, now));
      if (bot.problem !== undefined) out.push(...this.editIfDue(bot.problem, now));
    }
    return out;
  }

  /** When the next edit or recovery note is due, for the caller's timer. */
  nextDueAt(): number | undefined {
    const times: number[] = [];
    for (const bot of this.bots.values()) {
      if (bot.health.kind === 'recovering') times.push(bot.health.dueAt);
      if (bot.health.kind !== 'healthy' && bot.health.thread.editDueAt !== undefined) times.push(bot.health.thread.editDueAt);
      if (bot.problem?.editDueAt !== undefined) times.push(bot.problem.editDueAt);
    }
    return times.length === 0 ? undefined : Math.min(...times);
  }

  private of(name: string): BotIncidents {
    let bot = this.bots.get(name);
    if (bot === undefined) {
      bot = { health: { kind: 'healthy' }, problem: undefined, requested: undefined, stoppedAt: undefined };
      this.bots.set(name, bot);
    }
    return bot;
  }

  /** A crash, hang or errored: a new incident from healthy (and `errored` always: it needs a person); a repeat otherwise. */
  private trouble(bot: BotIncidents, event: IncidentEvent, now: number): IncidentAction[] {
    bot.requested = undefined;
    if (bot.health.kind === 'healthy' || event.kind === 'errored') {
      const thread = this.thread(event, now, renderDown);
      bot.health = { kind: 'down', thread };
      return [this.send(thread.key, renderDown(thread), false)];
    }
    const thread = bot.health.thread;
    bot.health = { kind: 'down', thread }; // a crash while recovering: the same incident goes on
    this.repeat(thread, event, now);
    return [];
  }

  private problem(bot: BotIncidents, event: IncidentEvent, now: number): IncidentAction[] {
    const text = String(event.data?.problem ?? event.message);
    if (bot.problem !== undefined && bot.problem.text === text) {
      this.repeat(bot.problem, event, now);
      return [];
    }
    const thread = { ...this.thread(event, now, renderProblem), text };
    bot.problem = thread;
    return [this.send(thread.key, renderProblem(thread), false)];
  }

  private thread(event: IncidentEvent, now: number, render: (t: Thread) => string): Thread {
    return { key: `${event.bot}:${event.kind}:${++this.seq}`, firstAt: now, count: 1, shownCount: 1, last: event, lastEditAt: now, editDueAt: undefined, render };
  }

  private repeat(thread: Thread, event: IncidentEvent, now: number): void {
    thread.count++;
    thread.last = event;
    thread.editDueAt ??= Math.max(now, thread.lastEditAt + this.editEveryMs);
  }

  private editIfDue(thread: Thread, now: number, force = false): IncidentAction[] {
    if (thread.count === thread.shownCount || (!force && (thread.editDueAt === undefined || thread.editDueAt > now))) return [];
    thread.editDueAt = undefined;
    thread.shownCount = thread.count;
    thread.lastEditAt = now;
    return [{ type: 'edit', key: thread.key, text: thread.render(thread) }];
  }

  private send(key: string, text: string, quiet: boolean): IncidentAction {
    return { type: 'send', key, text, quiet };
  }
}
