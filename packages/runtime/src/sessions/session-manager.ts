/**
 * The sessions of one bot: which (chat, session name) has which agent process, and the rules
 * around them — a message goes to its chat's session (started on the first message), within the
 * session's budget, its limit of processes and its queue bound, or it is refused with a sentence
 * that names what was refused and why. `/new` and `/stop` end a chat's sessions; `list` shows them.
 *
 * It is a bot service: `start()` deals with what the previous run left (a record per agent that
 * was alive: its orphaned processes are stopped and its chat is told once that the session ended
 * with a restart — never a silent `--resume`); `stop()` stops every agent's tree at shutdown and
 * leaves those records for the next start to tell. What a session does is in session.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { isAlive, type Logger, type ProcessRef, settlesWithin } from '@botvisor/core';
import type { Api } from 'node-telegram-bot-api';
import type { LiveOutputOptions } from '../jobs/chat/live-output.js';
import { type JobProcessReport, type JobSpec, runJob } from '../jobs/run-job.js';
import { stopJobTree } from '../jobs/terminate/stop-job-tree.js';
import { BudgetLedger } from './budget-ledger.js';
import { createProtocol } from './protocols/create-protocol.js';
import { type EndReason, Session, type SessionMessage } from './session.js';
import { realSessionClock, type SessionClock, type SessionSpec } from './session-spec.js';
import { sessionText } from './session-texts.js';
import type { SessionsStore } from './sessions-file.js';

export interface SessionManagerDeps {
  /** The routed Api: everything sessions say goes through the outbox. */
  api: Api;
  specs: Readonly<Record<string, SessionSpec>>;
  store: SessionsStore;
  logger: Logger;
  /** Folder for the turns' temp logs. Default the OS temp folder. */
  spoolDir?: string;
  /** `child-spawned` / `child-exited` for the supervisor. */
  report?: (message: JobProcessReport) => void;
  /** The idle timers' and turn deadlines' clock. */
  clock?: SessionClock;
  /** The budget's day. */
  now?: () => Date;
  run?: (spec: JobSpec) => JobHandleLike;
  env?: JobSpec['env'];
  /** SIGTERM → SIGKILL when a session is stopped. Default 3000 ms. */
  killGraceMs?: number;
  live?: Pick<LiveOutputOptions, 'intervalMs' | 'messageChars' | 'documentThresholdBytes'>;
}

type JobHandleLike = ReturnType<typeof runJob>;

export interface SessionRequest {
  chatId: number;
  userId: number;
  /** The session's name; default the default session. */
  name?: string;
  text: string;
}

export type SessionAdmission =
  | { accepted: true; name: string; started: boolean; waiting: number }
  | { accepted: false; reason: 'no-session' | 'over-budget' | 'too-many' | 'queue-full' | 'stopping'; message: string };

export interface SessionInfo {
  chatId: number;
  name: string;
  state: string;
  pid: number | undefined;
  turns: number;
  pending: number;
  startedAt: Date;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly ledger: BudgetLedger;
  private readonly clock: SessionClock;
  private readonly spoolDir: string;
  private readonly ending = new Set<Promise<void>>();
  private serial = 0;
  private stopping = false;

  constructor(private readonly deps: SessionManagerDeps) {
    this.ledger = new BudgetLedger(deps.store, deps.now);
    this.clock = deps.clock ?? realSessionClock;
    this.spoolDir = deps.spoolDir ?? path.join(os.tmpdir(), 'botvisor-jobs');
  }

  /** Session names, as configured. */
  get names(): string[] {
    return Object.keys(this.deps.specs);
  }

  /** Where plain messages go: the session marked default, or the only one. */
  get defaultName(): string | undefined {
    const entries = Object.entries(this.deps.specs);
    return entries.find(([, s]) => s.default)?.[0] ?? (entries.length === 1 ? entries[0]?.[0] : undefined);
  }

  /** Agent processes alive now. */
  get runningCount(): number {
    return this.sessions.size;
  }

  /**
   * Hands a message to its session, starting it if needed. Synchronous up to the answer: the
   * order in which messages are handed over is the order they are written to the agent. A
   * refusal has already been told to the chat when the promise resolves.
   */
  async send(request: SessionRequest): Promise<SessionAdmission> {
    const admission = this.admit(request);
    if (!admission.accepted) await this.tell(request.chatId, admission.message);
    return admission;
  }

  /** Ends the chat's sessions (or the one named): /new and /stop. Resolves when their trees are gone. */
  async end(chatId: number, reason: 'new' | 'stop', name?: string): Promise<{ ended: string[]; dropped: number }> {
    const ended: string[] = [];
    let dropped = 0;
    const done: Promise<void>[] = [];
    for (const s of [...this.sessions.values()]) {
      if (s.chatId !== chatId || (name !== undefined && s.name !== name)) continue;
      const r = s.end(reason);
      ended.push(s.name);
      dropped += r.dropped;
      done.push(r.done);
    }
    await Promise.all(done);
    return { ended, dropped };
  }

  /** The chat's sessions, or everyone's. */
  list(chatId?: number): SessionInfo[] {
    return [...this.sessions.values()]
      .filter((s) => chatId === undefined || s.chatId === chatId)
      .map((s) => ({ chatId: s.chatId, name: s.name, state: s.status, pid: s.process?.pid, turns: s.turnCount, pending: s.pending, startedAt: s.startedAt }));
  }

  /** Start-up: agents of the previous run are gone (or stopped now); their chats are told, once. */
  async start(): Promise<void> {
    const { store, logger } = this.deps;
    const left = store.update((file) => file.live.splice(0));
    for (const record of left) {
      const root: ProcessRef = { pid: record.pid, startTime: record.startTime };
      // Only a root that is provably ours is killed by group; otherwise the marker alone finds what is left.
      const { survivors } = await stopJobTree(isAlive(root) ? root : undefined, record.marker, { graceMs: 1000 });
      if (survivors.length > 0) logger.error('processes of a session of the previous run survived SIGKILL', { session: record.name, survivors });
    }
    if (left.length > 0) logger.warning('sessions ended by a restart; telling their chats', { count: left.length });
    await store.flush(); // removed before told: told at most once
    for (const record of left) {
      this.deps.api
        .sendMessage({ chat_id: record.chatId, text: sessionText.restart(record.name, record.pending) })
        .catch((err: unknown) => logger.warning('could not tell a chat that its session ended with a restart', { chatId: record.chatId, err }));
    }
  }

  /** Shutdown: every agent's tree is stopped; their records stay, so the next start tells their chats. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const all = [...this.sessions.values()].map((s) => s.end('shutdown').done);
    if (!(await settlesWithin(Promise.all(all), Math.max(1000, graceMs)))) this.deps.logger.warning('session processes still stopping at shutdown', { sessions: all.length });
    await settlesWithin(Promise.all(this.ending), 1000);
    await this.deps.store.flush();
  }

  private admit(request: SessionRequest): SessionAdmission {
    const { chatId, userId, text } = request;
    const name = request.name ?? this.defaultName;
    if (name === undefined) return { accepted: false, reason: 'no-session', message: sessionText.noDefault(this.names) };
    const spec = this.deps.specs[name];
    if (spec === undefined) return { accepted: false, reason: 'no-session', message: sessionText.unknownSession(name, this.names) };
    if (this.stopping) return { accepted: false, reason: 'stopping', message: sessionText.stopping(name, text) };
    const budget = this.ledger.check(userId, name, spec.budget);
    if (!budget.ok) return { accepted: false, reason: 'over-budget', message: sessionText.overBudget(name, text, budget.used, budget.budget, hoursToMidnightUtc(this.deps.now?.() ?? new Date())) };
    let session = this.sessions.get(keyOf(chatId, name));
    const started = session === undefined;
    if (session === undefined) {
      const running = [...this.sessions.values()].filter((s) => s.name === name).length;
      if (running >= spec.maxSessions) return { accepted: false, reason: 'too-many', message: sessionText.tooMany(name, spec.maxSessions, text) };
      session = this.create(chatId, name, spec);
    }
    const r = session.accept({ userId, text });
    if (!r.accepted) return { accepted: false, reason: 'queue-full', message: sessionText.queueFull(name, spec.queueLimit, text) };
    return { accepted: true, name, started, waiting: r.waiting };
  }

  private create(chatId: number, name: string, spec: SessionSpec): Session {
    const { deps } = this;
    const serial = ++this.serial;
    const session = new Session({
      chatId,
      name,
      spec,
      serial,
      api: deps.api,
      logger: deps.logger,
      clock: this.clock,
      ledger: this.ledger,
      protocol: createProtocol(spec.protocol, { turnIdleMs: spec.turnIdleMs }),
      run: deps.run ?? runJob,
      spoolDir: this.spoolDir,
      killGraceMs: deps.killGraceMs ?? 3000,
      ...(deps.env !== undefined ? { env: deps.env } : {}),
      ...(deps.report !== undefined ? { report: deps.report } : {}),
      ...(deps.live !== undefined ? { live: deps.live } : {}),
      onSpawn: (s, ref, marker) => this.recordLive(s, ref, marker),
      onPending: (s, pending) => this.recordPending(s, pending),
      onEnded: (s, reason, told) => this.ended(s, reason, told),
      refuseOverBudget: (s, message) => this.refuseWaiting(s, message),
    });
    this.sessions.set(keyOf(chatId, name), session);
    deps.logger.info('session started', { session: name, chatId });
    return session;
  }

  /** Gone from the map at once (the chat's next message starts afresh); its record when it is told. */
  private ended(session: Session, reason: EndReason, told: Promise<void>): void {
    const key = keyOf(session.chatId, session.name);
    if (this.sessions.get(key) === session) this.sessions.delete(key);
    this.deps.logger.info('session ended', { session: session.name, chatId: session.chatId, reason, turns: session.turnCount });
    if (reason === 'shutdown') return; // its record tells the next start
    const settled = told
      .catch(() => undefined)
      .then(() => {
        const pid = session.process?.pid;
        this.deps.store.update((file) => {
          file.live = file.live.filter((r) => !(r.chatId === session.chatId && r.name === session.name && r.pid === pid));
        });
      })
      .finally(() => this.ending.delete(settled));
    this.ending.add(settled);
  }

  private recordLive(session: Session, ref: ProcessRef, marker: string): void {
    this.deps.store.update((file) => {
      file.live.push({ chatId: session.chatId, name: session.name, pid: ref.pid, startTime: ref.startTime, marker, startedAt: session.startedAt.toISOString(), pending: session.pending });
    });
  }

  private recordPending(session: Session, pending: number): void {
    const pid = session.process?.pid;
    if (pid === undefined) return;
    this.deps.store.update((file) => {
      const record = file.live.find((r) => r.chatId === session.chatId && r.name === session.name && r.pid === pid);
      if (record !== undefined) record.pending = pending;
    });
  }

  private async refuseWaiting(session: Session, message: SessionMessage): Promise<void> {
    const spec = this.deps.specs[session.name];
    const verdict = this.ledger.check(message.userId, session.name, spec?.budget);
    if (verdict.ok) return;
    await this.tell(session.chatId, sessionText.overBudget(session.name, message.text, verdict.used, verdict.budget, hoursToMidnightUtc(this.deps.now?.() ?? new Date())));
  }

  private async tell(chatId: number, text: string): Promise<void> {
    try {
      await this.deps.api.sendMessage({ chat_id: chatId, text });
    } catch (err) {
      this.deps.logger.warning('could not send a session notice', { chatId, err });
    }
  }
}

function keyOf(chatId: number, name: string): string {
  return `${chatId}:${name}`;
}

function hoursToMidnightUtc(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 3_600_000));
}
