#!/usr/bin/env node
import { pathToFileURL } from 'node:url';
/**
 * `botvisor-bot --config botvisor.json --bot <name> [--module <path>]`: runs one bot process.
 * The supervisor forks this with SKIP_TELEGRAM_LOCK=1; a person may run it by hand, and then the
 * bot takes its token's polling lock itself. The config (and so the token) is read here, from
 * the file, never passed on the command line.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@botvisor/core';
import { isBotDefinition } from '../define-bot.js';
import { EXIT_CONFIG } from '../lifecycle/exit-codes.js';
import { runBot } from '../lifecycle/run-bot.js';

function fail(message: string): never {
  process.stderr.write(`botvisor-bot: ${message}\n`);
  process.exit(EXIT_CONFIG);
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
  fail(err instanceof ConfigError ? err.message : `cannot load ${configFile}: ${(err as Error).message}`);
}
const bot = config.bots.find((b) => b.name === botName);
if (bot === undefined) fail(`${config.source} has no bot named "${botName}" (it has: ${config.bots.map((b) => b.name).join(', ')})`);
const modulePath = values.module ?? bot.module;
if (modulePath === undefined) fail(`bot "${botName}" is of kind "${bot.kind}": pass --module with the path of its implementation`);

const loaded = (await import(pathToFileURL(modulePath).href)) as { default?: unknown; bot?: unknown };
const definition = loaded.default ?? loaded.bot;
if (!isBotDefinition(definition)) fail(`${modulePath} must export defineBot(…) as its default export`);

await runBot({ definition, config, bot });
