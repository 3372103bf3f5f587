/**
 * One supervised bot over its whole life: the driver of its state machine. Each run forks a
 * BotProcess, hears it through the IPC router, watches it with the watchdog, then, on exit,
 * sweeps what the run left (leftovers.ts) before it enters the state the exit means (exit-cause.ts,
 * restart-policy.ts) — so a restart never leaves an orphan behind. A run that exits before `ready`
 * is a failed start: its stderr reason becomes the bot's problem, and START_FAILURES_TO_GIVE_UP of
 * them in a row make the bot errored at once, without spending the crash budget. A polling bot forks only while
 * the supervisor holds its token's lock (polling-lock-slot.ts): otherwise it waits, and a lock lost
 * while it runs stops it until the lock is back. An errored bot is tried again (errored-retry.ts).
 * A reload replaces a ready bot's process by a hand-over to one forked in standby (`replace`).
 */
import path from 'node:path';
import {
  type FleetSummary,
  IPC_PROTOCOL_VERSION,
  type IpcEvent,
  killTree,
  type Logger,
  type PongMessage,
  type ProcessScan,
  type ResolvedBot,
  SKIP_TELEGRAM_LOCK_VAR,
  STANDBY_VAR,
  type SupervisorSettings,
  settlesWithin,
  TREE_COOKIE_VAR,
} from '@botvisor/core';
import type { EventStream } from '../events.js';
import type { PollingLockGate } from '../polling-lock-slot.js';
import type { Registry, TrackedProcess } from '../registry.js';
import { HandOverRelay } from '../reload/hand-over-relay.js';
import { waitForStandby } from '../reload/standby-wait.js';
import { BotProcess, type ForkBot, forkDetached, type ProcessExit } from './bot-process.js';
import { type BotState, BotStateMachine, type StateChange } from './bot-state.js';
import { ChildTracker } from './child-tracker.js';
import { probeWritable } from './data-dir-probe.js';
import { ErroredRetry } from './errored-retry.js';
import { describeExit, type ExitRecord, meaningOf } from './exit-cause.js';
import { type BotMessageHandlers, routeBotMessages } from './ipc-router.js';
import { killLeftovers } from './leftovers.js';
import { ProblemBoard } from './problem-board.js';
import { RestartPolicy } from './restart-policy.js';
import { Watchdog } from './watchdog.js';

/** A reload's replacement did not reach standby: the old process keeps running. */
export class ReloadRolledBackError extends Error {
  override readonly name = 'ReloadRolledBackError';
}

/** Why a ready bot is handed over to a new process: a reload, a person's restart (the dashboard), the bot's own request. The `restarted` event's cause. */
export type HandOverCause = 'reload' | 'manual' | 'restart-request';

/** What a reload may change of a bot: its config entry and its implementation. */
export interface BotDefinitionRef {
  bot: ResolvedBot;
  module: string | undefined;
}

/** Failed starts in a row (exits before `ready`) after which the bot is errored: a start-up that failed three times will not fix itself. */
export const START_FAILURES_TO_GIVE_UP = 3;

/** Of a lost lease's margin, what the tree kill of a bot that did not stop may take (SIGTERM, 500 ms, SIGKILL). */
const LEASE_KILL_RESERVE_MS = 1000;

/** How many recent state changes a bot keeps for `botvisor describe`: enough for a crash loop's pattern, bounded for a bot that runs for months. */
export const STATE_HISTORY_LENGTH = 20;

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
  /** The look at the process table its rescans share with the fleet's other bots; default its own, fresh on every rescan. */
  scan?: ProcessScan;
  /** The token's polling lock, for a polling bot: it forks only while the supervisor holds it. */
  lock: PollingLockGate | undefined;
  /** The config's data folder: where the bot keeps its files (`bots/<name>`), probed when it errors. */
  dataDir: string;
  /** How often an errored bot's data folder is probed when it refused writes. Default 10 s. */
  probeEveryMs?: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The bot's output log: where its stdout and stderr lines go. */
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
  /** Every restart, with its cause: `exit`, `signal`, `hung`, `start-timeout`, `restart-request` (exit 42, or a hand-over the bot asked for), `manual` or `reload`. */
  onRestart?: (cause: string) => void;
}

/** How long the old process of a hand-over has to say `inbox-released` (it stops its poll and closes one file); past it, it is stopped as at any stop. */
export const INBOX_RELEASE_TIMEOUT_MS = 5000;

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
  /** The tree cookie this process and its children carry. */
  readonly cookie: string;
  /** Handed over: a newer run is the bot now; this one finishes its handlers and exits, and its exit changes no state. */
  outgoing: boolean;
  /** Cluster mode: the lease epoch this run writes the shared inbox under (its hello said so). */
  readonly epoch: number | undefined;
}

/** Each state with the data that exists only while the bot is in it. */
type Phase =
  | { kind: 'stopped' }
  | { kind: 'starting'; run: Run; startTimer: NodeJS.Timeout }
  | { kind: 'ready'; run: Run; readyAt: number }
  /**
   * `after`: `waiting` when the stop is because the polling lock was lost (the bot starts again,
   * into waiting, once stopped); a stop asked for meanwhile turns it into `stopped`.
   */
  | { kind: 'stopping'; run: Run; done: Promise<void>; after: 'stopped' | 'waiting' }
  /** `cause`: why the start this timer makes is a restart (for metrics). */
  | { kind: 'backoff'; timer: NodeJS.Timeout; cause: string }
  | { kind: 'errored'; retry: ErroredRetry | undefined }
  /** Not forked: the token's polling lock is held elsewhere or lost; the lock coming free starts it. */
  | { kind: 'waiting' };

const DATA_DIR_PROBE_MS = 10_000;

function formatDelay(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

export class ManagedBot {
  readonly name: string;
  private readonly machine: BotStateMachine<Phase>;
  private readonly policy: RestartPolicy;
  private readonly tracker: ChildTracker;
  private readonly watchdog: Watchdog;
  private forks = 0;
  private lastExit: ExitRecord | null = null;
  /** Runs in a row that exited before `ready`. */
  private startFailures = 0;
  /** The last STATE_HISTORY_LENGTH state changes, oldest first. */
  private readonly history: StateChange[] = [];
  /** The causes that keep this bot from doing its job; its `problem` is the most important one. */
  readonly problems: ProblemBoard;

  /** Reloads so far: each replacement process carries its own tree cookie (`<cookie>.r<n>`), so sweeping the old one's leftovers spares it. */
  private generation = 0;
  /** Stops asked for so far: a hand-over that saw one while the old process stopped does not start the new one. */
  private stopsAsked = 0;
  private readonly baseCookie: string;
  /** The old run of the last hand-over, while it finishes its handlers. */
  private outgoing: Run | undefined;

  constructor(private o: ManagedBotOptions) {
    this.baseCookie = o.cookie;
    this.name = o.bot.name;
    this.machine = new BotStateMachine<Phase>((c) => o.logger.debug('state', { from: c.from, to: c.to, reason: c.reason }), Date.now, { kind: 'stopped' });
    this.machine.onChange((c) => {
      this.history.push(c);
      if (this.history.length > STATE_HISTORY_LENGTH) this.history.shift();
      if (c.from === 'errored' && c.to !== 'errored') this.problems.clear('errored');
      // A failed start stays the problem until a start succeeds, or a person stops the bot.
      if (c.to === 'ready' || c.to === 'stopped') this.problems.clear('startup');
    });
    const s = o.settings;
    this.policy = new RestartPolicy({ initialMs: s.backoffInitialMs, maxMs: s.backoffMaxMs, resetAfterMs: s.backoffResetAfterMs, budget: s.crashBudget, windowMs: s.crashWindowMs });
    this.problems = new ProblemBoard((now, before) => {
      if (now !== null) o.events.emit('problem', `bot ${this.name}: ${now}`, this.name, { problem: now });
      else o.events.emit('problem-cleared', `bot ${this.name}: problem cleared (${before ?? ''})`, this.name, { cleared: before });
    });
    this.tracker = new ChildTracker((children) => o.registry.setChildren(this.name, children), o.scan);
    this.watchdog = new Watchdog({
      intervalMs: s.pingIntervalMs,
      hungAfterMs: s.hungAfterMs,
      ping: (seq) => this.run?.proc.send({ type: 'ping', seq }),
      onHung: (silentMs, last) => this.onHung(silentMs, last),
      onStall: (gapMs) =>
        o.logger.warning('the supervisor itself was stalled (paused or suspended); the bot is not judged hung on that time', { stalledMs: Math.round(gapMs), pid: this.pid }),
    });
    o.lock?.onChange(() => this.onLockChange());
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

  /** The recent state changes with their reasons and times, oldest first (at most STATE_HISTORY_LENGTH). */
  stateHistory(): StateChange[] {
    return [...this.history];
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
      case 'waiting':
        return; // it starts by itself when the lock comes free
      case 'errored':
        phase.retry?.cancel();
        this.startFailures = 0; // a person's start: a fresh count of failed starts
        this.spawn(reason, 'manual');
        return;
      case 'stopped':
        this.startFailures = 0;
        this.spawn(reason, 'manual');
    }
  }

  /** Graceful stop: IPC shutdown + SIGTERM, the grace period, then a tree kill. Resolves once the bot and its tree are gone. */
  stop(reason: string): Promise<void> {
    const outgoing = this.outgoing?.ended;
    const stopped = this.stopPhase(reason);
    return outgoing === undefined ? stopped : Promise.all([stopped, outgoing]).then(() => undefined);
  }

  private stopPhase(reason: string): Promise<void> {
    this.stopsAsked++;
    const phase = this.machine.phase;
    switch (phase.kind) {
      case 'stopped':
        return Promise.resolve();
      case 'stopping':
        phase.after = 'stopped'; // a stop asked for wins over starting again for the lock
        return phase.done;
      case 'waiting':
        this.machine.to({ kind: 'stopped' }, reason);
        return Promise.resolve();
      case 'backoff':
        clearTimeout(phase.timer);
        this.machine.to({ kind: 'stopped' }, reason);
        return Promise.resolve();
      case 'errored':
        phase.retry?.cancel();
        this.machine.to({ kind: 'stopped' }, reason);
        return Promise.resolve();
      case 'starting':
      case 'ready':
        return this.stopCurrentRun(reason, 'stopped');
    }
  }

  /** Stops the run of a starting or ready bot; `after` is the state it ends in once stopped. */
  private stopCurrentRun(reason: string, after: 'stopped' | 'waiting', graceMs = this.o.settings.stopGraceMs): Promise<void> {
    const phase = this.machine.phase;
    if (phase.kind !== 'starting' && phase.kind !== 'ready') return Promise.resolve();
    if (phase.kind === 'starting') clearTimeout(phase.startTimer);
    const done = this.stopRun(phase.run, reason, graceMs);
    this.machine.to({ kind: 'stopping', run: phase.run, done, after }, reason);
    return done;
  }

  /** The token's lock changed hands: fork once it is ours, stop polling the moment it is not. */
  private onLockChange(): void {
    const gate = this.o.lock;
    if (gate === undefined) return;
    if (gate.held() !== undefined) {
      this.problems.clear('lock');
      if (this.machine.state === 'waiting') this.spawn('the polling lock is free: taking over', 'lock');
      // A run lives within one lease epoch: a new one means the lease lapsed meanwhile (someone may
      // have polled), so the run's writes would be refused anyway. A fresh run reads the shared inbox anew.
      const run = this.run;
      const epoch = gate.clusterGrant?.()?.epoch;
      if (run?.epoch !== undefined && epoch !== undefined && epoch !== run.epoch && this.machine.state !== 'stopping') {
        void this.stopCurrentRun(`the cluster lease's epoch changed (${run.epoch} → ${epoch})`, 'waiting');
      }
      return;
    }
    this.problems.raise('lock', gate.problem() ?? 'the polling lock for this token is not held');
    // Nobody may poll this token without its lock: stop, then wait for it. A lost cluster lease
    // leaves only its margin: a bot that does not stop by then (hung) is killed with its tree in it.
    const within = gate.stopWithinMs?.();
    const graceMs = within === undefined ? this.o.settings.stopGraceMs : Math.min(this.o.settings.stopGraceMs, Math.max(0, within - LEASE_KILL_RESERVE_MS));
    void this.stopCurrentRun('the polling lock is no longer held', 'waiting', graceMs);
  }

  /** Enters waiting: a polling bot whose lock the supervisor does not hold. */
  private enterWaiting(reason: string): void {
    const sentence = this.o.lock?.problem() ?? 'the polling lock for this token is not held';
    this.machine.to({ kind: 'waiting' }, `${reason}; ${sentence}`);
    this.problems.raise('lock', sentence);
  }

  /** A person's restart (`botvisor restart`): forgets the crash history, clears errored, starts again. */
  async restart(reason: string): Promise<void> {
    this.policy.reset();
    this.startFailures = 0;
    await this.stop(reason);
    this.start(reason);
  }

  /**
   * A reload: this bot with `next` (its re-read config entry; its code is whatever is on disk now).
   * A ready bot is replaced without a second poller (the hand-over): the new process is forked in
   * standby — module and config loaded, none of the bot's files opened — and only once it is there
   * is the old one stopped (it stops polling, lets its handlers finish within the grace, closes the
   * inbox with the last batch and its offset in it, exits); then the new one takes over: opens the
   * files, sets up, polls from the stored offset. A replacement that does not reach standby is
   * rolled back: killed, the old process untouched, a `reload-failed` event, and this rejects with
   * ReloadRolledBackError. A bot that is not ready has nothing to keep running: it is restarted.
   * Resolves once the new run is starting; the caller waits for ready.
   */
  async replace(next: BotDefinitionRef, reason: string, cause: HandOverCause = 'reload'): Promise<void> {
    const phase = this.machine.phase;
    if (phase.kind !== 'ready') {
      await this.stop(reason);
      this.o = { ...this.o, ...next };
      await this.restart(reason);
      return;
    }
    const old = phase.run;
    this.generation++;
    const candidate: ManagedBotOptions = { ...this.o, ...next, cookie: `${this.baseCookie}.r${this.generation}` };
    const proc = this.forkProcess(candidate, true);
    // Registered at once: a supervisor killed -9 from here on leaves it to the next one's reaper.
    this.trackOtherRun(candidate.cookie, proc);
    const outcome = await waitForStandby(proc, this.o.settings.startTimeoutMs);
    const still = this.machine.phase;
    if (!outcome.reached || still.kind !== 'ready' || still.run !== old) {
      if (proc.ref !== undefined) await killTree(proc.ref, { graceMs: 500, deadlineMs: 5000, cookie: candidate.cookie });
      this.trackOtherRun(candidate.cookie, undefined);
      const why = outcome.reached ? `the bot left ready (${still.kind}) while the new process loaded` : outcome.why;
      const sentence = `the reload of ${this.name} was rolled back: ${why}; the old process (pid ${old.proc.pid}) keeps running`;
      this.o.events.emit('reload-failed', sentence, this.name, { why, pid: old.proc.pid });
      throw new ReloadRolledBackError(sentence);
    }
    this.o.logger.info('the new process is in standby: the old one hands the inbox over', { old: old.proc.pid, new: proc.pid });
    const stopsBefore = this.stopsAsked;
    const relay = new HandOverRelay(old.proc);
    this.watchdog.stop(); // the old process is judged by its deadline now, the new one once ready
    const graceMs = this.o.settings.stopGraceMs;
    const done = this.retire(old, graceMs);
    this.machine.to({ kind: 'stopping', run: old, done, after: 'stopped' }, `${reason}: handing over`);
    const askedAt = performance.now();
    const release = await relay.begin(reason, graceMs, INBOX_RELEASE_TIMEOUT_MS);
    const releasedMs = Math.round(performance.now() - askedAt);
    if (release.released && this.stopsAsked === stopsBefore && this.machine.phase.kind === 'stopping' && this.run === old) {
      // Synchronously from the inbox-released message on: the old process's exit, whenever it
      // comes, must find it outgoing (see onExit).
      old.outgoing = true;
      this.outgoing = old;
      this.trackOtherRun(old.cookie, old.proc);
      void old.ended.then(() => {
        if (this.outgoing === old) this.outgoing = undefined;
      });
      this.o = candidate;
      this.policy.reset();
      this.startFailures = 0;
      this.spawn(reason, cause, proc, { held: release.running, gapless: true });
      relay.relayTo(proc);
      this.o.events.emit('reloaded', `bot ${this.name} handed over from pid ${old.proc.pid} to pid ${proc.pid}: ${reason}`, this.name, { from: old.proc.pid, to: proc.pid, held: release.running.length, releasedMs });
      return;
    }
    if (!release.released) {
      this.o.logger.warning(`no inbox hand-over: ${release.why}; stopping the old process first`, { old: old.proc.pid });
      old.proc.send({ type: 'shutdown', graceMs, reason });
      old.proc.signal('SIGTERM');
    }
    await done;
    if (this.stopsAsked !== stopsBefore || this.machine.state !== 'stopped') {
      // Stopped by a person (or the supervisor) meanwhile: that wins; the new process has opened nothing.
      if (proc.ref !== undefined) await killTree(proc.ref, { graceMs: 500, deadlineMs: 5000, cookie: candidate.cookie });
      this.trackOtherRun(candidate.cookie, undefined);
      const why = this.stopsAsked !== stopsBefore ? 'the bot was stopped during the hand-over' : `its old process ended as ${this.machine.state} during the hand-over`;
      throw new ReloadRolledBackError(`the reload of ${this.name} was abandoned: ${why}`);
    }
    this.o = candidate;
    this.policy.reset();
    this.startFailures = 0;
    this.spawn(reason, cause, proc, { held: [], gapless: false });
    relay.relayTo(proc);
    this.o.events.emit('reloaded', `bot ${this.name} handed over from pid ${old.proc.pid} to pid ${proc.pid} after the old one stopped: ${reason}`, this.name, { from: old.proc.pid, to: proc.pid });
  }

  /**
   * A person's restart that keeps the bot answering (the dashboard's Restart, a bot's own
   * requestRestart): a ready bot gets a fresh process by a hand-over — the same config entry, its
   * code as on disk, no poll gap, rolled back if the new process does not load; any other bot is
   * restarted as by `restart`.
   */
  async restartByHandOver(reason: string, cause: 'manual' | 'restart-request' = 'manual'): Promise<void> {
    if (this.machine.state !== 'ready') return this.restart(reason);
    this.policy.reset();
    this.startFailures = 0;
    await this.replace(this.definition, reason, cause);
  }

  /** The old run of a hand-over: given its grace to finish its handlers and exit, then its tree is killed. Resolves once its exit is handled. */
  private async retire(run: Run, graceMs: number): Promise<void> {
    if (!(await settlesWithin(run.proc.exited, graceMs)) && run.proc.ref !== undefined) {
      this.o.logger.warning('the old process did not finish within the grace period; killing its tree', { graceMs, pid: run.proc.pid });
      await killTree(run.proc.ref, { graceMs: 500, deadlineMs: 5000, cookie: run.cookie });
    }
    await run.ended;
  }

  /** Records in the registry (or, without `proc`, forgets) a run of this bot other than its current one: a standby replacement, an outgoing old process. */
  private trackOtherRun(cookie: string, proc: BotProcess | undefined): void {
    if (proc === undefined) this.o.registry.setOtherRun(this.name, cookie, null);
    else if (proc.ref !== undefined) this.o.registry.setOtherRun(this.name, cookie, { ...proc.ref, command: 'node' });
  }

  /** The config entry and implementation this bot runs with now. */
  get definition(): BotDefinitionRef {
    return { bot: this.o.bot, module: this.o.module };
  }

  /** The current run, in the states that have one. */
  private get run(): Run | undefined {
    const phase = this.machine.phase;
    return 'run' in phase ? phase.run : undefined;
  }

  /** Forks the bot's process as `o` describes it; `standby`: a reload's replacement, which waits for take-over (runtime lifecycle/standby.ts). */
  private forkProcess(o: ManagedBotOptions, standby: boolean): BotProcess {
    const args = ['--config', o.configFile, '--bot', this.name, ...(o.module !== undefined ? ['--module', o.module] : [])];
    const env: NodeJS.ProcessEnv = { ...o.env, [TREE_COOKIE_VAR]: o.cookie };
    delete env[SKIP_TELEGRAM_LOCK_VAR];
    delete env[STANDBY_VAR];
    if (o.lock?.held() !== undefined) env[SKIP_TELEGRAM_LOCK_VAR] = '1';
    if (standby) env[STANDBY_VAR] = '1';
    return new BotProcess({ fork: o.fork ?? forkDetached, entry: o.entry, args, env, output: o.output, logger: o.logger });
  }

  /** Forks a new run (or adopts `prepared`, a reload's replacement in standby); the caller knows the previous one has ended (or there was none). */
  private spawn(reason: string, restartCause: string, prepared?: BotProcess, takeOver?: { held: number[]; gapless: boolean }): void {
    if (this.o.bot.kind !== 'custom' && this.o.module === undefined) {
      // Nothing changes this until a reinstall and a restart: no retry.
      prepared?.signal('SIGKILL');
      this.enterErrored('no implementation', `no implementation of kind "${this.o.bot.kind}" is installed`, undefined, false);
      return;
    }
    const lock = this.o.lock?.held();
    const cluster = this.o.lock?.clusterGrant?.();
    if (this.o.lock !== undefined && lock === undefined) {
      prepared?.signal('SIGKILL'); // it has opened nothing yet
      this.enterWaiting(reason);
      return;
    }
    const proc = prepared ?? this.forkProcess(this.o, false);
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
    const run: Run = { proc, scanTimer, ended, end, subscribed: false, killCause: undefined, cookie: this.o.cookie, outgoing: false, epoch: cluster?.epoch };
    const startTimer = setTimeout(() => this.onStartTimeout(run), this.o.settings.startTimeoutMs);
    this.machine.to({ kind: 'starting', run, startTimer }, reason);
    if (proc.ref !== undefined) this.o.registry.setBot(this.name, this.o.cookie, { ...proc.ref, command: 'node' });
    if (prepared !== undefined) this.trackOtherRun(this.o.cookie, undefined); // the replacement is the bot's run now

    proc.onMessage(routeBotMessages(this.messageHandlers(run), this.o.logger));
    void proc.exited.then((exit) => this.onExit(run, exit));
    proc.send({
      type: 'hello',
      protocol: IPC_PROTOCOL_VERSION,
      bot: this.name,
      skipTelegramLock: lock !== undefined,
      polling: this.o.bot.polling,
      ...(lock !== undefined ? { lock } : {}),
      ...(cluster !== undefined ? { cluster } : {}),
    });
    // The old process has closed the inbox (or exited): the replacement may open it and poll.
    if (prepared !== undefined) proc.send({ type: 'take-over', held: takeOver?.held ?? [] });
    // `handOver`: the old process handed its inbox over and still runs, so polling did not pause (the alerts bot words it so).
    this.o.events.emit(restarted ? 'restarted' : 'started', `bot ${this.name} ${restarted ? 'restarted' : 'started'} (pid ${proc.pid}): ${reason}`, this.name, {
      pid: proc.pid,
      restarts: this.restarts,
      cause: restartCause,
      ...(takeOver?.gapless === true ? { handOver: true } : {}),
    });
  }

  private async stopRun(run: Run, reason: string, graceMs = this.o.settings.stopGraceMs): Promise<void> {
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
        this.startFailures = 0;
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
      // The relay of a hand-over (reload/hand-over-relay.ts) listens for these itself.
      'inbox-released': () => undefined,
      settled: () => undefined,
      'stores-released': () => undefined,
      'reload-request': (msg) => {
        if (this.run !== run || run.outgoing) return;
        this.o.logger.info('the bot asked for a fresh process: handing over', { reason: msg.reason });
        void this.restartByHandOver(`asked by the bot: ${msg.reason}`, 'restart-request').catch((err: unknown) => this.o.logger.warning('the hand-over the bot asked for did not happen', { err }));
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
    if (run.outgoing) {
      // A handed-over run: its successor is the bot now. Sweep what it left by its own cookie only.
      this.o.logger.info('the old process of a hand-over has exited', { pid: run.proc.pid, code, signal });
      await killLeftovers(run.cookie, [], this.o.logger);
      this.trackOtherRun(run.cookie, undefined);
      await settlesWithin(run.proc.outputEnded, 1000);
      run.end();
      return;
    }
    this.watchdog.stop();
    this.problems.clear('polling'); // the bot's own report lasts as long as the process that made it
    const atExit = this.machine.phase;
    if (atExit.kind === 'starting') clearTimeout(atExit.startTimer);
    const exit: ExitRecord = { code, signal, cause: run.killCause ?? (signal !== null ? 'signal' : 'exit'), at: new Date().toISOString() };
    this.lastExit = exit;
    const beforeReady = atExit.kind === 'starting' && atExit.run === run;
    await killLeftovers(this.o.cookie, this.tracker.list(), this.o.logger);
    this.tracker.clear();
    this.o.registry.setBot(this.name, this.o.cookie, null);
    await settlesWithin(run.proc.outputEnded, 1000); // its last stderr line (the reason) may follow the exit
    // Read after the sweep: a stop may have been asked for while it ran.
    const phase = this.machine.phase;
    this.enterAfterExit(exit, phase.kind === 'stopping', phase.kind === 'stopping' && phase.after === 'waiting', run, beforeReady);
    run.end();
  }

  /**
   * Gives up on the bot for now: errored, with `sentence` as its problem until it leaves that
   * state. Unless `retry` is false it is tried again after erroredRetryMs, or as soon as its
   * data folder, if that refused a write, takes one.
   */
  private enterErrored(reason: string, sentence: string, data?: Record<string, unknown>, retry = true): void {
    const botDir = path.join(this.o.dataDir, 'bots', this.name);
    const retrying = retry
      ? new ErroredRetry({
          everyMs: this.o.settings.erroredRetryMs,
          probeEveryMs: this.o.probeEveryMs ?? DATA_DIR_PROBE_MS,
          probe: () => probeWritable(botDir),
          retry: (why) => this.retryErrored(retrying, why),
        })
      : undefined;
    this.machine.to({ kind: 'errored', retry: retrying }, reason);
    const failure = retrying?.dataDirFailure;
    const full =
      failure === undefined
        ? sentence
        : `${sentence}; its data folder ${botDir} refuses writes (${failure.code}): it is tried again as soon as it takes one`;
    this.problems.raise('errored', full);
    this.o.events.emit('errored', `bot ${this.name} errored: ${full}`, this.name, { ...data, ...(failure !== undefined ? { dataDir: botDir, dataDirError: failure.code } : {}) });
  }

  /** An errored bot's retry came due. */
  private retryErrored(retry: ErroredRetry | undefined, why: string): void {
    const phase = this.machine.phase;
    if (phase.kind !== 'errored' || phase.retry !== retry) return;
    this.o.events.emit('retrying', `bot ${this.name} is tried again after erroring: ${why}`, this.name, { why });
    this.spawn(`retry after errored: ${why}`, 'errored-retry');
  }

  /**
   * A run that exited before `ready`: what it said on stderr is the problem (the 'startup' source)
   * and, for the exit 78 of a bad token, config or module, or the last of too many failed starts in
   * a row, the errored sentence. Returns true when it made the bot errored.
   */
  private onFailedStart(run: Run, exit: ExitRecord, configError: boolean): boolean {
    this.startFailures++;
    const why = run.proc.reason;
    const sentence =
      why === undefined
        ? exit.cause === 'start-timeout'
          ? `start-up did not finish within ${Math.round(this.o.settings.startTimeoutMs / 1000)} s`
          : `start-up failed (${describeExit(exit)}) and the bot said nothing on stderr`
        : why.startsWith('start-up failed')
          ? why
          : `start-up failed: ${why}`;
    this.problems.raise('startup', sentence);
    const fix = `fix it, then run 'botvisor restart ${this.name}' (it is also tried again every ${formatDelay(this.o.settings.erroredRetryMs)})`;
    if (configError) {
      this.enterErrored('exit 78', `${sentence}; ${fix}`, { ...exit });
      return true;
    }
    if (this.startFailures < START_FAILURES_TO_GIVE_UP) return false;
    this.enterErrored(`${this.startFailures} failed starts in a row`, `${sentence} (${this.startFailures} failed starts in a row); ${fix}`, { ...exit, failedStarts: this.startFailures });
    return true;
  }

  /** The state the exit of `run` leads to, by what the exit means and whether the run had become ready. */
  private enterAfterExit(exit: ExitRecord, stopRequested: boolean, waitForLock: boolean, run: Run, beforeReady: boolean): void {
    const meaning = meaningOf(exit, stopRequested);
    if (beforeReady && (meaning === 'crash' || meaning === 'config-error') && this.onFailedStart(run, exit, meaning === 'config-error')) return;
    switch (meaning) {
      case 'stopped':
        this.machine.to({ kind: 'stopped' }, describeExit(exit));
        this.o.events.emit('stopped', `bot ${this.name} stopped (${describeExit(exit)})`, this.name, { ...exit });
        // Stopped because the lock was lost: start again, which waits for the lock unless it is back.
        if (waitForLock) this.start('the polling lock was lost');
        return;
      case 'restart-now':
        this.o.logger.info('the bot exited to be restarted (exit 42); restarting at once');
        this.spawn('restart requested by the bot (exit 42)', 'restart-request');
        return;
      case 'config-error':
        this.enterErrored(
          'exit 78',
          `${run.proc.reason ?? 'bad token, config or module (exit 78)'}; fix it, then run 'botvisor restart ${this.name}' (it is also tried again every ${formatDelay(this.o.settings.erroredRetryMs)})`,
          { ...exit },
        );
        return;
      case 'crash': {
        const verdict = this.policy.onCrash();
        if (verdict.giveUp) {
          this.enterErrored(
            'crash budget spent',
            `${verdict.crashesInWindow} crashes within ${Math.round(this.o.settings.crashWindowMs / 60_000)} min; tried again in ${formatDelay(this.o.settings.erroredRetryMs)}, or now with 'botvisor restart ${this.name}'`,
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
