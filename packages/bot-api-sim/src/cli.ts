#!/usr/bin/env node
/**
 * The standalone command: `bot-api-sim [--port 8081] [--host 127.0.0.1] [--flood off|telegram|strict]
 * [--log-dir DIR] [--log-level info]`. Runs the simulator until SIGINT/SIGTERM, logging through
 * botvisor's logger (tokens redacted). Its first log line carries the URL it listens on.
 */
import { parseArgs } from 'node:util';
import { createLogger, type LogLevel } from '@botvisor/core';
import { isFloodMode } from './flood-control.js';
import { startSim } from './start-sim.js';

const USAGE = `usage: bot-api-sim [--port 8081] [--host 127.0.0.1] [--flood off|telegram|strict] [--log-dir DIR] [--log-level error|warning|info|debug]

A local Telegram Bot API: point a bot's API root at http://HOST:PORT. Control API under /sim/ (see the package README).`;

const LOG_LEVELS: readonly string[] = ['error', 'warning', 'info', 'debug'];

function fail(message: string): never {
  process.stderr.write(`bot-api-sim: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, got ${values.port}`);
  const flood = values.flood;
  if (!isFloodMode(flood)) fail(`--flood must be off, telegram or strict, got ${flood}`);
  const level = values['log-level'];
  if (!LOG_LEVELS.includes(level)) fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);

  const logger = createLogger({ proc: 'bot-api-sim', level: level as LogLevel, console: 'always', ...(values['log-dir'] === undefined ? {} : { logDir: values['log-dir'] }) });
  const host = values.host;
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) logger.warning('bot-api-sim: listening beyond this machine; anyone who can reach it can drive the bots', { host });
  const sim = await startSim({ host, port, flood, logger });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('bot-api-sim: stopping', { signal });
    await sim.close();
    await logger.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function parse() {
  return parseArgs({
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      flood: { type: 'string', default: 'off' },
      'log-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bot-api-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
