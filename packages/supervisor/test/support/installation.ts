/**
 * A supervisor installation for a test: a config folder pointing at the simulator, with bots that
 * run the fixture module, and the supervisor settings the test needs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimHandle } from '@botvisor/bot-api-sim';
import { fakeToken, type TempDirs } from '@botvisor/testkit';

export const FIXTURE_BOT = fileURLToPath(new URL('../fixtures/managed-bot.js', import.meta.url));
export const DAEMON = fileURLToPath(import.meta.resolve('@botvisor/supervisor/daemon')); // the shipped daemon: the bundle

export const newToken = fakeToken;

export interface Installation {
  dir: string;
  configFile: string;
  dataDir: string;
  logDir: string;
  /** The config's locksDir: the test's own, never the machine's real lock folder. */
  locksDir: string;
}

/** `locksDir`: give two installations the same one to make them meet, as they would in the machine-wide folder. `config`: more top-level keys (e.g. `cluster`). */
export function install(temp: TempDirs, sim: SimHandle, bots: object[], supervisor: object = {}, options: { locksDir?: string; config?: object } = {}): Installation {
  const dir = temp.make('botvisor-sup-');
  const configFile = path.join(dir, 'botvisor.json');
  const locksDir = options.locksDir ?? path.join(dir, 'locks');
  writeFileSync(configFile, JSON.stringify({ apiRoot: sim.url, http: { port: 0 }, locksDir, supervisor, ...options.config, bots }, null, 2));
  return { dir, configFile, dataDir: path.join(dir, 'data'), logDir: path.join(dir, 'logs'), locksDir };
}

export function fixtureBot(name: string, token: string, extra: object = {}): object {
  return { name, module: FIXTURE_BOT, token, ...extra };
}
