/**
 * One supervised bot: forks it, speaks IPC with it, and drives its state machine from what
 * happens — ready, exit (with its meaning), hang, start timeout, stop and restart requests. On
 * every exit, whatever the bot left running (CLI jobs in their own process groups, anything
 * carrying its tree cookie) is tree-killed before a new instance starts, so a restart never
 * leaves an orphan behind.
 */
import { type ChildProcess, fork } from 'node:child_process';
import {
  type FleetSummary,
  IPC_PROTOCOL_VERSION,
  type IpcEvent,
  isAlive,
  killByCookie,
  killTree,
  type LockOwner,
  type Logger,
  type PongMessage,
  type ProcessRef,
  parseIpcMessage,
  processKey,
  type ResolvedBot,
  refOf,
  SKIP_TELEGRAM_LOCK_VAR,
  type SupervisorSettings,
  sendIpc,
  TREE_COOKIE_VAR,
} from '@botvisor/core';
import type { EventStream } from '../events.js';
import type { Registry, TrackedProcess } from '../registry.js';
import { type BotState, BotStateMachine } from './bot-state.js';
import { ChildTracker } from './child-tracker.js';
import { describeExit, type ExitRecord, meaningOf } from './exit-cause.js';
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
}

export class ManagedBot {
  readonly name: string;
  private readonly machine: BotStateMachine;
  private readonly policy: RestartPolicy;
  private readonly tracker: ChildTracker;
  private readonly watchdog: Watchdog;
  private child: ChildProcess | undefined;
  private ref: ProcessRef | undefined;
  private restartCount = 0;
  private everStarted = false;
  private lastExitRecord: ExitRecord | null = null;
  private readyAt: number | undefined;
  private stopRequested = false;
  private killCause: 'hung' | 'start-timeout' | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private exitWaiters: Array<() => void> = [];
  /** Why the next start is a restart (for metrics). */
  private restartCause = 'manual';
  private stopping: Promise<void> | undefined;

  constructor(private readonly o: ManagedBotOptions) {
    this.name = o.bot.name;
    this.machine = new BotStateMachine((c) => o.logger.debug('state', { from: c.from, to: c.to, reason: c.reason }));
    const s = o.settings;
    this.policy = new RestartPolicy({ initialMs: s.backoffInitialMs, maxMs: s.backoffMaxMs, resetAfterMs: s.backoffResetAfterMs, budget: s.crashBudget, windowMs: s.crashWindowMs });
    this.tracker = new ChildTracker((children) => o.registry.setChildren(this.name, children));
    this.watchdog = new Watchdog({
      intervalMs: s.pingIntervalMs,
      hungAfterMs: s.hungAfterMs,
      ping: (seq) => this.send({ type: 'ping', seq }),
      onHung: (silentMs, last) => this.onHung(silentMs, last),
    });
  }

  get state(): BotState {
    return this.machine.state;
  }

  get pid(): number | undefined {
    return this.ref?.pid;
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** The process refs of this bot and its known children, for resource usage. */
  treePids(): number[] {
    return this.ref === undefined ? [] : [this.ref.pid, ...this.tracker.list().map((c) => c.pid)];
  }

  /** The CLI children tracked now, with start times (the dashboard stops one by its PID). */
  trackedChildren(): TrackedProcess[] {
    return this.tracker.list();
  }

  /** Forwards a supervisor event to this bot (alerts bots). */
  deliver(event: IpcEvent): void {
    this.send({ type: 'event', event });
  }

  status(): BotStatus {
    const pong: PongMessage | undefined = this.watchdog.lastPong;
    const ready = this.state === 'ready' && this.readyAt !== undefined;
    return {
      name: this.name,
      kind: this.o.bot.kind,
      state: this.state,
      pid: this.ref?.pid ?? null,
      restarts: this.restartCount,
      polling: this.o.bot.polling,
      uptimeMs: ready ? Date.now() - (this.readyAt as number) : null,
      lastExit: this.lastExitRecord,
      children: this.tracker.list().map((c) => ({ pid: c.pid, command: c.command })),
      eventLoopDelayMs: pong?.eventLoopDelayMs ?? null,
      queueDepth: pong?.queueDepth ?? null,
      runningJobs: pong?.runningJobs ?? null,
    };
  }

  /** Starts the bot unless it is already starting or running. */
  start(reason: string): void {
    if (this.state === 'starting' || this.state === 'ready') return;
    this.spawn(reason);
  }

  /** Forks a new instance; the caller knows the old one is gone (or there was none). */
  private spawn(reason: string): void {
    this.clearBackoff();
    this.stopRequested = false;
    if (this.o.bot.kind !== 'custom' && this.o.module === undefined) {
      this.machine.to('errored', 'no implementation');
      this.o.events.emit('errored', `bot ${this.name} errored: no implementation of kind "${this.o.bot.kind}" is installed`, this.name);
      return;
    }
    const args = ['--config', this.o.configFile, '--bot', this.name, ...(this.o.module !== undefined ? ['--module', this.o.module] : [])];
    const env: NodeJS.ProcessEnv = { ...this.o.env, [TREE_COOKIE_VAR]: this.o.cookie };
    delete env[SKIP_TELEGRAM_LOCK_VAR];
    if (this.o.lock !== undefined) env[SKIP_TELEGRAM_LOCK_VAR] = '1';
    // Its own process group: a Ctrl-C in the terminal reaches only the supervisor, which then stops
    // the bots in order (send-only first, pollers last), and a tree kill can signal the whole group.
    const child = fork(this.o.entry, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    this.child = child;
    this.ref = child.pid === undefined ? undefined : refOf(child.pid);
    const restarted = this.everStarted;
    if (restarted) {
      this.restartCount++;
      this.o.onRestart?.(this.restartCause);
    }
    this.restartCause = 'manual';
    this.everStarted = true;
    this.readyAt = undefined;
    this.machine.to('starting', reason);
    if (this.ref !== undefined) this.o.registry.setBot(this.name, this.o.cookie, { ...this.ref, command: 'node' });

    this.pipeOutput(child);
    child.on('message', (raw) => this.onMessage(raw));
    child.on('error', (err) => {
      // Also raised for a failed IPC write (EPIPE) to a bot that is already exiting: not a fork failure.
      if (child.pid === undefined) this.o.logger.error('could not fork the bot', { err });
      else this.o.logger.warning('IPC with the bot failed; it is probably exiting', { pid: child.pid, err });
    });
    child.once('exit', (code, signal) => void this.onExit(code, signal));
    this.send({
      type: 'hello',
      protocol: IPC_PROTOCOL_VERSION,
      bot: this.name,
      skipTelegramLock: this.o.lock !== undefined,
      polling: this.o.bot.polling,
      ...(this.o.lock !== undefined ? { lock: this.o.lock } : {}),
    });
    this.startTimer = setTimeout(() => this.onStartTimeout(), this.o.settings.startTimeoutMs);
    this.scanTimer = setInterval(() => {
      if (this.ref !== undefined) this.tracker.rescan(this.ref, this.o.cookie);
    }, this.o.settings.scanIntervalMs);
    this.scanTimer.unref();
    this.o.events.emit(restarted ? 'restarted' : 'started', `bot ${this.name} ${restarted ? 'restarted' : 'started'} (pid ${child.pid}): ${reason}`, this.name, { pid: child.pid, restarts: this.restartCount });
  }

  /** Graceful stop: IPC shutdown + SIGTERM, the grace period, then a tree kill. Resolves once the bot and its tree are gone. */
  stop(reason: string): Promise<void> {
    this.clearBackoff();
    if (this.state === 'backoff' || this.state === 'errored') {
      this.machine.to('stopped', reason);
      return Promise.resolve();
    }
    if (this.state === 'stopped') return Promise.resolve();
    this.stopping ??= this.stopRunning(reason).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** A person's restart (`botvisor restart`): forgets the crash history, clears errored, starts again. */
  async restart(reason: string): Promise<void> {
    this.policy.reset();
    await this.stop(reason);
    this.start(reason);
  }

  private async stopRunning(reason: string): Promise<void> {
    this.stopRequested = true;
    if (this.state !== 'stopping') this.machine.to('stopping', reason);
    const exited = this.waitExit();
    this.send({ type: 'shutdown', graceMs: this.o.settings.stopGraceMs, reason });
    this.signal('SIGTERM');
    const inTime = await Promise.race([exited.then(() => true), delay(this.o.settings.stopGraceMs).then(() => false)]);
    if (!inTime && this.ref !== undefined) {
      this.o.logger.warning('the bot did not stop within the grace period; killing its tree', { graceMs: this.o.settings.stopGraceMs });
      await killTree(this.ref, { graceMs: 500, deadlineMs: 5000, cookie: this.o.cookie });
    }
    await exited;
  }

  private waitExit(): Promise<void> {
    if (this.child === undefined) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private send(message: Parameters<typeof sendIpc>[1]): void {
    if (this.child !== undefined) sendIpc(this.child, message);
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.child?.kill(sig);
    } catch {
      // already gone
    }
  }

  private pipeOutput(child: ChildProcess): void {
    for (const [stream, level] of [[child.stdout, 'info'], [child.stderr, 'warning']] as const) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') this.o.output[level](line, { bot: this.name, stream: level === 'info' ? 'stdout' : 'stderr' });
      });
    }
  }

  private onMessage(raw: unknown): void {
    const msg = parseIpcMessage(raw, this.o.logger);
    if (msg === undefined) return;
    switch (msg.type) {
      case 'ready':
        if (this.state !== 'starting') return;
        clearTimeout(this.startTimer);
        this.readyAt = Date.now();
        this.policy.onReady();
        this.machine.to('ready', 'IPC ready');
        this.watchdog.start();
        this.o.events.emit('ready', `bot ${this.name} is ready${msg.username !== undefined ? ` (@${msg.username})` : ''}`, this.name, { pid: this.ref?.pid });
        return;
      case 'pong':
        this.watchdog.onPong(msg);
        if (this.ref !== undefined) this.o.onPong?.(this.ref.pid, msg);
        return;
      case 'child-spawned':
        this.tracker.reported(msg.child);
        return;
      case 'child-exited':
        this.tracker.exited(msg.child);
        return;
      case 'subscribe-events':
        this.o.logger.info('the bot subscribed to supervisor events');
        return;
      case 'event':
        this.o.onBotEvent?.(msg.event);
        return;
      case 'status-request': {
        const summary = this.o.fleetStatus?.();
        if (summary !== undefined) this.send({ type: 'status-reply', id: msg.id, ...summary });
        return;
      }
      default:
        this.o.logger.warning('unexpected IPC message from a bot', { type: msg.type });
    }
  }

  private onHung(silentMs: number, last: PongMessage | undefined): void {
    if (this.state !== 'ready' || this.ref === undefined) return;
    this.o.events.emit('hung', `bot ${this.name} is hung: no pong for ${Math.round(silentMs / 1000)} s; killing its tree`, this.name, {
      pid: this.ref.pid,
      lastEventLoopDelayMs: last?.eventLoopDelayMs ?? null,
    });
    this.killCause = 'hung';
    // No cookie here: the next instance carries the same one and may be forked before this kill's
    // last rescan. What the bot left is swept (by cookie) in onExit, before the next fork.
    void killTree(this.ref, { graceMs: 1000, deadlineMs: 5000 });
  }

  private onStartTimeout(): void {
    if (this.state !== 'starting' || this.ref === undefined) return;
    this.o.logger.warning('the bot was not ready in time; killing its tree', { startTimeoutMs: this.o.settings.startTimeoutMs });
    this.killCause = 'start-timeout';
    void killTree(this.ref, { graceMs: 1000, deadlineMs: 5000 }); // no cookie: see onHung
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    clearTimeout(this.startTimer);
    clearInterval(this.scanTimer);
    this.watchdog.stop();
    const exit: ExitRecord = { code, signal, cause: this.killCause ?? (signal !== null ? 'signal' : 'exit'), at: new Date().toISOString() };
    this.killCause = undefined;
    this.lastExitRecord = exit;
    this.child = undefined;
    await this.killLeftovers();
    this.ref = undefined;
    this.o.registry.setBot(this.name, this.o.cookie, null);
    const meaning = meaningOf(exit, this.stopRequested);
    for (const w of this.exitWaiters.splice(0)) w();

    switch (meaning) {
      case 'stopped':
        this.machine.to('stopped', describeExit(exit));
        this.o.events.emit('stopped', `bot ${this.name} stopped (${describeExit(exit)})`, this.name, { ...exit });
        return;
      case 'restart-now':
        this.o.logger.info('the bot exited to be restarted (exit 42); restarting at once');
        this.restartCause = 'restart-request';
        this.spawn('restart requested by the bot (exit 42)');
        return;
      case 'config-error':
        this.machine.to('errored', 'exit 78');
        this.o.events.emit('errored', `bot ${this.name} errored: bad token or config (exit 78); fix it, then run 'botvisor restart ${this.name}'`, this.name, { ...exit });
        return;
      case 'crash': {
        const verdict = this.policy.onCrash();
        if (verdict.giveUp) {
          this.machine.to('errored', 'crash budget spent');
          this.o.events.emit(
            'errored',
            `bot ${this.name} errored: ${verdict.crashesInWindow} crashes within ${Math.round(this.o.settings.crashWindowMs / 60_000)} min; not restarting until 'botvisor restart ${this.name}'`,
            this.name,
            { ...exit, crashes: verdict.crashesInWindow },
          );
          return;
        }
        this.machine.to('backoff', describeExit(exit));
        this.restartCause = exit.cause;
        this.o.events.emit('crashed', `bot ${this.name} crashed: ${describeExit(exit)}; restarting in ${verdict.delayMs} ms`, this.name, { ...exit, delayMs: verdict.delayMs, crashes: verdict.crashesInWindow });
        this.backoffTimer = setTimeout(() => {
          this.backoffTimer = undefined;
          if (this.state === 'backoff') this.start(`restart after a crash (${describeExit(exit)})`);
        }, verdict.delayMs);
        return;
      }
    }
  }

  /**
   * Tree-kills what the exited bot left: everything carrying its cookie (one scan, which also
   * finds escaped grandchildren), then any reported child that dropped the cookie from its env.
   */
  private async killLeftovers(): Promise<void> {
    const swept = await killByCookie(this.o.cookie, { graceMs: 500, deadlineMs: 5000 });
    const gone = new Set(swept.killed.map((p) => processKey(p)));
    let extra = 0;
    for (const c of this.tracker.list()) {
      if (gone.has(processKey(c)) || !isAlive(c)) continue;
      extra += (await killTree(c, { graceMs: 500, deadlineMs: 5000 })).killed.length;
    }
    const count = swept.killed.length + extra;
    if (count > 0) this.o.logger.info('killed what the bot left running', { processes: count, survivors: swept.survivors.length });
    this.tracker.clear();
  }

  private clearBackoff(): void {
    if (this.backoffTimer !== undefined) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
