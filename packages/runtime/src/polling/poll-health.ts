/**
 * The poll loop's verdict on whether this bot can do its job, as one sentence for a person (the
 * bot's `problem`) or null. It watches every getUpdates call — started, answered, failed — and
 * says so when polling has been in trouble long enough to matter:
 *
 *   409 storm       3 conflicts without a poll getting through: another process polls this token
 *   any failure     every poll failing for 30 s: the Bot API unreachable, refusing (400), failing
 *
 * A poll "gets through" when it is answered, or when the server has held it for `heldMs` without
 * a 409: a second poller ends our held poll as soon as it polls, and another botvisor waits at
 * most CONFLICT_MAX_WAIT_MS between its polls, so a poll held longer than that means nobody else
 * is polling — which clears a conflict problem within ~25 s of the other poller stopping, without
 * waiting out a 30 s long poll. The verdict is reported on every change (and, while it holds, with
 * fresh counts at most once per `refreshEveryMs`, so each report is not a new alert).
 */
import { redact } from '@botvisor/core';
import { type Api, NetworkError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { describeApiError } from '../telegram/describe-api-error.js';
import { findForeignResponse } from '../telegram/foreign-response-error.js';
import { classifyPollError } from './error-policy.js';
import { CONFLICT_MAX_WAIT_MS } from './poll-loop.js';

type GetUpdates = Pick<Api, 'getUpdates'>;

export interface PollHealthOptions {
  /** The Bot API root, for its host in the sentence (never the token). */
  apiRoot: string;
  /** Receives the sentence when it changes, and null once the cause has ended. */
  report: (problem: string | null) => void;
  now?: () => number;
  /** Conflicts in a row that make a problem. Default 3. */
  conflictsToRaise?: number;
  /** How long every poll must have failed before it is a problem. Default 30 s. */
  failingForMs?: number;
  /** A poll held this long without a 409 got through. Default CONFLICT_MAX_WAIT_MS + 5 s. */
  heldMs?: number;
  /** While a problem holds, its counts are re-reported at most this often. Default 60 s. */
  refreshEveryMs?: number;
}

/** What is wrong now, with the kind that decides when a new sentence is a new problem. */
interface Verdict {
  kind: 'conflict' | 'failing';
  sentence: string;
}

/** "45 s", "3 min", "2 h": how long a problem has lasted, for people. */
export function span(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/** The HTTP status of a failed call, when there was an answer. */
function statusOf(err: unknown): number | undefined {
  const foreign = findForeignResponse(err);
  if (foreign !== undefined) return foreign.status;
  return err instanceof TelegramApiError && typeof err.errorCode === 'number' ? err.errorCode : undefined;
}

export class PollHealth {
  private readonly now: () => number;
  private readonly conflictsToRaise: number;
  private readonly failingForMs: number;
  private readonly heldMs: number;
  private readonly refreshEveryMs: number;
  private readonly host: string;
  /** Times of the 409s since a poll last got through. */
  private conflicts: number[] = [];
  private webhookConflict = false;
  /** Since when every poll has failed (other than by a 409), and the latest failure. */
  private failing: { since: number; count: number; last: unknown } | undefined;
  /** The pending call, so a held-poll timer knows it is still the same one. */
  private pending = 0;
  private heldTimer: NodeJS.Timeout | undefined;
  private shown: { verdict: Verdict; at: number } | undefined;

  constructor(private readonly o: PollHealthOptions) {
    this.now = o.now ?? Date.now;
    this.conflictsToRaise = o.conflictsToRaise ?? 3;
    this.failingForMs = o.failingForMs ?? 30_000;
    this.heldMs = o.heldMs ?? CONFLICT_MAX_WAIT_MS + 5000;
    this.refreshEveryMs = o.refreshEveryMs ?? 60_000;
    this.host = new URL(o.apiRoot).host;
  }

  /** `api` with every getUpdates call watched. */
  watch(api: GetUpdates): GetUpdates {
    return {
      getUpdates: (params, signal) => {
        const call = this.started();
        const answer = api.getUpdates(params, signal);
        answer.then(
          () => this.gotThrough(call),
          (err: unknown) => {
            if (signal?.aborted !== true) this.failed(call, err);
          },
        );
        return answer;
      },
    };
  }

  /** The sentence now, or null. */
  get problem(): string | null {
    return this.shown?.verdict.sentence ?? null;
  }

  stop(): void {
    clearTimeout(this.heldTimer);
    this.pending++;
  }

  private started(): number {
    clearTimeout(this.heldTimer);
    const call = ++this.pending;
    this.heldTimer = setTimeout(() => this.gotThrough(call), this.heldMs);
    this.heldTimer.unref();
    return call;
  }

  private gotThrough(call: number): void {
    if (call !== this.pending) return;
    clearTimeout(this.heldTimer);
    this.conflicts = [];
    this.failing = undefined;
    this.update();
  }

  private failed(call: number, err: unknown): void {
    if (call !== this.pending) return;
    clearTimeout(this.heldTimer);
    const now = this.now();
    const failure = classifyPollError(err);
    if (failure.kind === 'conflict') {
      this.conflicts.push(now);
      this.webhookConflict = /webhook/i.test(failure.description);
      this.failing = undefined; // a 409 is an answer: the Bot API is reachable
    } else {
      this.failing = this.failing === undefined ? { since: now, count: 1, last: err } : { since: this.failing.since, count: this.failing.count + 1, last: err };
    }
    this.update();
  }

  private verdict(): Verdict | undefined {
    const now = this.now();
    const n = this.conflicts.length;
    if (n >= this.conflictsToRaise) {
      const during = span(now - (this.conflicts[0] ?? now));
      return {
        kind: 'conflict',
        sentence: this.webhookConflict
          ? `a webhook is set on this token, so the Bot API refuses every poll: ${n} conflicts in the last ${during}; delete the webhook (restarting the bot deletes it)`
          : `another process outside this supervisor is polling this token: ${n} conflicts in the last ${during}; stop it, or give one of the two its own token`,
      };
    }
    const f = this.failing;
    if (f === undefined || f.count < 2 || now - f.since < this.failingForMs) return undefined;
    const during = span(now - f.since);
    const why = describeApiError(f.last);
    const status = statusOf(f.last);
    const at = `the Bot API at ${this.host}`;
    if (f.last instanceof NetworkError || f.last instanceof TimeoutError) return { kind: 'failing', sentence: `cannot reach ${at} for ${during}: ${why}` };
    if (status === undefined) return { kind: 'failing', sentence: `every poll of ${at} has failed for ${during}: ${why}` };
    if (status === 429) return { kind: 'failing', sentence: `${at} has rate-limited every poll for ${during}: ${why}` };
    if (status >= 500) return { kind: 'failing', sentence: `${at} has failed every poll for ${during}: ${why}` };
    return { kind: 'failing', sentence: `${at} has refused every poll for ${during}: ${why}` };
  }

  private update(): void {
    const next = this.verdict();
    const shown = this.shown;
    const now = this.now();
    if (next === undefined) {
      if (shown === undefined) return;
      this.shown = undefined;
      this.o.report(null);
      return;
    }
    const fresh = shown === undefined || shown.verdict.kind !== next.kind;
    if (!fresh && (next.sentence === shown.verdict.sentence || now - shown.at < this.refreshEveryMs)) return;
    this.shown = { verdict: next, at: now };
    this.o.report(redact(next.sentence));
  }
}
