/**
 * The fleet: one ManagedBot per configured bot, by name, in the orders that matter (pollers start
 * first, send-only bots stop first). Its waits for a state listen to the bots' state changes
 * instead of polling them.
 */
import { type BotKind, type FleetSummary, type Logger, ProcessScan, type ResolvedBot, type ResolvedConfig, settlesWithin } from '@botvisor/core';
import type { ForkBot } from './bot/bot-process.js';
import { ManagedBot } from './bot/managed-bot.js';
import type { EventRouter } from './event-routing.js';
import type { EventStream } from './events.js';
import type { HealthBot } from './http/http-server.js';
import type { SupervisorMetrics } from './http/metrics.js';
import type { Registry } from './registry.js';
import type { TokenLocks } from './token-locks.js';

/** The modules that implement the built-in kinds, as the caller resolved them. */
export type BuiltinModules = Partial<Record<Exclude<BotKind, 'custom'>, string>>;

/** What every ManagedBot of the fleet is wired to. */
export interface FleetWiring {
  configFile: string;
  /** The runtime's bot entry (`botvisor-bot`). */
  entry: string;
  builtinModules: BuiltinModules;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  events: EventStream;
  registry: Registry;
  /** This run's tree cookie; each bot's is `<runCookie>.<name>`. */
  runCookie: string;
  locks: TokenLocks;
  metrics: SupervisorMetrics;
  router: EventRouter;
  /** Each bot's output log (its stdout and stderr), by bot name. */
  outputLog: (bot: string) => Logger;
  fork?: ForkBot;
}

export class Fleet {
  readonly bots = new Map<string, ManagedBot>();
  private readonly startedAt = Date.now();
  /**
   * Bots a person stopped (`botvisor stop <bot>`): they stay stopped — `restart all` and /health
   * leave them out, as if not enabled — until `start <bot>` or `restart <bot>`. Kept in memory: a
   * new supervisor starts every enabled bot again (`"enabled": false` keeps one off for good).
   */
  private readonly stoppedByPerson = new Set<string>();
  private wiring: FleetWiring | undefined;
  /** The bots' rescans of their trees share one look at /proc, taken at most half a scan interval before (their scans come due together). */
  private readonly scan = new ProcessScan(() => this.config.supervisor.scanIntervalMs / 2);

  /** `config`: the running config; a reload swaps it (`adopt`). */
  constructor(private config: ResolvedConfig) {}

  /** The config the fleet runs now. */
  get running(): ResolvedConfig {
    return this.config;
  }

  /** Creates the ManagedBot of every configured bot; starts none. */
  enlist(w: FleetWiring): void {
    this.wiring = w;
    for (const bot of this.config.bots) this.bots.set(bot.name, this.create(bot, w));
  }

  /** The implementation bot `bot` runs: its own module, or the installed one of its built-in kind. */
  moduleOf(bot: ResolvedBot): string | undefined {
    return bot.kind === 'custom' ? bot.module : this.wiring?.builtinModules[bot.kind];
  }

  /** A reload's new config: what later starts, stops and status lines go by (the bots themselves are changed by reload/apply-reload.ts). */
  adopt(config: ResolvedConfig): void {
    this.config = config;
  }

  /** A bot's new config entry, once a reload's hand-over applied it (out of step with `adopt` when it waited for jobs). */
  adoptBot(bot: ResolvedBot): void {
    this.config = { ...this.config, bots: this.config.bots.map((b) => (b.name === bot.name ? bot : b)) };
  }

  /** A bot a reload added: enlisted (its polling lock opened first), not started. */
  async add(bot: ResolvedBot): Promise<ManagedBot> {
    const w = this.wiring;
    if (w === undefined) throw new Error('the fleet is not wired yet');
    if (bot.enabled && bot.polling) await w.locks.add(bot);
    const managed = this.create(bot, w);
    this.bots.set(bot.name, managed);
    return managed;
  }

  /** A bot a reload removed: stopped, forgotten, its polling lock released. */
  async remove(name: string, reason: string): Promise<void> {
    const managed = this.bots.get(name);
    await managed?.stop(reason);
    this.bots.delete(name);
    await this.wiring?.locks.drop(name);
  }

  private create(bot: ResolvedBot, w: FleetWiring): ManagedBot {
    return new ManagedBot({
          bot,
          configFile: w.configFile,
          entry: w.entry,
          module: bot.kind === 'custom' ? undefined : w.builtinModules[bot.kind],
          settings: this.config.supervisor,
          cookie: `${w.runCookie}.${bot.name}`,
          scan: this.scan,
          lock: w.locks.gateFor(bot.name),
          dataDir: this.config.dataDir,
          env: w.env,
          logger: w.logger.child({ bot: bot.name }),
          output: w.outputLog(bot.name),
          events: w.events,
          registry: w.registry,
          ...(w.fork !== undefined ? { fork: w.fork } : {}),
          onPong: (pid, pong) => w.metrics.onPong(bot.name, pid, pong),
          fleetStatus: () => this.summary(),
          onRestart: (cause) => w.metrics.onRestart(bot.name, cause),
          onBotEvent: w.router.fromBot(bot.name),
    });
  }

  get(name: string): ManagedBot | undefined {
    return this.bots.get(name);
  }

  all(): ManagedBot[] {
    return [...this.bots.values()];
  }

  /** The fleet's state in a bot's status-reply (the bridge's /status). */
  summary(): FleetSummary {
    return {
      supervisor: { pid: process.pid, uptimeMs: Date.now() - this.startedAt },
      bots: this.all().map((b) => {
        const st = b.status();
        return { name: st.name, state: st.state, pid: st.pid, restarts: st.restarts, uptimeMs: st.uptimeMs, polling: st.polling };
      }),
    };
  }

  health(): HealthBot[] {
    return this.all().map((b) => {
      const st = b.status();
      return { name: b.name, state: b.state, enabled: this.isExpected(b), uptimeMs: st.uptimeMs, problem: st.problem };
    });
  }

  /** Starts every enabled bot, the pollers first. */
  startAll(reason: string): void {
    const order = this.config.bots.filter((b) => b.enabled).sort((a, b) => Number(b.polling) - Number(a.polling));
    for (const b of order) this.bots.get(b.name)?.start(reason);
  }

  /** Stops every bot: the send-only ones first, the pollers last. */
  async stopAll(reason: string): Promise<void> {
    const polling = new Set(this.config.bots.filter((b) => b.polling).map((b) => b.name));
    await Promise.all(this.all().filter((b) => !polling.has(b.name)).map((b) => b.stop(reason)));
    await Promise.all(this.all().filter((b) => polling.has(b.name)).map((b) => b.stop(reason)));
  }

  /** A person's stop of one bot: it stays stopped (no crash restart, no `restart all`) until startBot. Resolves once its tree is gone. */
  async stopBot(name: string): Promise<void> {
    const bot = this.named(name);
    this.stoppedByPerson.add(name);
    await bot.stop('stopped by a person');
  }

  /** A person's start of one bot: starts a stopped or errored bot, leaves a running one. */
  startBot(name: string): void {
    const bot = this.named(name);
    // A disabled poller has no polling lock: starting it could poll a token another bot polls.
    if (!this.isEnabled(bot)) throw new Error(`bot ${name} is disabled in the config ("enabled": false); enable it there, then restart botvisor`);
    this.stoppedByPerson.delete(name);
    bot.start('started by a person');
  }

  /** True while a person's stop keeps the bot stopped. */
  isStoppedByPerson(name: string): boolean {
    return this.stoppedByPerson.has(name);
  }

  /**
   * A person's restart of one bot or `all`; resolves once the restart has an outcome, rejects naming the bots that are not ready.
   * `all` is every bot meant to run: not the disabled ones, not those a person stopped; naming a bot restarts it whatever it is.
   * `hand-over` (the dashboard's Restart): a ready bot gets its fresh process by a hand-over, without a poll gap, and keeps
   * its old one if the new one does not load (ManagedBot.restartByHandOver); `fresh` (`botvisor restart`) stops it first.
   */
  async restart(name: string, how: 'fresh' | 'hand-over' = 'fresh'): Promise<void> {
    const targets = name === 'all' ? this.all().filter((b) => this.isExpected(b)) : [this.named(name)];
    if (name !== 'all') this.stoppedByPerson.delete(name);
    const reason = `restart requested for ${name}`;
    await Promise.all(targets.map((b) => (how === 'hand-over' ? b.restartByHandOver(reason) : b.restart(reason))));
    // Answer once the restart has an outcome, so `botvisor restart` can say it.
    await untilStates(targets, () => !targets.some((b) => b.state === 'starting'), this.config.supervisor.startTimeoutMs + 5000);
    const failed = targets.filter((b) => b.state !== 'ready');
    if (failed.length > 0) {
      throw new Error(`${failed.map((b) => `${b.name} is ${b.state}${b.status().problem !== null ? ` (${b.status().problem})` : ''}`).join(', ')} after the restart; see its log`);
    }
  }

  private named(name: string): ManagedBot {
    const bot = this.bots.get(name);
    if (bot === undefined) throw new Error(`no bot named "${name}" (bots: ${[...this.bots.keys()].join(', ')})`);
    return bot;
  }

  /**
   * Resolves when every enabled bot is ready; rejects (naming the bot and why) when one errors,
   * waits for a polling lock held elsewhere (it takes over by itself later), or the time runs out.
   */
  async waitReady(timeoutMs: number): Promise<void> {
    const enabled = this.all().filter((b) => this.isExpected(b));
    const settled = (b: ManagedBot): boolean => b.state === 'errored' || b.state === 'waiting';
    await untilStates(enabled, () => enabled.some(settled) || enabled.every((b) => b.state === 'ready'), timeoutMs);
    const errored = enabled.find((b) => b.state === 'errored');
    if (errored !== undefined) {
      const last = errored.status().lastExit;
      const st = errored.status();
      throw new Error(`bot ${errored.name} errored: ${st.problem ?? (last !== null ? `last exit: ${last.signal ?? `code ${last.code}`}` : 'see its log')}`);
    }
    const forLock = enabled.find((b) => b.state === 'waiting');
    if (forLock !== undefined) throw new Error(`bot ${forLock.name} is waiting: ${forLock.status().problem ?? 'for its polling lock'}; it takes over by itself when the lock is free`);
    const waiting = enabled.filter((b) => b.state !== 'ready').map((b) => `${b.name} (${b.state})`);
    if (waiting.length > 0) throw new Error(`not every bot was ready within ${timeoutMs} ms: ${waiting.join(', ')}`);
  }

  private isEnabled(bot: ManagedBot): boolean {
    return this.config.bots.find((c) => c.name === bot.name)?.enabled ?? false;
  }

  /** Meant to run now: enabled in the config and not stopped by a person. */
  private isExpected(bot: ManagedBot): boolean {
    return this.isEnabled(bot) && !this.stoppedByPerson.has(bot.name);
  }

}

/** Resolves true once `done()` holds — checked now and after every state change of `bots` — or false when `ms` ran out first. */
export async function untilStates(bots: readonly ManagedBot[], done: () => boolean, ms: number): Promise<boolean> {
  const unsubscribe: Array<() => void> = [];
  const reached = new Promise<void>((resolve) => {
    const check = (): void => {
      if (done()) resolve();
    };
    for (const b of bots) unsubscribe.push(b.onStateChange(check));
    check();
  });
  try {
    return await settlesWithin(reached, ms);
  } finally {
    for (const stop of unsubscribe) stop();
  }
}
