#!/usr/bin/env node
/**
 * `botvisor-bot --config botvisor.json --bot <name> [--module <path>]`: runs one bot process.
 * The supervisor forks this with SKIP_TELEGRAM_LOCK=1; a person may run it by hand, and then the
 * bot takes its token's polling lock itself. The config (and so the token) is read here, from
 * the file, never passed on the command line. Whatever keeps it from starting is said in one
 * line on stderr (`botvisor-bot: <why>`, naming the config or the module) before it exits.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, REASON_LINE_PREFIX, redact } from '@botvisor/core';
import { EXIT_CONFIG } from '../lifecycle/exit-codes.js';
import { loadBotModule, ModuleLoadError } from '../lifecycle/module-load.js';
import { runBot } from '../lifecycle/run-bot.js';

function fail(message: string, code = EXIT_CONFIG): never {
  process.stderr.write(redact(`${REASON_LINE_PREFIX}${message.replace(/\s*\n\s*/g, ' ')}\n`));
  process.exit(code);
}

const { values } = parseArgs({
  options: { config: { type: 'string', short: 'c' }, bot: { type: 'string', short: 'b' }, module: { type: 'string', short: 'm' } },
  allowPositionals: false,
});
const configFile = values.config ?? process.env.BOTVISOR_CONFIG;
const botName = values.bot ?? process.env.BOTVISOR_BOT;
if (configFile === undefined || botName === undefined) fail('usage: botvisor-bot --config <botvisor.json> --bot <name> [--module <path>]');

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(configFile);
} catch (err) {
  fail(`the config cannot be used: ${err instanceof ConfigError ? err.message : `cannot load ${configFile}: ${(err as Error).message}`}`);
}
const bot = config.bots.find((b) => b.name === botName);
if (bot === undefined) fail(`the config ${config.source} has no bot named "${botName}" (it has: ${config.bots.map((b) => b.name).join(', ')})`);
const modulePath = values.module ?? bot.module;
if (modulePath === undefined) fail(`the config gives no module for bot "${botName}", of kind "${bot.kind}": pass --module with the path of its implementation`);

let definition: Awaited<ReturnType<typeof loadBotModule>>;
try {
  definition = await loadBotModule(modulePath);
} catch (err) {
  if (err instanceof ModuleLoadError) fail(err.message, err.exitCode);
  throw err;
}

await runBot({ definition, config, bot });
