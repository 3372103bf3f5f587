/**
 * `botvisor start [-c FILE] [--detach]`. Foreground by default — the supervisor runs in this
 * process, as systemd and launchd want, and SIGTERM/SIGINT stop it cleanly. `--detach` starts the
 * same foreground command in the background and returns once every bot is ready, or prints which
 * bot failed and why (its problem) and exits non-zero — a bot that cannot start is errored after
 * three failed starts, so that takes seconds, not the crash budget.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlreadyRunningError, controlRequest, controlSocketPath, installedBuiltinModules, installLastResort, reloadOnSighup, StartupError, type StatusReport, Supervisor } from '@botvisor/supervisor';
import { configDrift } from '../config-drift.js';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';
import { renderStatus } from './status.js';

/** The HTTP port is taken: which setting to change, in which file. */
export function httpPortInUse(found: FoundConfig): string {
  const { host, port } = found.config.http;
  return `http.port ${port} on ${host} is already in use; set http.port in ${found.file} to a free port (0 picks any), or "http": false to run without HTTP`;
}

/** The shipped `botvisor` entry (the bundle), found through the package's exports: the same file from tsc's output and from the bundle. */
const CLI_BIN = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));

export async function startForeground(found: FoundConfig, out: (s: string) => void): Promise<number> {
  for (const w of found.config.warnings) out(`warning: ${w}`);
  let supervisor: Supervisor | undefined;
  let stopping: Promise<void> | undefined;
  installLastResort({ logger: () => supervisor?.logger, stop: () => supervisor?.stop(), hardStopMs: () => found.config.supervisor.stopGraceMs + 15_000 });
  const stop = (why: string): void => {
    if (stopping !== undefined || supervisor === undefined) return;
    out(`stopping (${why})…`);
    stopping = supervisor.stop().then(() => {
      out('stopped');
      process.exit(EXIT.ok);
    });
  };
  try {
    supervisor = await Supervisor.start({ config: found.config, configFile: found.file, builtinModules: installedBuiltinModules(), onStopRequested: () => stop('botvisor stop') });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CliError(httpPortInUse(found));
    if (err instanceof AlreadyRunningError || err instanceof StartupError) throw new CliError(err.message);
    throw err;
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const running = supervisor;
  reloadOnSighup(() => running.reload('all'), running.logger);
  out(`botvisor supervisor pid ${process.pid} started with ${found.file}${supervisor.http !== undefined ? `; health at ${supervisor.http.url}/health` : ''}`);
  try {
    await supervisor.waitReady(120_000);
    out(`all bots ready: ${[...supervisor.bots.keys()].join(', ')}`);
  } catch (err) {
    out(`warning: ${(err as Error).message}`);
  }
  return new Promise<number>(() => undefined); // runs until a signal or `botvisor stop`
}

/**
 * A supervisor already running on this data dir: with the same config, `start --detach` has
 * nothing to do (exit 0, its table); with an edited file, it says the running fleet uses the old
 * config and how to apply the new one (exit 1) — never the old table as if the new bots ran.
 */
async function alreadyRunning(found: FoundConfig, out: (s: string) => void): Promise<number | undefined> {
  let running: StatusReport;
  try {
    running = await controlRequest<StatusReport>(controlSocketPath(found.config.dataDir), { cmd: 'status' }, 5000);
  } catch {
    return undefined; // nobody answers: start one (a live supervisor that does not answer refuses the second start itself)
  }
  const drift = configDrift(found, running);
  if (drift !== undefined) throw new CliError(`botvisor is already running; ${drift}`);
  out(`botvisor is already running (pid ${running.supervisor.pid}, since ${running.supervisor.startedAt}) with this config`);
  out(renderStatus(running));
  return EXIT.ok;
}

export async function startDetached(found: FoundConfig, waitMs: number, out: (s: string) => void): Promise<number> {
  const running = await alreadyRunning(found, out);
  if (running !== undefined) return running;
  mkdirSync(found.config.logDir, { recursive: true, mode: 0o700 }); // private, like every log (core's private-paths)
  const outFile = path.join(found.config.logDir, 'supervisor.out');
  const fd = openSync(outFile, 'a', 0o600);
  const ownOutputFrom = statSync(outFile).size; // the file keeps earlier runs' output: show only this run's
  const child = spawn(process.execPath, [CLI_BIN, 'start', '-c', found.file], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
  closeSync(fd);
  let exitCode: number | null = null;
  child.once('exit', (code) => {
    exitCode = code ?? 1;
  });
  child.unref();
  const socket = controlSocketPath(found.config.dataDir);
  const deadline = Date.now() + waitMs;
  let last: StatusReport | undefined;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    if (exitCode !== null) {
      const own = readFileSync(outFile).subarray(ownOutputFrom).toString('utf8').trim().split('\n');
      // The foreground start's own one-sentence error (a port in use, a second start) says it all.
      const sentence = own.findLast((l) => l.startsWith('botvisor: ') && !l.startsWith('botvisor: unexpected error'));
      if (sentence !== undefined) throw new CliError(sentence.slice('botvisor: '.length), exitCode);
      throw new CliError(`the supervisor exited with code ${exitCode} during start-up:\n${own.slice(-5).join('\n')}`);
    }
    try {
      last = await controlRequest<StatusReport>(socket, { cmd: 'status' }, 5000);
    } catch {
      continue; // not listening yet
    }
    const errored = last.bots.find((b) => b.state === 'errored');
    if (errored !== undefined) {
      // The problem names the cause (the failed step, the module, the token) and what to do.
      const why = errored.problem ?? (errored.lastExit === null ? 'no exit recorded' : `last exit ${errored.lastExit.signal ?? `code ${errored.lastExit.code}`}`);
      throw new CliError(`bot ${errored.name} failed to start: ${why}\nThe supervisor (pid ${last.supervisor.pid}) keeps running; the bot's output: botvisor logs ${errored.name}`);
    }
    const settled = last.bots.every((b) => b.state === 'ready' || b.state === 'waiting' || !found.config.bots.find((c) => c.name === b.name)?.enabled);
    const waitingForLock = last.bots.filter((b) => b.state === 'waiting');
    if (settled && waitingForLock.length === 0) {
      out(renderStatus(last));
      return EXIT.ok;
    }
    if (settled) {
      // Another installation polls this token: this one's bot stays off getUpdates until that one stops.
      out(renderStatus(last));
      const why = waitingForLock.map((b) => `bot ${b.name} waits: ${b.problem ?? 'its polling lock is not held'}`).join('\n');
      throw new CliError(`${why}\nThe supervisor (pid ${last.supervisor.pid}) keeps running and takes over by itself when that one stops; or give each installation its own token`);
    }
  }
  const waiting = last?.bots.filter((b) => b.state !== 'ready').map((b) => `${b.name} (${b.state})`).join(', ') ?? 'the supervisor (no answer on its socket)';
  throw new CliError(`not ready within ${waitMs} ms: ${waiting}; see ${outFile} and the bots' logs`);
}
