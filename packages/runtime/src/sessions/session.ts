/**
 * One conversation with one agent process: the process of a (chat, session name), from its
 * spawn to its end, with the messages waiting for it. Messages are written to the agent one turn
 * at a time, in the order they came, never into the middle of a turn; the next one goes in when
 * the previous reply has been shown in full.
 *
 * States, changed only in `enter`:
 *  - `idle`: the process runs, no turn; the idle timer is armed.
 *  - `busy`: a turn runs (or its reply is being shown); messages wait in the queue.
 *  - `ended`: for good (/new, /stop, idle timeout, the process exited, shutdown). An ended
 *    session accepts nothing: its owner has already dropped it, so the next message of the chat
 *    starts a fresh session.
 *
 * The idle timeout without the race (the field report's pitfall 6): everything here runs on one
 * thread, and the only way out of `idle` by timeout is a synchronous check that the session is
 * still idle (nothing running, nothing waiting) and has been for the whole timeout. A message that
 * arrives first makes the session busy and the check moot; a message that arrives after finds the
 * session gone from its owner's map and starts a new process. Nothing is ever written into a
 * process that is being stopped.
 */
import type { Logger, ProcessRef } from '@botvisor/core';
import type { Api } from 'node-telegram-bot-api';
import type { LiveOutputOptions } from '../jobs/chat/live-output.js';
import type { JobHandle, JobProcessReport, JobResult, JobSpec } from '../jobs/run-job.js';
import type { BudgetLedger } from './budget-ledger.js';
import type { SessionProtocol, TurnUsage } from './protocols/protocol.js';
import type { SessionClock, SessionSpec } from './session-spec.js';
import { sessionText } from './session-texts.js';
import { TurnOutput } from './turn-output.js';

export type SessionState = 'idle' | 'busy' | 'ended';

/** Why a session ended. */
export type EndReason = 'new' | 'stop' | 'idle' | 'exited' | 'turn-timeout' | 'shutdown';

export interface SessionMessage {
  userId: number;
  text: string;
}

export type AcceptResult = { accepted: true; waiting: number } | { accepted: false; reason: 'queue-full' | 'ended' };

export interface SessionDeps {
  chatId: number;
  name: string;
  spec: SessionSpec;
  /** Numbers this session's process, its log files and its records. */
  serial: number;
  api: Api;
  logger: Logger;
  clock: SessionClock;
  ledger: BudgetLedger;
  protocol: SessionProtocol;
  /** Starts the agent (the jobs' runner: argv only, allow-listed env, tree cookie, own group). */
  run: (spec: JobSpec) => JobHandle;
  spoolDir: string;
  killGraceMs: number;
  env?: JobSpec['env'];
  report?: (message: JobProcessReport) => void;
  live?: Pick<LiveOutputOptions, 'intervalMs' | 'messageChars' | 'documentThresholdBytes'>;
  /** The process started. */
  onSpawn(session: Session, process: ProcessRef, marker: string): void;
  /** How many messages are accepted and not yet answered changed. */
  onPending(session: Session, pending: number): void;
  /** The session ended (once); `told` is settled when the chat has been told whatever it is told. */
  onEnded(session: Session, reason: EndReason, told: Promise<void>): void;
  /** Budget refusal for a message that waited (the budget ran out meanwhile). */
  refuseOverBudget(session: Session, message: SessionMessage): Promise<void>;
}

interface RunningTurn {
  message: SessionMessage;
  output: TurnOutput;
  deadline: unknown;
  /** Set when the reply has ended (the protocol said so, or the process died). */
  ended: boolean;
}

export class Session {
  readonly startedAt = new Date();
  private state: SessionState = 'idle';
  private readonly queue: SessionMessage[] = [];
  private readonly handle: JobHandle;
  private turn: RunningTurn | undefined;
  private turns = 0;
  private idleSince: number;
  private idleTimer: unknown;
  private lastActivityAt = Date.now();
  private endedBy: EndReason | undefined;

  constructor(private readonly deps: SessionDeps) {
    const { spec, name, serial } = deps;
    this.idleSince = deps.clock.now();
    this.handle = deps.run({
      id: `session-${name}-${serial}`,
      name,
      argv: spec.argv,
      stdin: 'pipe',
      spool: false,
      timeoutMs: 0, // a session lives until idle, /stop, /new or the bot's end; turns have their own deadline
      killGraceMs: deps.killGraceMs,
      ...(deps.env !== undefined ? { env: deps.env } : {}),
      ...(deps.report !== undefined ? { report: deps.report } : {}),
      onSpawn: (ref, marker) => deps.onSpawn(this, ref, marker),
      onOutput: (chunk, stream) => deps.protocol.output(chunk, stream),
    });
    this.handle.result.then(
      (result) => this.exited(result),
      (err: unknown) => deps.logger.error('a session process failed in the runner', { session: name, err }),
    );
    this.armIdle(spec.idleTimeoutSec * 1000);
  }

  get name(): string {
    return this.deps.name;
  }

  get chatId(): number {
    return this.deps.chatId;
  }

  get status(): SessionState {
    return this.state;
  }

  get process(): ProcessRef | undefined {
    return this.handle.process;
  }

  /** Messages accepted and not yet answered (the running turn's included). */
  get pending(): number {
    return this.queue.length + (this.turn !== undefined ? 1 : 0);
  }

  get turnCount(): number {
    return this.turns;
  }

  get lastActivity(): number {
    return this.lastActivityAt;
  }

  /** Queues a message; it is written to the agent when every earlier one has been answered. */
  accept(message: SessionMessage): AcceptResult {
    if (this.state === 'ended') return { accepted: false, reason: 'ended' };
    if (this.queue.length >= this.deps.spec.queueLimit) return { accepted: false, reason: 'queue-full' };
    this.queue.push(message);
    this.lastActivityAt = Date.now();
    this.deps.onPending(this, this.pending);
    if (this.state === 'idle') this.nextTurn();
    return { accepted: true, waiting: this.queue.length };
  }

  /**
   * Ends the session: the agent's whole tree is stopped; waiting messages are dropped (counted).
   * `note` ends the running turn's reply, or is sent when no turn runs.
   */
  end(reason: EndReason, note?: string): { dropped: number; done: Promise<void> } {
    if (this.state === 'ended') return { dropped: 0, done: Promise.resolve() };
    const dropped = this.queue.length;
    this.queue.length = 0;
    this.enter('ended', reason);
    this.handle.cancel();
    // A running turn ends with the notice (a shutdown's is sent after the restart: see the manager).
    const turnNote = note ?? (reason === 'shutdown' ? undefined : sessionText.stopNote());
    const told = this.turnRunning() ? this.finishTurn(turnNote) : note !== undefined ? this.say(note) : Promise.resolve();
    this.deps.onEnded(this, reason, told);
    return { dropped, done: Promise.all([told, this.handle.result]).then(() => undefined) };
  }

  /** The one place the state changes. */
  private enter(next: SessionState, reason?: EndReason): void {
    const { clock } = this.deps;
    if (this.state === 'ended') return;
    this.state = next;
    if (next !== 'idle' && this.idleTimer !== undefined) {
      clock.clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (next === 'idle') {
      this.idleSince = clock.now();
      this.armIdle(this.deps.spec.idleTimeoutSec * 1000);
    }
    if (next === 'ended') {
      this.endedBy = reason;
      this.deps.protocol.close();
      if (this.turn !== undefined) clock.clearTimeout(this.turn.deadline);
    }
  }

  private armIdle(ms: number): void {
    this.idleTimer = this.deps.clock.setTimeout(() => this.checkIdle(), Math.max(1, ms));
  }

  private checkIdle(): void {
    this.idleTimer = undefined;
    if (this.state !== 'idle') return; // a message came first: it is being answered by this process
    const idleMs = this.deps.spec.idleTimeoutSec * 1000;
    const left = idleMs - (this.deps.clock.now() - this.idleSince);
    if (left > 0) {
      this.armIdle(left);
      return;
    }
    this.deps.logger.info('session idle: stopping its process', { session: this.name, chatId: this.chatId, idleSec: this.deps.spec.idleTimeoutSec });
    this.end('idle', sessionText.idleEnded(this.name, this.deps.spec.idleTimeoutSec));
  }

  /** From `idle` with something waiting: the next message becomes a turn. */
  private nextTurn(): void {
    const message = this.queue.shift();
    if (message === undefined) return;
    const budget = this.deps.ledger.check(message.userId, this.name, this.deps.spec.budget);
    if (!budget.ok) {
      // It was accepted within budget; earlier turns used the rest meanwhile.
      this.deps.onPending(this, this.pending);
      void this.deps.refuseOverBudget(this, message).finally(() => {
        if (this.state === 'idle') this.nextTurn();
      });
      return;
    }
    this.enter('busy');
    const { deps } = this;
    this.turns++;
    const output = new TurnOutput({
      api: deps.api,
      chatId: deps.chatId,
      id: `${deps.name}-${deps.serial}-${this.turns}`,
      format: deps.spec.protocol === 'stream-json' ? 'plain' : 'pre',
      spoolDir: deps.spoolDir,
      logger: deps.logger,
      ...(deps.live !== undefined ? { live: deps.live } : {}),
    });
    const turnSec = deps.spec.turnTimeoutSec;
    const deadline = deps.clock.setTimeout(() => {
      if (this.turn?.message !== message || this.state !== 'busy') return;
      deps.logger.warning('a session turn did not end in time; stopping the session', { session: this.name, chatId: this.chatId, turnTimeoutSec: turnSec });
      this.end('turn-timeout', sessionText.turnTimeout(this.name, turnSec));
    }, turnSec * 1000);
    this.turn = { message, output, deadline, ended: false };
    output.start();
    deps.protocol.beginTurn({
      text: (text) => output.write(text),
      end: (usage) => this.turnEnded(usage),
    });
    this.handle.stdin?.write(deps.protocol.encode(message.text));
  }

  private turnEnded(usage: TurnUsage | undefined): void {
    const turn = this.turn;
    if (turn === undefined || turn.ended || this.state !== 'busy') return;
    if (usage !== undefined) this.deps.ledger.add(turn.message.userId, this.name, usage);
    void this.finishTurn(undefined).then(() => {
      if (this.state !== 'busy') return;
      this.enter('idle');
      if (this.queue.length > 0) this.nextTurn();
    });
  }

  /** Shows the rest of the running turn's reply (and `note`); the turn is over when it settles. */
  private async finishTurn(note: string | undefined): Promise<void> {
    const turn = this.turn;
    if (turn === undefined) return;
    turn.ended = true;
    this.deps.clock.clearTimeout(turn.deadline);
    await turn.output.finish(note);
    if (this.turn === turn) this.turn = undefined;
    this.lastActivityAt = Date.now();
    this.deps.onPending(this, this.pending);
  }

  /** The process ended. When nobody asked it to, the chat is told why, once. */
  private exited(result: JobResult): void {
    if (this.state === 'ended') return;
    const dropped = this.queue.length;
    this.queue.length = 0;
    this.deps.logger.warning('a session process exited on its own', { session: this.name, chatId: this.chatId, code: result.code, signal: result.signal });
    this.enter('ended', 'exited');
    const failure = result.failure ?? (result.code === 0 ? 'the program exited' : undefined);
    const note = sessionText.exited(this.name, failure, dropped);
    const told = this.turnRunning() ? this.finishTurn(note) : this.say(note);
    this.deps.onEnded(this, 'exited', told);
  }

  /** A turn whose reply has not ended yet (one that is only being shown takes no notice). */
  private turnRunning(): boolean {
    return this.turn !== undefined && !this.turn.ended;
  }

  private async say(text: string): Promise<void> {
    try {
      await this.deps.api.sendMessage({ chat_id: this.chatId, text });
    } catch (err) {
      this.deps.logger.warning('could not send a session notice', { chatId: this.chatId, err });
      throw err;
    }
  }

  /** For logs: why it ended. */
  get endReason(): EndReason | undefined {
    return this.endedBy;
  }
}
