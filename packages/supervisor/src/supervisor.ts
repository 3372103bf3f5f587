/**
 * The supervisor: the composition root of the daemon. Start: one instance per data dir → reap
 * the previous run → open the polling lock of every polled token in the user's machine-wide
 * lock folder (token-locks.ts; a lock held elsewhere makes its bot wait) → wire the
 * fleet to its events (fleet.ts, event-routing.ts) → serve control socket and HTTP → fork every
 * bot. Stop: the fleet in its order, then the locks. Everything a bot does over its life is
 * ManagedBot's business; this file only wires and orders.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createLogger, type HeldLock, type Logger, loadConfig, newTreeCookie, type ResolvedConfig, selfRef } from '@botvisor/core';
import { BotOutputLogs } from './bot/bot-output-log.js';
import { type ForkBot, forkDetached } from './bot/bot-process.js';
import type { ManagedBot } from './bot/managed-bot.js';
import { defaultBotEntry } from './bot-entry.js';
import type { LeaseStore } from './cluster/lease-store.js';
import { configFingerprint } from './config-fingerprint.js';
import { treeContainment } from './containment/tree-containment.js';
import { ControlServer } from './control/control-server.js';
import type { ControlRequest } from './control/protocol.js';
import { prepareSocketPath } from './control/socket-path.js';
import { createDashboard, type Dashboard } from './dashboard/dashboard.js';
import type { SandboxChatPort } from './dashboard/sandbox-chat-port.js';
import { EventRouter } from './event-routing.js';
import { EventStream } from './events.js';
import { type BuiltinModules, Fleet, untilStates } from './fleet.js';
import { BotHistory } from './history/bot-history.js';
import { HttpServer } from './http/http-server.js';
import { SupervisorMetrics } from './http/metrics.js';
import { acquireInstanceLock } from './instance-lock.js';
import { reapPreviousRun } from './reaper.js';
import { Registry } from './registry.js';
import { Reloader, type ReloadResult } from './reload/reloader.js';
import { treeUsage } from './resource-usage.js';
import type { BotDescription, BotStatusReport, StatusReport } from './status.js';
import { TokenLocks, type TokenLocksOptions } from './token-locks.js';

export interface SupervisorOptions {
  config: ResolvedConfig;
  /** The config file the bots read (they load their own token from it). */
  configFile: string;
  logger?: Logger;
  /** Override the runtime's bot entry (tests). */
  botEntry?: string;
  /**
   * The modules that implement the built-in kinds (bridge, alerts), resolved by the caller (the
   * CLI, the daemon's bin). A bot of a kind missing here is errored: no implementation installed.
   */
  builtinModules?: BuiltinModules;
  /** Starts each bot's process (default: a detached fork of the bot entry). */
  fork?: ForkBot;
  env?: NodeJS.ProcessEnv;
  /** Serve the control socket (default true). */
  controlSocket?: boolean;
  /** Serve HTTP /health and /metrics on config.http (default true). */
  http?: boolean;
  /** Called after a control client asked the supervisor to stop and the reply went out (the daemon exits). */
  onStopRequested?: () => void;
  /** Sandbox mode (the simulator runs alongside): the dashboard shows a chat panel talking to this bot as this sim user. */
  sandbox?: SandboxChatPort;
  /** How often the dashboard's history samples the bots (default 10 s; 360 samples are kept). */
  historySampleMs?: number;
}

export class Supervisor {
  readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  /** Control socket and HTTP server, set once they are up. */
  control: ControlServer | undefined;
  http: HttpServer | undefined;
  private dashboard: Dashboard | undefined;
  /** The bots' last hour for the dashboard's charts, while the HTTP server runs. */
  private history: BotHistory | undefined;
  private reloader: Reloader | undefined;

  /** Cluster mode: the PostgreSQL connections of the leases, closed after the leases are let go. */
  private leaseStore: LeaseStore | undefined;

  private constructor(
    readonly config: ResolvedConfig,
    readonly events: EventStream,
    readonly logger: Logger,
    private readonly ownsLogger: boolean,
    private readonly instance: HeldLock,
    private readonly registry: Registry,
    private readonly locks: TokenLocks,
    private readonly fleet: Fleet,
    private readonly metrics: SupervisorMetrics,
    private readonly outputLogs: BotOutputLogs,
    /** The config file and the fingerprint of what the fleet runs (at start, then after each complete reload): `status` reports them so the CLI can tell an edited file. */
    private readonly configFile: string,
    private configHash: string | null,
  ) {}

  /** The bots by name. */
  get bots(): Map<string, ManagedBot> {
    return this.fleet.bots;
  }

  static async start(o: SupervisorOptions): Promise<Supervisor> {
    const { config } = o;
    const configHash = configFingerprint(o.configFile); // first: the bytes closest to those the config was loaded from
    const logger = o.logger ?? createLogger({ proc: 'supervisor', logDir: config.logDir });
    const events = new EventStream(logger);
    const instance = await acquireInstanceLock(config.dataDir, logger);
    let registry: Registry | undefined;
    let locks: TokenLocks | undefined;
    let sup: Supervisor | undefined;
    let outputLogs: BotOutputLogs | undefined;
    let leases: LeaseStore | undefined;
    let cluster: TokenLocksOptions['cluster'];
    try {
      registry = await Registry.open(config.dataDir, logger);
      const reaped = await reapPreviousRun(registry.previous, config.locksDir, logger);
      if (reaped.killed.length > 0) {
        events.emit('orphans-reaped', `reaped ${reaped.killed.length} process(es) left running by the previous run`, undefined, {
          processes: reaped.killed.map((p) => ({ pid: p.pid, command: p.command })),
          survivors: reaped.survivors.length,
        });
      }
      logger.info(`process containment: ${treeContainment().describe()}`);
      const runCookie = newTreeCookie();
      await registry.beginRun(runCookie, { ...selfRef(), command: 'node' });

      if (config.cluster !== undefined) {
        const c = config.cluster;
        // Loaded only in cluster mode: the PostgreSQL client is ~50 modules a single-node supervisor never needs.
        const { LeaseStore } = await import('./cluster/lease-store.js');
        leases = new LeaseStore({ connectionString: c.postgres, queryTimeoutMs: c.renewMs });
        const store = leases;
        cluster = { store, postgres: c.postgres, instance: randomUUID(), node: c.node, leaseMs: c.leaseMs, renewMs: c.renewMs, onEvent: (name: string, kind: 'taken' | 'lost', message: string) => events.emit(kind === 'taken' ? 'cluster-active' : 'cluster-standby', message, name) };
        logger.info(`cluster mode: node ${c.node}, lease ${c.leaseMs} ms renewed every ${c.renewMs} ms`);
      }
      const fleet = new Fleet(config);
      // Each bot hears its own lock (ManagedBot): it polls only while the lock is held.
      locks = await TokenLocks.open({
        locksDir: config.locksDir,
        configFile: path.resolve(o.configFile),
        pollers: config.bots.filter((b) => b.enabled && b.polling),
        logger,
        ...(cluster !== undefined ? { cluster } : {}),
        onEvent: (name, kind, message) => events.emit(kind === 'taken' ? 'lock-taken' : kind === 'lost' ? 'lock-lost' : 'lock-waiting', message, name),
      });
      const metrics = new SupervisorMetrics(() => fleet.all().map((b) => ({ name: b.name, state: b.state })));
      const router = new EventRouter(events, metrics);
      outputLogs = new BotOutputLogs(config.logDir);
      const outputs = outputLogs;
      fleet.enlist({
        configFile: o.configFile,
        entry: o.botEntry ?? defaultBotEntry(),
        builtinModules: o.builtinModules ?? {},
        env: o.env ?? process.env,
        logger,
        events,
        registry,
        runCookie,
        locks,
        metrics,
        router,
        outputLog: (name) => outputs.of(name),
        fork: treeContainment().wrapFork(o.fork ?? forkDetached, (err) => logger.warning("could not move a bot into its cgroup; its tree is tracked by the cookie only", { err })),
      });
      router.deliverTo(() => fleet.all());
      await registry.flush();
      sup = new Supervisor(config, events, logger, o.logger === undefined, instance, registry, locks, fleet, metrics, outputs, path.resolve(o.configFile), configHash);
      sup.leaseStore = leases;
      sup.reloader = new Reloader({ fleet, configFile: o.configFile, load: (file) => loadConfig(file), events, logger, readyTimeoutMs: config.supervisor.startTimeoutMs + 5000, jobCheckMs: config.supervisor.pingIntervalMs });
      await sup.serve(o);
      fleet.startAll('supervisor start');
      return sup;
    } catch (err) {
      await sup?.control?.close().catch(() => undefined);
      await sup?.http?.close().catch(() => undefined);
      await locks?.release(() => undefined);
      await leases?.close().catch(() => undefined);
      await registry?.close().catch(() => undefined);
      await instance.release().catch(() => undefined);
      await outputLogs?.close().catch(() => undefined);
      throw err;
    }
  }

  /** Opens the control socket and the HTTP server (with the dashboard), as the options ask. */
  private async serve(o: SupervisorOptions): Promise<void> {
    const { config, logger, fleet } = this;
    if (o.controlSocket !== false) {
      this.control = await ControlServer.start(prepareSocketPath(config.dataDir), (req) => this.handleControl(req, o.onStopRequested), logger);
    }
    if (o.http !== false && config.http.enabled) {
      const history = new BotHistory(
        { read: async () => (await this.status()).bots, counters: (name) => this.metrics.latestCounters(name), logger },
        o.historySampleMs !== undefined ? { sampleMs: o.historySampleMs } : {},
      );
      this.history = history;
      history.start();
      const dashboard = createDashboard({
        fleet: {
          status: () => this.status(),
          events: this.events,
          // The dashboard's Restart keeps a ready bot answering: a hand-over, not a stop and a start.
          restart: (name) => fleet.restart(name, 'hand-over'),
          stopBot: (name) => fleet.stopBot(name),
          startBot: async (name) => {
            const outcome = await this.startBot(name);
            if (outcome.state !== 'ready') throw new Error(`${name} is ${outcome.state} after the start${outcome.problem !== null ? ` (${outcome.problem})` : ''}; see its log`);
          },
          children: (name) => fleet.get(name)?.trackedChildren(),
          operatorStop: (name, pid) => fleet.get(name)?.tellOperatorStop(pid),
          history: () => history.snapshot(),
        },
        bots: config.bots,
        http: config.http,
        logDir: config.logDir,
        sandbox: o.sandbox,
        logger: logger.child({ source: 'dashboard' }),
      });
      this.dashboard = dashboard;
      this.http = await HttpServer.start({
        host: config.http.host,
        port: config.http.port,
        ...(config.http.authToken !== undefined ? { authToken: config.http.authToken } : {}),
        health: () => fleet.health(),
        metrics: this.metrics,
        logger,
        extraRoutes: dashboard.handle,
      });
      logger.info('HTTP server listening', { url: this.http.url });
    }
  }

  /** A one-time link that makes a browser the owner's on the dashboard (dashboard/owner-access.ts); undefined without HTTP. */
  dashboardLoginUrl(): string | undefined {
    return this.http !== undefined ? this.dashboard?.loginUrl(this.http.url) : undefined;
  }

  /** Resolves when every enabled bot is ready; rejects (naming the bot and why) when one errors or the time runs out. */
  waitReady(timeoutMs: number): Promise<void> {
    return this.fleet.waitReady(timeoutMs);
  }

  /** `botvisor reload [bot|all]`, SIGHUP: re-reads the config file and applies it (reload/reloader.ts). */
  reload(target = 'all'): Promise<ReloadResult> {
    if (this.reloader === undefined || this.stopping !== undefined) return Promise.reject(new Error('the supervisor is stopping'));
    const fingerprint = configFingerprint(this.configFile); // before reading: an edit made meanwhile still shows as drift
    return this.reloader.reload(target).then((result) => {
      // The whole file applied: the running fleet is that file now (failed or deferred bots, or settings that need a restart, still differ).
      if (target === 'all' && result.failed.length === 0 && result.deferred.length === 0 && result.needsRestart.length === 0) this.configHash = fingerprint;
      return result;
    });
  }

  restart(name: string): Promise<void> {
    return this.fleet.restart(name);
  }

  async status(): Promise<StatusReport> {
    const bots = await Promise.all(this.fleet.all().map((b) => this.botReport(b)));
    return {
      supervisor: {
        pid: process.pid,
        uptimeMs: Date.now() - this.startedAt,
        startedAt: new Date(this.startedAt).toISOString(),
        dataDir: this.config.dataDir,
        httpUrl: this.http?.url ?? null,
        locks: this.locks.status(),
        configFile: this.configFile,
        configHash: this.configHash,
      },
      bots,
    };
  }

  private async botReport(b: ManagedBot): Promise<BotStatusReport> {
    const usage = await treeUsage(b.treePids());
    return { ...b.status(), cpu: usage.cpu, memoryBytes: usage.memoryBytes, stoppedByPerson: this.fleet.isStoppedByPerson(b.name) };
  }

  /** Everything the supervisor knows about one bot (`botvisor describe`). */
  async describe(name: string): Promise<BotDescription> {
    const b = this.fleet.get(name);
    if (b === undefined) throw new Error(`no bot named "${name}" (bots: ${[...this.fleet.bots.keys()].join(', ')})`);
    return {
      bot: await this.botReport(b),
      history: b.stateHistory().map((c) => ({ ...c, at: new Date(c.at).toISOString() })),
      lock: this.locks.status().find((l) => l.bot === name) ?? null,
    };
  }

  /** A person's start of one bot; resolves with its state once the start has an outcome (ready, errored, waiting, or still starting at the time-out). */
  private async startBot(name: string): Promise<{ bot: string; state: string; problem: string | null; pid: number | null }> {
    this.fleet.startBot(name);
    const b = this.fleet.get(name) as ManagedBot;
    await untilStates([b], () => b.state !== 'starting' && b.state !== 'stopping' && b.state !== 'stopped', this.config.supervisor.startTimeoutMs + 5000);
    const st = b.status();
    return { bot: name, state: st.state, problem: st.problem, pid: st.pid };
  }

  /** Stops every bot (send-only ones first, pollers last), releases the locks, clears the registry. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping every bot');
      this.history?.stop();
      await this.control?.close().catch((err: unknown) => this.logger.warning('could not close the control socket', { err }));
      await this.fleet.stopAll('supervisor stopping');
      await this.outputLogs.close();
      await this.locks.release((err) => this.logger.warning('could not release a polling lock', { err }));
      await this.leaseStore?.close().catch((err: unknown) => this.logger.warning('could not close the PostgreSQL connections', { err }));
      await this.http?.close();
      await this.registry.close();
      await this.instance.release();
      this.logger.info('stopped');
      if (this.ownsLogger) await this.logger.close();
    })();
    return this.stopping;
  }

  /** Answers one control-socket request. */
  async handleControl(req: ControlRequest, onStopRequested: (() => void) | undefined): Promise<unknown> {
    switch (req.cmd) {
      case 'ping':
        return { pong: true, pid: process.pid };
      case 'status':
        return this.status();
      case 'restart':
        await this.restart(req.bot);
        return { restarted: req.bot };
      case 'reload':
        return this.reload(req.bot ?? 'all');
      case 'events':
        return this.events.recent();
      case 'dashboard-login': {
        const url = this.dashboardLoginUrl();
        if (url === undefined) throw new Error('the HTTP server is off, so there is no dashboard');
        return { url };
      }
      case 'stop-bot':
        await this.fleet.stopBot(req.bot);
        return { stopped: req.bot };
      case 'start-bot':
        return this.startBot(req.bot);
      case 'describe':
        return this.describe(req.bot);
      case 'stop':
        // Reply first, then stop: the client waits for the process to end.
        setImmediate(() => {
          if (onStopRequested !== undefined) onStopRequested();
          else void this.stop();
        });
        return { stopping: true, pid: process.pid };
    }
  }

  /** Where the bots' data lives (for tools). */
  botDir(name: string): string {
    return path.join(this.config.dataDir, 'bots', name);
  }
}
