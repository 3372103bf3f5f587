/**
 * `botvisor start [-c FILE] [--detach]`. Foreground by default — the supervisor runs in this
 * process, as systemd and launchd want, and SIGTERM/SIGINT stop it cleanly. `--detach` starts the
 * same foreground command in the background and returns once every bot is ready, or prints which
 * bot failed and why and exits non-zero.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlreadyRunningError, controlRequest, controlSocketPath, installLastResort, StartupError, type StatusReport, Supervisor } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';
import { installedBuiltinModules } from '../installed-bots.js';
import { renderStatus } from './status.js';

const CLI_BIN = fileURLToPath(new URL('../bin/botvisor.js', import.meta.url));

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
    if (err instanceof AlreadyRunningError || err instanceof StartupError) throw new CliError(err.message);
    throw err;
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  out(`botvisor supervisor pid ${process.pid} started with ${found.file}${supervisor.http !== undefined ? `; health at ${supervisor.http.url}/health` : ''}`);
  try {
    await supervisor.waitReady(120_000);
    out(`all bots ready: ${[...supervisor.bots.keys()].join(', ')}`);
  } catch (err) {
    out(`warning: ${(err as Error).message}`);
  }
  return new Promise<number>(() => undefined); // runs until a signal or `botvisor stop`
}

function lastErrorLine(logDir: string, bot: string): string | undefined {
  const file = path.join(logDir, `${bot}.log`);
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error') return rec.msg;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

export async function startDetached(found: FoundConfig, waitMs: number, out: (s: string) => void): Promise<number> {
  mkdirSync(found.config.logDir, { recursive: true, mode: 0o700 }); // private, like every log (core's private-paths)
  const outFile = path.join(found.config.logDir, 'supervisor.out');
  const fd = openSync(outFile, 'a', 0o600);
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
      const tail = existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      throw new CliError(`the supervisor exited with code ${exitCode} during start-up:\n${tail}`);
    }
    try {
      last = await controlRequest<StatusReport>(socket, { cmd: 'status' }, 5000);
    } catch {
      continue; // not listening yet
    }
    const errored = last.bots.find((b) => b.state === 'errored');
    if (errored !== undefined) {
      const why = lastErrorLine(found.config.logDir, errored.name) ?? (errored.lastExit === null ? 'no exit recorded' : `last exit ${errored.lastExit.signal ?? `code ${errored.lastExit.code}`}`);
      throw new CliError(`bot ${errored.name} failed to start: ${why}. The supervisor (pid ${last.supervisor.pid}) keeps running; fix it, then: botvisor restart ${errored.name}`);
    }
    if (last.bots.every((b) => b.state === 'ready' || !found.config.bots.find((c) => c.name === b.name)?.enabled)) {
      out(renderStatus(last));
      return EXIT.ok;
    }
  }
  const waiting = last?.bots.filter((b) => b.state !== 'ready').map((b) => `${b.name} (${b.state})`).join(', ') ?? 'the supervisor (no answer on its socket)';
  throw new CliError(`not ready within ${waitMs} ms: ${waiting}; see ${outFile} and the bots' logs`);
}
