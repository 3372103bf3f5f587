/**
 * One supervised bot over its whole life: the driver of its state machine. Each run forks a
 * BotProcess, hears it through the IPC router, watches it with the watchdog, then, on exit,
 * sweeps what the run left (leftovers.ts) before it enters the state the exit means (exit-cause.ts,
 * restart-policy.ts) — so a restart never leaves an orphan behind.
 */
import {
  type FleetSummary,
  IPC_PROTOCOL_VERSION,
  type IpcEvent,
  killTree,
  type LockOwner,
  type Logger,
  type PongMessage,
  type ResolvedBot,
  SKIP_TELEGRAM_LOCK_VAR,
  type SupervisorSettings,
  settlesWithin,
  TREE_COOKIE_VAR,
} from '@botvisor/core';
import type { EventStream } from '../events.js';
import type { Registry, TrackedProcess } from '../registry.js';
import { BotProcess, type ForkBot, forkDetached, type ProcessExit } from './bot-process.js';
import { type BotState, BotStateMachine, type StateChange } from './bot-state.js';
import { ChildTracker } from './child-tracker.js';
import { describeExit, type ExitRecord, meaningOf } from './exit-cause.js';
import { type BotMessageHandlers, routeBotMessages } from './ipc-router.js';
import { killLeftovers } from './leftovers.js';
import { ProblemBoard } from './problem-board.js';
import { RestartPolicy } from './restart-policy.js';
import { Watchdog } from './watchdog.js';

export interface ManagedBotOptions {
  bot: ResolvedBot;
  configFile: string;
  /** The runtime's bot entry (`botvisor-bot`). */
  entry: string;
  /** The implementation of a built-in kind (bridge, alerts); custom bots name theirs in the config. */
  module: string | undefined;
  settings: SupervisorSettings;
  /** This bot's tree cookie: its process and everything it starts carry it. */
  cookie: string;
  /** Set when the supervisor holds the token's polling lock for this bot. */
  lock: { path: string; owner: LockOwner } | undefined;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Where the bot's stdout and stderr lines go. */
  output: Logger;
  events: EventStream;
  registry: Registry;
  /** Starts the bot's process (default: a detached fork of `entry`). */
  fork?: ForkBot;
  /** Events the bot reports (409 conflicts). */
  onBotEvent?: (event: IpcEvent) => void;
  /** Every pong, with the pid it came from (for /metrics). */
  onPong?: (pid: number, pong: PongMessage) => void;
  /** A bot asked for the fleet's state (status-request). */
  fleetStatus?: () => FleetSummary;
  /** Every restart, with its cause: `exit`, `signal`, `hung`, `start-timeout`, `restart-request` (exit 42) or `manual`. */
  onRestart?: (cause: string) => void;
}

export interface BotStatus {
  name: string;
  kind: string;
  state: BotState;
  pid: number | null;
  restarts: number;
  polling: boolean;
  /** Time in the current run since it became ready, or null when not ready. */
  uptimeMs: number | null;
  lastExit: ExitRecord | null;
  children: Array<{ pid: number; command: string }>;
  eventLoopDelayMs: number | null;
  queueDepth: number | null;
  runningJobs: number | null;
  /** Why the bot cannot do its job, in one sentence a person can act on; null while it can. */
  problem: string | null;
}

/** One run of the bot: its process, plus what lives exactly as long as that process. */
interface Run {
  readonly proc: BotProcess;
  readonly scanTimer: NodeJS.Timeout;
  /** Settles once the run's exit is handled: leftovers swept, the next state entered. */
  readonly ended: Promise<void>;
  readonly end: () => void;
  /** The process sent subscribe-events: it hears supervisor events until it exits. */
  subscribed: boolean;
  /** Set when the supervisor is killing this process itself; becomes the exit's cause. */
  killCause: 'hung' | 'start-timeout' | undefined;
}

/** Each state with the data that exists only while the bot is in it. */
type Phase =
  | { kind: 'stopped' }
  | { kind: 'starting'; run: Run; startTimer: NodeJS.Timeout }
  | { kind: 'ready'; run: Run; readyAt: number }
  | { kind: 'stopping'; run: Run; done: Promise<void> }
  /** `cause`: why the start this timer makes is a restart (for metrics). */
  | { kind: 'backoff'; timer: NodeJS.Timeout; cause: string }
  | { kind: 'errored' };

export class ManagedBot {
  readonly name: string;
  private readonly machine: BotStateMachine<Phase>;
  private readonly policy: RestartPolicy;
  private readonly tracker: ChildTracker;
  private readonly watchdog: Watchdog;
  private forks = 0;
  private lastExit: ExitRecord | null = null;
  /** The causes that keep this bot from doing its job; its `problem` is the most important one. */
  readonly problems: ProblemBoard;

  constructor(private readonly o: ManagedBotOptions) {
    this.name = o.bot.name;
    this.machine = new BotStateMachine<Phase>((c) => o.logger.debug('state', { from: c.from, to: c.to, reason: c.reason }), Date.now, { kind: 'stopped' });
    this.machine.onChange((c) => {
      if (c.from === 'errored' && c.to !== 'errored') this.problems.clear('errored');
    });
    const s = o.settings;
    this.policy = new RestartPolicy({ initialMs: s.backoffInitialMs, maxMs: s.backoffMaxMs, resetAfterMs: s.backoffResetAfterMs, budget: s.crashBudget, windowMs: s.crashWindowMs });
    this.problems = new ProblemBoard((now, before) => {
      if (now !== null) o.events.emit('problem', `bot ${this.name}: ${now}`, this.name, { problem: now });
      else o.events.emit('problem-cleared', `bot ${this.name}: problem cleared (${before ?? ''})`, this.name, { cleared: before });
    });
    this.tracker = new ChildTracker((children) => o.registry.setChildren(this.name, children));
    this.watchdog = new Watchdog({
      intervalMs: s.pingIntervalMs,
      hungAfterMs: s.hungAfterMs,
      ping: (seq) => this.run?.proc.send({ type: 'ping', seq }),
      onHung: (silentMs, last) => this.onHung(silentMs, last),
    });
  }

  get state(): BotState {
    return this.machine.state;
  }

  get pid(): number | undefined {
    return this.run?.proc.ref?.pid;
  }

  get restarts(): number {
    return Math.max(0, this.forks - 1);
  }

  /** Calls `listener` after every state change until the returned function is called. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    return this.machine.onChange(listener);
  }

  /** The process refs of this bot and its known children, for resource usage. */
  treePids(): number[] {
    const ref = this.run?.proc.ref;
    return ref === undefined ? [] : [ref.pid, ...this.tracker.list().map((c) => c.pid)];
  }

  /** The CLI children tracked now, with start times (the dashboard stops one by its PID). */
  trackedChildren(): TrackedProcess[] {
    return this.tracker.list();
  }

  /** Tells the bot's process that the operator is stopping its child `pid` (so a job says "stopped by the operator"). */
  tellOperatorStop(pid: number): void {
    this.run?.proc.send({ type: 'operator-stop', pid });
  }

  /** Forwards a supervisor event to this bot's process if that process subscribed; says whether it did. */
  deliver(event: IpcEvent): boolean {
    const run = this.run;
    if (run === undefined || !run.subscribed) return false;
    run.proc.send({ type: 'event', event });
    return true;
  }

  status(): BotStatus {
    const pong: PongMessage | undefined = this.watchdog.lastPong;
    const phase = this.machine.phase;
    return {
      name: this.name,
      kind: this.o.bot.kind,
      state: phase.kind,
      pid: this.pid ?? null,
      restarts: this.restarts,
      polling: this.o.bot.polling,
      uptimeMs: phase.kind === 'ready' ? Date.now() - phase.readyAt : null,
      lastExit: this.lastExit,
      children: this.tracker.list().map((c) => ({ pid: c.pid, command: c.command })),
      eventLoopDelayMs: pong?.eventLoopDelayMs ?? null,
      queueDepth: pong?.queueDepth ?? null,
      runningJobs: pong?.runningJobs ?? null,
      problem: this.problems.current(),
    };
  }

  /** Starts the bot unless it is already starting or running; while it is stopping, once it has stopped. */
  start(reason: string): void {
    const phase = this.machine.phase;
    switch (phase.kind) {
      case 'starting':
      case 'ready':
        return;
      case 'stopping':
        // A stop that failed was reported to its caller; the bot is then left as it is.
        void phase.done.then(
          () => this.start(reason),
          () => undefined,
        );
        return;
      case 'backoff':
        clearTimeout(phase.timer);
        this.spawn(reason, phase.cause);
        return;
      case 'stopped':
      case 'errored':
        this.spawn(reason, 'manual');
    }
  }

  /** Graceful stop: IPC shutdown + SIGTERM, the grace period, then a tree kill. Resolves once the bot and its tree are gone. */
  stop(reason: string): Promise<void> {
    const phase = this.machine.phase;
    switch (phase.kind) {
      case 'stopped':
        return Promise.resolve();
      case 'stopping':
        return phase.done;
      case 'backoff':
        clearTimeout(phase.timer);
        this.machine.to({ kind: 'stopped' }, reason);
        return Promise.resolve();
      case 'errored':
        this.machine.to({ kind: 'stopped' }, reason);
        return Promise.resolve();
      case 'starting':
      case 'ready': {
        if (phase.kind === 'starting') clearTimeout(phase.startTimer);
        const done = this.stopRun(phase.run, reason);
        this.machine.to({ kind: 'stopping', run: phase.run, done }, reason);
        return done;
      }
    }
  }

  /** A person's restart (`botvisor restart`): forgets the crash history, clears errored, starts again. */
  async restart(reason: string): Promise<void> {
    this.policy.reset();
    await this.stop(reason);
    this.start(reason);
  }

  /** The current run, in the states that have one. */
  private get run(): Run | undefined {
    const phase = this.machine.phase;
    return 'run' in phase ? phase.run : undefined;
  }

  /** Forks a new run; the caller knows the previous one has ended (or there was none). */
  private spawn(reason: string, restartCause: string): void {
    if (this.o.bot.kind !== 'custom' && this.o.module === undefined) {
      this.enterErrored('no implementation', `no implementation of kind "${this.o.bot.kind}" is installed`);
      return;
    }
    const args = ['--config', this.o.configFile, '--bot', this.name, ...(this.o.module !== undefined ? ['--module', this.o.module] : [])];
    const env: NodeJS.ProcessEnv = { ...this.o.env, [TREE_COOKIE_VAR]: this.o.cookie };
    delete env[SKIP_TELEGRAM_LOCK_VAR];
    if (this.o.lock !== undefined) env[SKIP_TELEGRAM_LOCK_VAR] = '1';
    const proc = new BotProcess({ fork: this.o.fork ?? forkDetached, entry: this.o.entry, args, env, bot: this.name, output: this.o.output, logger: this.o.logger });
    const restarted = this.forks > 0;
    this.forks++;
    if (restarted) this.o.onRestart?.(restartCause);

    let end = (): void => undefined;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const scanTimer = setInterval(() => {
      if (proc.ref !== undefined) this.tracker.rescan(proc.ref, this.o.cookie);
    }, this.o.settings.scanIntervalMs);
    scanTimer.unref();
    const run: Run = { proc, scanTimer, ended, end, subscribed: false, killCause: undefined };
    const startTimer = setTimeout(() => this.onStartTimeout(run), this.o.settings.startTimeoutMs);
    this.machine.to({ kind: 'starting', run, startTimer }, reason);
    if (proc.ref !== undefined) this.o.registry.setBot(this.name, this.o.cookie, { ...proc.ref, command: 'node' });

    proc.onMessage(routeBotMessages(this.messageHandlers(run), this.o.logger));
    void proc.exited.then((exit) => this.onExit(run, exit));
    proc.send({
      type: 'hello',
      protocol: IPC_PROTOCOL_VERSION,
      bot: this.name,
      skipTelegramLock: this.o.lock !== undefined,
      polling: this.o.bot.polling,
      ...(this.o.lock !== undefined ? { lock: this.o.lock } : {}),
    });
    this.o.events.emit(restarted ? 'restarted' : 'started', `bot ${this.name} ${restarted ? 'restarted' : 'started'} (pid ${proc.pid}): ${reason}`, this.name, { pid: proc.pid, restarts: this.restarts, cause: restartCause });
  }

  private async stopRun(run: Run, reason: string): Promise<void> {
    const graceMs = this.o.settings.stopGraceMs;
    run.proc.send({ type: 'shutdown', graceMs, reason });
    run.proc.signal('SIGTERM');
    if (!(await settlesWithin(run.proc.exited, graceMs)) && run.proc.ref !== undefined) {
      this.o.logger.warning('the bot did not stop within the grace period; killing its tree', { graceMs });
      await killTree(run.proc.ref, { graceMs: 500, deadlineMs: 5000, cookie: this.o.cookie });
    }
    await run.ended;
  }

  /** What this bot does with each message its process `run` sends. */
  private messageHandlers(run: Run): BotMessageHandlers {
    return {
      ready: (msg) => {
        const phase = this.machine.phase;
        if (phase.kind !== 'starting' || phase.run !== run) return;
        clearTimeout(phase.startTimer);
        this.policy.onReady();
        this.machine.to({ kind: 'ready', run, readyAt: Date.now() }, 'IPC ready');
        this.watchdog.start();
        this.o.events.emit('ready', `bot ${this.name} is ready${msg.username !== undefined ? ` (@${msg.username})` : ''}`, this.name, { pid: run.proc.ref?.pid });
      },
      pong: (msg) => {
        this.watchdog.onPong(msg);
        if (run.proc.ref !== undefined) this.o.onPong?.(run.proc.ref.pid, msg);
      },
      'child-spawned': (msg) => this.tracker.reported(msg.child),
      'child-exited': (msg) => this.tracker.exited(msg.child),
      'subscribe-events': () => {
        if (run.subscribed) return;
        run.subscribed = true;
        this.o.logger.info('the bot subscribed to supervisor events', { pid: run.proc.pid });
      },
      event: (msg) => this.o.onBotEvent?.(msg.event),
      problem: (msg) => {
        if (this.run !== run) return; // a report from a run that has already ended
        if (msg.text === null) this.problems.clear('polling');
        else this.problems.raise('polling', msg.text);
      },
      'status-request': (msg) => {
        const summary = this.o.fleetStatus?.();
        if (summary !== undefined) run.proc.send({ type: 'status-reply', id: msg.id, ...summary });
      },
    };
  }

  private onHung(silentMs: number, last: PongMessage | undefined): void {
    const phase = this.machine.phase;
    if (phase.kind !== 'ready' || phase.run.proc.ref === undefined) return;
    this.o.events.emit('hung', `bot ${this.name} is hung: no pong for ${Math.round(silentMs / 1000)} s; killing its tree`, this.name, {
      pid: phase.run.proc.ref.pid,
      lastEventLoopDelayMs: last?.eventLoopDelayMs ?? null,
    });
    phase.run.killCause = 'hung';
    // No cookie here: the next instance carries the same one and may be forked before this kill's
    // last rescan. What the bot left is swept (by cookie) in onExit, before the next fork.
    void killTree(phase.run.proc.ref, { graceMs: 1000, deadlineMs: 5000 });
  }

  private onStartTimeout(run: Run): void {
    const phase = this.machine.phase;
    if (phase.kind !== 'starting' || phase.run !== run || run.proc.ref === undefined) return;
    this.o.logger.warning('the bot was not ready in time; killing its tree', { startTimeoutMs: this.o.settings.startTimeoutMs });
    run.killCause = 'start-timeout';
    void killTree(run.proc.ref, { graceMs: 1000, deadlineMs: 5000 }); // no cookie: see onHung
  }

  private async onExit(run: Run, { code, signal }: ProcessExit): Promise<void> {
    clearInterval(run.scanTimer);
    this.watchdog.stop();
    this.problems.clear('polling'); // the bot's own report lasts as long as the process that made it
    const atExit = this.machine.phase;
    if (atExit.kind === 'starting') clearTimeout(atExit.startTimer);
    const exit: ExitRecord = { code, signal, cause: run.killCause ?? (signal !== null ? 'signal' : 'exit'), at: new Date().toISOString() };
    this.lastExit = exit;
    await killLeftovers(this.o.cookie, this.tracker.list(), this.o.logger);
    this.tracker.clear();
    this.o.registry.setBot(this.name, this.o.cookie, null);
    // Read after the sweep: a stop may have been asked for while it ran.
    this.enterAfterExit(exit, this.machine.state === 'stopping');
    run.end();
  }

  /** Gives up on the bot: errored, with `sentence` as its problem until it leaves that state. */
  private enterErrored(reason: string, sentence: string, data?: Record<string, unknown>): void {
    if (this.machine.state !== 'errored') this.machine.to({ kind: 'errored' }, reason);
    this.problems.raise('errored', sentence);
    this.o.events.emit('errored', `bot ${this.name} errored: ${sentence}`, this.name, data);
  }

  /** The state an exit leads to, by what the exit means. */
  private enterAfterExit(exit: ExitRecord, stopRequested: boolean): void {
    switch (meaningOf(exit, stopRequested)) {
      case 'stopped':
        this.machine.to({ kind: 'stopped' }, describeExit(exit));
        this.o.events.emit('stopped', `bot ${this.name} stopped (${describeExit(exit)})`, this.name, { ...exit });
        return;
      case 'restart-now':
        this.o.logger.info('the bot exited to be restarted (exit 42); restarting at once');
        this.spawn('restart requested by the bot (exit 42)', 'restart-request');
        return;
      case 'config-error':
        this.enterErrored('exit 78', `bad token or config (exit 78); fix it, then run 'botvisor restart ${this.name}'`, { ...exit });
        return;
      case 'crash': {
        const verdict = this.policy.onCrash();
        if (verdict.giveUp) {
          this.enterErrored(
            'crash budget spent',
            `${verdict.crashesInWindow} crashes within ${Math.round(this.o.settings.crashWindowMs / 60_000)} min; not restarting until 'botvisor restart ${this.name}'`,
            { ...exit, crashes: verdict.crashesInWindow },
          );
          return;
        }
        const timer = setTimeout(() => {
          // Leaving backoff clears this timer; the check is for a timer that fired regardless.
          if (this.machine.state === 'backoff') this.start(`restart after a crash (${describeExit(exit)})`);
        }, verdict.delayMs);
        this.machine.to({ kind: 'backoff', timer, cause: exit.cause }, describeExit(exit));
        this.o.events.emit('crashed', `bot ${this.name} crashed: ${describeExit(exit)}; restarting in ${verdict.delayMs} ms`, this.name, { ...exit, delayMs: verdict.delayMs, crashes: verdict.crashesInWindow });
        return;
      }
    }
  }
}
