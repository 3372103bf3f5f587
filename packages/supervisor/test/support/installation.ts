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
export const DAEMON = fileURLToPath(new URL('../../src/bin/supervisor.js', import.meta.url));

export const newToken = fakeToken;

export interface Installation {
  dir: string;
  configFile: string;
  dataDir: string;
  logDir: string;
}

export function install(temp: TempDirs, sim: SimHandle, bots: object[], supervisor: object = {}): Installation {
  const dir = temp.make('botvisor-sup-');
  const configFile = path.join(dir, 'botvisor.json');
  writeFileSync(configFile, JSON.stringify({ apiRoot: sim.url, http: { port: 0 }, supervisor, bots }, null, 2));
  return { dir, configFile, dataDir: path.join(dir, 'data'), logDir: path.join(dir, 'logs') };
}

export function fixtureBot(name: string, token: string, extra: object = {}): object {
  return { name, module: FIXTURE_BOT, token, ...extra };
}
