/**
 * The supervisor: the composition root of the daemon. Start: one instance per data dir → reap
 * the previous run → take the polling lock of every polled token (held for the supervisor's
 * whole life, so a bot's restart never opens a window for a second poller) → fork every bot.
 * Stop: auxiliary bots first, the polling bots last, then release the locks. Everything a bot
 * does over its life is ManagedBot's business; this file only wires and orders.
 */
import path from 'node:path';
import {
  acquirePollingLock,
  createLogger,
  type HeldLock,
  LockHeldError,
  type Logger,
  newTreeCookie,
  type ResolvedConfig,
  selfRef,
} from '@botvisor/core';
import { ManagedBot } from './bot/managed-bot.js';
import { defaultBotEntry, defaultBuiltinModules } from './builtin-bots.js';
import { ConflictStormDetector } from './conflict-storm.js';
import { ControlServer } from './control/control-server.js';
import { type ControlRequest, controlSocketPath } from './control/protocol.js';
import { createDashboard } from './dashboard/dashboard.js';
import type { SandboxChatPort } from './dashboard/sandbox-chat-port.js';
import { EventStream } from './events.js';
import { HttpServer } from './http/http-server.js';
import { SupervisorMetrics } from './http/metrics.js';
import { acquireInstanceLock } from './instance-lock.js';
import { reapPreviousRun } from './reaper.js';
import { Registry } from './registry.js';
import { treeUsage } from './resource-usage.js';
import type { LockStatus, StatusReport } from './status.js';

export interface SupervisorOptions {
  config: ResolvedConfig;
  /** The config file the bots read (they load their own token from it). */
  configFile: string;
  logger?: Logger;
  /** Override the runtime's bot entry or the built-in bots' modules (tests). */
  botEntry?: string;
  builtinModules?: Partial<Record<'bridge' | 'alerts', string>>;
  env?: NodeJS.ProcessEnv;
  /** Serve the control socket (default true). */
  controlSocket?: boolean;
  /** Serve HTTP /health and /metrics on config.http (default true). */
  http?: boolean;
  /** Called after a control client asked the supervisor to stop and the reply went out (the daemon exits). */
  onStopRequested?: () => void;
  /** Sandbox mode (the simulator runs alongside): the dashboard shows a chat panel talking to this bot as this sim user. */
  sandbox?: SandboxChatPort;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

interface TokenLock {
  lock: HeldLock;
  tokenHash: string;
  bot: string;
}

export class Supervisor {
  readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  /** Control socket and HTTP server, set once they are up. */
  control: ControlServer | undefined;
  http: HttpServer | undefined;

  private constructor(
    readonly config: ResolvedConfig,
    readonly events: EventStream,
    private readonly logger: Logger,
    private readonly ownsLogger: boolean,
    private readonly instance: HeldLock,
    private readonly registry: Registry,
    private readonly locks: TokenLock[],
    readonly bots: Map<string, ManagedBot>,
  ) {}

  static async start(o: SupervisorOptions): Promise<Supervisor> {
    const { config } = o;
    const logger = o.logger ?? createLogger({ proc: 'supervisor', logDir: config.logDir });
    const events = new EventStream(logger);
    const instance = await acquireInstanceLock(config.dataDir, logger);
    const locks: TokenLock[] = [];
    let registry: Registry | undefined;
    let supRef: Supervisor | undefined;
    try {
      registry = await Registry.open(config.dataDir, logger);
      const reaped = await reapPreviousRun(registry.previous, config.dataDir, logger);
      if (reaped.killed.length > 0) {
        events.emit('orphans-reaped', `reaped ${reaped.killed.length} process(es) left running by the previous run`, undefined, {
          processes: reaped.killed.map((p) => ({ pid: p.pid, command: p.command })),
          survivors: reaped.survivors.length,
        });
      }
      const me = selfRef();
      const runCookie = newTreeCookie();
      await registry.beginRun(runCookie, { ...me, command: 'node' });

      const pollers = config.bots.filter((b) => b.enabled && b.polling);
      for (const bot of pollers) {
        try {
          const lock = await acquirePollingLock({
            dataDir: config.dataDir,
            token: bot.token,
            role: 'supervisor',
            timeoutMs: 5000,
            logger,
            onCompromised: () => {
              events.emit('errored', `the polling lock of bot ${bot.name} was compromised; stopping the bot so only one process polls`, bot.name);
              void sup?.bots.get(bot.name)?.stop('polling lock compromised');
            },
          });
          locks.push({ lock, tokenHash: bot.tokenHash, bot: bot.name });
        } catch (err) {
          if (err instanceof LockHeldError) {
            throw new StartupError(`cannot start bot "${bot.name}": ${err.message}, a process outside this supervisor; stop it first`);
          }
          throw err;
        }
      }

      const entry = o.botEntry ?? defaultBotEntry();
      const builtins = { ...defaultBuiltinModules(), ...o.builtinModules };
      const output = logger.child({ source: 'bot-output' });
      const storms = new ConflictStormDetector();
      const startedAt = Date.now();
      const bots = new Map<string, ManagedBot>();
      const metrics = new SupervisorMetrics(() => [...bots.values()].map((b) => ({ name: b.name, state: b.state })));
      for (const bot of config.bots) {
        const held = locks.find((l) => l.bot === bot.name);
        bots.set(
          bot.name,
          new ManagedBot({
            bot,
            configFile: o.configFile,
            entry,
            module: bot.kind === 'custom' ? undefined : builtins[bot.kind],
            settings: config.supervisor,
            cookie: `${runCookie}.${bot.name}`,
            lock: held === undefined ? undefined : { path: held.lock.lockPath, owner: held.lock.owner },
            env: o.env ?? process.env,
            logger: logger.child({ bot: bot.name }),
            output,
            events,
            registry,
            onPong: (pid, pong) => metrics.onPong(bot.name, pid, pong),
            fleetStatus: () => ({
              supervisor: { pid: process.pid, uptimeMs: Date.now() - startedAt },
              bots: [...bots.values()].map((b) => {
                const st = b.status();
                return { name: st.name, state: st.state, pid: st.pid, restarts: st.restarts, uptimeMs: st.uptimeMs, polling: st.polling };
              }),
            }),
            onRestart: (cause) => metrics.onRestart(bot.name, cause),
            onBotEvent: (event) => {
              if (event.kind !== 'conflict') return;
              metrics.onConflict(bot.name);
              const count = storms.record(bot.name);
              if (count !== undefined) events.emit('conflict-storm', `bot ${bot.name}: ${count} 409 Conflicts within a minute — another process is polling its token`, bot.name, { conflicts: count });
            },
          }),
        );
      }
      // Alerts bots hear every event.
      events.subscribe((event) => {
        for (const b of bots.values()) if (config.bots.find((c) => c.name === b.name)?.kind === 'alerts') b.deliver(event);
      });
      await registry.flush();
      supRef = new Supervisor(config, events, logger, o.logger === undefined, instance, registry, locks, bots);
      const sup: Supervisor = supRef;
      if (o.controlSocket !== false) {
        sup.control = await ControlServer.start(controlSocketPath(config.dataDir), (req) => sup.handleControl(req, o.onStopRequested), logger);
      }
      if (o.http !== false && config.http.enabled) {
        sup.http = await HttpServer.start({
          host: config.http.host,
          port: config.http.port,
          ...(config.http.authToken !== undefined ? { authToken: config.http.authToken } : {}),
          health: () => [...bots.values()].map((b) => ({ name: b.name, state: b.state, enabled: config.bots.find((c) => c.name === b.name)?.enabled ?? false, uptimeMs: b.status().uptimeMs })),
          metrics,
          logger,
          extraRoutes: createDashboard({
            fleet: { status: () => sup.status(), events, restart: (name) => sup.restart(name), children: (name) => bots.get(name)?.trackedChildren() },
            bots: config.bots,
            http: config.http,
            logDir: config.logDir,
            sandbox: o.sandbox,
            logger: logger.child({ source: 'dashboard' }),
          }).handle,
        });
        logger.info('HTTP server listening', { url: sup.http.url });
      }
      const order = [...config.bots].filter((b) => b.enabled).sort((a, b) => Number(b.polling) - Number(a.polling));
      for (const b of order) bots.get(b.name)?.start('supervisor start');
      return sup;
    } catch (err) {
      await supRef?.control?.close().catch(() => undefined);
      await supRef?.http?.close().catch(() => undefined);
      for (const l of locks) await l.lock.release().catch(() => undefined);
      await registry?.close().catch(() => undefined);
      await instance.release().catch(() => undefined);
      throw err;
    }
  }

  /** Resolves when every enabled bot is ready; rejects (naming the bot and why) when one errors or the time runs out. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const enabled = [...this.bots.values()].filter((b) => this.config.bots.find((c) => c.name === b.name)?.enabled);
      const errored = enabled.find((b) => b.state === 'errored');
      if (errored !== undefined) {
        const last = errored.status().lastExit;
        throw new Error(`bot ${errored.name} errored${last !== null ? ` (last exit: ${last.signal ?? `code ${last.code}`})` : ''}; see its log`);
      }
      if (enabled.every((b) => b.state === 'ready')) return;
      if (Date.now() >= deadline) {
        const waiting = enabled.filter((b) => b.state !== 'ready').map((b) => `${b.name} (${b.state})`);
        throw new Error(`not every bot was ready within ${timeoutMs} ms: ${waiting.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async restart(name: string): Promise<void> {
    const targets = name === 'all' ? [...this.bots.values()] : [this.bots.get(name)].filter((b): b is ManagedBot => b !== undefined);
    if (targets.length === 0) throw new Error(`no bot named "${name}" (bots: ${[...this.bots.keys()].join(', ')})`);
    await Promise.all(targets.map((b) => b.restart(`restart requested for ${name}`)));
    // Answer once the restart has an outcome, so `botvisor restart` can say it.
    const deadline = Date.now() + this.config.supervisor.startTimeoutMs + 5000;
    while (targets.some((b) => b.state === 'starting') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const failed = targets.filter((b) => b.state !== 'ready');
    if (failed.length > 0) throw new Error(`${failed.map((b) => `${b.name} is ${b.state}`).join(', ')} after the restart; see its log`);
  }

  async status(): Promise<StatusReport> {
    const bots = await Promise.all(
      [...this.bots.values()].map(async (b) => {
        const s = b.status();
        const usage = await treeUsage(b.treePids());
        return { ...s, cpu: usage.cpu, memoryBytes: usage.memoryBytes };
      }),
    );
    const locks: LockStatus[] = this.locks.map((l) => ({
      tokenHash: l.tokenHash,
      path: l.lock.lockPath,
      owner: { pid: l.lock.owner.pid, role: l.lock.owner.role, since: l.lock.owner.since },
      bot: l.bot,
    }));
    return {
      supervisor: { pid: process.pid, uptimeMs: Date.now() - this.startedAt, startedAt: new Date(this.startedAt).toISOString(), dataDir: this.config.dataDir, httpUrl: this.http?.url ?? null, locks },
      bots,
    };
  }

  /** Stops every bot (send-only ones first, pollers last), releases the locks, clears the registry. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping every bot');
      await this.control?.close().catch((err: unknown) => this.logger.warning('could not close the control socket', { err }));
      const all = [...this.bots.values()];
      const polling = new Set(this.config.bots.filter((b) => b.polling).map((b) => b.name));
      await Promise.all(all.filter((b) => !polling.has(b.name)).map((b) => b.stop('supervisor stopping')));
      await Promise.all(all.filter((b) => polling.has(b.name)).map((b) => b.stop('supervisor stopping')));
      for (const l of this.locks) await l.lock.release().catch((err: unknown) => this.logger.warning('could not release a polling lock', { err }));
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
      case 'events':
        return this.events.recent();
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
