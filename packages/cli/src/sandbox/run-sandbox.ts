/**
 * `botvisor start` with no config: the offline sandbox. Starts the Bot API simulator in this
 * process, writes the sandbox's config and fake token into the sandbox folder, runs the
 * supervisor in the foreground with the dashboard's chat panel on, says "all bots ready" and how
 * to talk to the bot, and on Ctrl-C (or SIGTERM, or `botvisor stop`) stops the supervisor and
 * the simulator and exits 0. The simulator numbers updates on from the last run
 * (sandbox-update-ids.ts). The demo config itself is sandbox-config.ts; the banner is
 * sandbox-banner.ts; the chat panel's link to the simulator is sandbox-chat-port.ts (an object
 * handed to the supervisor, which is why the sandbox never runs it as a separate daemon).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { ConfigError, createLogger, isAlive, type Logger, loadConfig, type ResolvedConfig, readLockOwner } from '@botvisor/core';
import { AlreadyRunningError, installedBuiltinModules, installLastResort, instanceLockPath, StartupError, Supervisor, type SupervisorEvent } from '@botvisor/supervisor';
import { CliError, EXIT } from '../exit-codes.js';
import { sandboxBanner } from './sandbox-banner.js';
import { SimSandboxChat } from './sandbox-chat-port.js';
import { sandboxConfig } from './sandbox-config.js';
import { SANDBOX_CHAT_ID, SANDBOX_TOKEN, SANDBOX_USER } from './sandbox-identity.js';
import { removeSandboxInfo, writeSandboxInfo } from './sandbox-info.js';
import { SANDBOX_ENV, SANDBOX_HOST, type SandboxSettings, sandboxSettings } from './sandbox-settings.js';
import { firstUpdateIdFor } from './sandbox-update-ids.js';

const READY_TIMEOUT_MS = 120_000;
/** Events worth a line in the terminal once the banner is out (the log has them all). */
const SHOWN_EVENTS = new Set(['crashed', 'restarted', 'hung', 'errored', 'conflict-storm', 'orphans-reaped', 'ready']);

type Out = (s: string) => void;

/** One clear sentence for a port another program holds (or we may not bind). */
function portError(err: unknown, port: number, what: string, envName: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CliError(`port ${port} on ${SANDBOX_HOST} (${what}) is already in use; stop whatever uses it, or set ${envName} to another port (0 picks a free one)`);
  if (code === 'EACCES') return new CliError(`not allowed to listen on port ${port} on ${SANDBOX_HOST} (${what}); set ${envName} to a port above 1023 (0 picks a free one)`);
  return err;
}

/** A sandbox supervisor already running for this folder, by its instance lock's live owner. */
function runningSandboxPid(dataDir: string): number | undefined {
  const owner = readLockOwner(instanceLockPath(dataDir));
  return owner !== undefined && isAlive({ pid: owner.pid, startTime: owner.startTime }) ? owner.pid : undefined;
}

/** How the user should read a path: relative to the cwd when it is inside it. */
function shown(dir: string, cwd: string): string {
  const rel = path.relative(cwd, dir);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? `${rel}/` : `${dir}/`;
}

function shellWord(s: string): string {
  return /^[\w./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** Writes the token file (owner-only, as loadConfig demands) and the config; returns the resolved config. */
function writeSandboxFiles(s: SandboxSettings, simUrl: string, env: NodeJS.ProcessEnv): ResolvedConfig {
  writeFileSync(s.tokenFile, `${SANDBOX_TOKEN}\n`, { mode: 0o600 });
  chmodSync(s.tokenFile, 0o600); // an older file keeps its mode on overwrite
  const raw = sandboxConfig({ simUrl, httpPort: s.httpPort, tokenFile: path.basename(s.tokenFile) });
  writeFileSync(s.configFile, `${JSON.stringify(raw, null, 2)}\n`);
  try {
    return loadConfig(s.configFile, { env });
  } catch (err) {
    // The sandbox's own config is a bug if it is invalid; say where it is.
    if (err instanceof ConfigError) throw new CliError(`the generated sandbox config is invalid (a botvisor bug): ${err.message}`);
    throw err;
  }
}

class SandboxRun {
  private supervisor: Supervisor | undefined;
  private stopRequested: string | undefined;
  private stopping = false;
  private released = false;
  private bannerShown = false;

  constructor(
    private readonly s: SandboxSettings,
    private readonly sim: SimHandle,
    private readonly loggers: Logger[],
    private readonly out: Out,
  ) {}

  /** Ctrl-C during start-up is remembered and honoured as soon as the supervisor is up. */
  onSignal(why: string): void {
    if (this.supervisor === undefined) {
      this.stopRequested ??= why;
      return;
    }
    void this.stop(why);
  }

  async start(config: ResolvedConfig): Promise<void> {
    try {
      this.supervisor = await Supervisor.start({
        config,
        configFile: this.s.configFile,
        logger: this.loggers[0],
        builtinModules: installedBuiltinModules(),
        sandbox: new SimSandboxChat({ bot: this.sim.client.bot(SANDBOX_TOKEN), user: SANDBOX_USER, chatId: SANDBOX_CHAT_ID }),
        onStopRequested: () => void this.stop('botvisor stop'),
      });
    } catch (err) {
      await this.release();
      if (err instanceof AlreadyRunningError) throw new CliError(`a sandbox is already running in ${this.s.dir} (${err.message}); talk to it with: npx botvisor chat`);
      if (err instanceof StartupError) throw new CliError(err.message);
      throw portError(err, config.http.port, 'the dashboard', SANDBOX_ENV.httpPort);
    }
    installLastResort({ logger: () => this.loggers[0], stop: () => this.supervisor?.stop(), hardStopMs: () => config.supervisor.stopGraceMs + 15_000 });
    this.supervisor.events.subscribe((e) => this.showEvent(e));
    writeSandboxInfo(this.s.infoFile, {
      simUrl: this.sim.url,
      token: SANDBOX_TOKEN,
      user: SANDBOX_USER,
      chatId: SANDBOX_CHAT_ID,
      bot: 'bridge',
      httpUrl: this.supervisor.http?.url ?? null,
      pid: process.pid,
      configFile: this.s.configFile,
    });
    if (this.stopRequested !== undefined) await this.stop(this.stopRequested);
  }

  /** Waits for every bot, then says so (the literal line `all bots ready`) or what is wrong. */
  async waitReady(): Promise<void> {
    const supervisor = this.supervisor;
    if (supervisor === undefined) return;
    try {
      await supervisor.waitReady(READY_TIMEOUT_MS);
      this.out('all bots ready');
    } catch (err) {
      this.out(`warning: ${(err as Error).message} (npx botvisor logs <bot> shows why)`);
    }
  }

  banner(chatCommand: string, cwd: string): void {
    const supervisor = this.supervisor;
    if (supervisor === undefined || this.stopping) return;
    const bots = supervisor.config.bots.map((b) => ({ name: b.name, kind: b.kind, state: supervisor.bots.get(b.name)?.state ?? 'unknown' }));
    const httpUrl = supervisor.http?.url ?? null;
    this.out(sandboxBanner({ simUrl: this.sim.url, httpUrl, bots, dir: shown(this.s.dir, cwd), chatCommand }));
    if (httpUrl !== null) this.out(`  the dashboard's actions need its owner: open ${supervisor.dashboardLoginUrl()} once (or run: npx botvisor dashboard)`);
    this.bannerShown = true;
  }

  private showEvent(e: SupervisorEvent): void {
    if (this.stopping) return;
    // Before the banner only trouble is news; after it, a bot coming back is news too.
    if (!SHOWN_EVENTS.has(e.kind) || (!this.bannerShown && (e.kind === 'ready' || e.kind === 'restarted'))) return;
    this.out(`${clock()}  ${e.message}`);
  }

  async stop(why: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.out(`stopping (${why})…`);
    let code: number = EXIT.ok;
    try {
      await this.supervisor?.stop();
    } catch (err) {
      this.out(`warning: the supervisor did not stop cleanly: ${(err as Error).message}`);
      code = EXIT.failed;
    }
    await this.release();
    this.out('stopped');
    process.exit(code);
  }

  /** Everything but the supervisor: the simulator, the info file, the log files. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.sim.close();
    removeSandboxInfo(this.s.infoFile);
    for (const logger of this.loggers) await logger.close().catch(() => undefined);
  }
}

export async function runSandbox(out: Out, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  const s = sandboxSettings(env, cwd);
  const dataDir = path.join(s.dir, 'data');
  const running = runningSandboxPid(dataDir);
  if (running !== undefined) throw new CliError(`a sandbox is already running in ${s.dir} (pid ${running}); talk to it with: npx botvisor chat, or stop it with Ctrl-C in its terminal`);

  mkdirSync(s.dir, { recursive: true });
  out(`no config found (-c, $BOTVISOR_CONFIG, ./botvisor.json): starting the offline sandbox in ${shown(s.dir, cwd)}`);
  const logDir = path.join(s.dir, 'logs');
  // The terminal is for the banner and the chat hint; the full story goes to the log files.
  const supervisorLogger = createLogger({ proc: 'supervisor', logDir, console: 'never' });
  const simLogger = createLogger({ proc: 'bot-api-sim', logDir, console: 'never' });
  let sim: SimHandle;
  try {
    // Past the offsets the bots stored last time, so a restarted sandbox hands out ids they have not seen.
    sim = await startSim({ host: SANDBOX_HOST, port: s.simPort, logger: simLogger, firstUpdateId: firstUpdateIdFor(dataDir) });
  } catch (err) {
    await simLogger.close();
    await supervisorLogger.close();
    throw portError(err, s.simPort, 'the Bot API simulator', SANDBOX_ENV.simPort);
  }
  // The user "has talked to the bot before", so the alerts bot may write to the chat at once.
  sim.simulator.bot(SANDBOX_TOKEN).chats.learn({ id: SANDBOX_CHAT_ID, type: 'private', first_name: SANDBOX_USER.first_name });

  const run = new SandboxRun(s, sim, [supervisorLogger, simLogger], out);
  process.on('SIGINT', () => run.onSignal('Ctrl-C'));
  process.on('SIGTERM', () => run.onSignal('SIGTERM'));
  let resolved: ResolvedConfig;
  try {
    resolved = writeSandboxFiles(s, sim.url, env);
  } catch (err) {
    await run.release();
    throw err;
  }
  await run.start(resolved);
  await run.waitReady();
  const envDir = env[SANDBOX_ENV.dir];
  const chatCommand = envDir !== undefined && envDir !== '' ? `${SANDBOX_ENV.dir}=${shellWord(s.dir)} npx botvisor chat` : 'npx botvisor chat';
  run.banner(chatCommand, cwd);
  return new Promise<number>(() => undefined); // runs until a signal or `botvisor stop`
}
