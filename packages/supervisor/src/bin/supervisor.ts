#!/usr/bin/env node
/**
 * `botvisor-supervisor --config botvisor.json`: the daemon in the foreground, for tools that run
 * it without the CLI (the chaos soak, the benchmarks). SIGTERM or SIGINT stops every bot, releases
 * the locks, exits 0. The `botvisor` CLI (stop, status, restart) drives it through its control
 * socket; `botvisor start`, which systemd and launchd run, hosts the same Supervisor itself. An
 * error nothing caught stops the bots and exits 1 (last-resort.ts).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@botvisor/core';
import { AlreadyRunningError } from '../instance-lock.js';
import { installLastResort } from '../last-resort.js';
import { reloadOnSighup } from '../reload/sighup.js';
import { StartupError } from '../startup-error.js';
import { Supervisor } from '../supervisor.js';
import { installedBuiltinModules } from './installed-bots.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const configFile = values.config ?? process.env.BOTVISOR_CONFIG;
if (configFile === undefined) {
  process.stderr.write('botvisor-supervisor: usage: botvisor-supervisor --config <botvisor.json>\n');
  process.exit(2);
}

let supervisor: Supervisor | undefined;
let hardStopMs = 30_000;
installLastResort({ logger: () => supervisor?.logger, stop: () => supervisor?.stop(), hardStopMs: () => hardStopMs });
try {
  const config = loadConfig(configFile);
  hardStopMs = config.supervisor.stopGraceMs + 15_000;
  for (const w of config.warnings) process.stderr.write(`botvisor: warning: ${w}\n`);
  supervisor = await Supervisor.start({ config, configFile: config.source, builtinModules: installedBuiltinModules(), onStopRequested: () => shutdown('a stop request on the control socket') });
} catch (err) {
  const known = err instanceof ConfigError || err instanceof AlreadyRunningError || err instanceof StartupError;
  process.stderr.write(`botvisor: ${known ? (err as Error).message : (err as Error).stack}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
}

let exiting = false;
function shutdown(signal: string): void {
  if (exiting || supervisor === undefined) return;
  exiting = true;
  const hardStop = setTimeout(() => {
    process.stderr.write(`botvisor: could not stop cleanly within the time limit after ${signal}\n`);
    process.exit(1);
  }, hardStopMs);
  void supervisor.stop().then(() => {
    clearTimeout(hardStop);
    process.exit(0);
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (supervisor !== undefined) {
  const sup = supervisor;
  reloadOnSighup(() => sup.reload('all'), sup.logger);
}
