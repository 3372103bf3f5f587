/**
 * Whom `botvisor chat` talks to and as whom: the simulator's URL, the bot's token and the
 * simulated user, from --sim/--token/--user or else from the running sandbox's info file (with
 * --sim and no sandbox, the user is the simulator's default user, as its control API's). Also
 * checks that a simulator answers there, so a stopped sandbox is one clear sentence, not a stack.
 */
import { DEFAULT_USER, isTokenShaped, SimClient } from '@botvisor/bot-api-sim';
import { CliError, EXIT } from '../../exit-codes.js';
import type { SandboxUser } from '../sandbox-identity.js';
import { readSandboxInfo } from '../sandbox-info.js';
import { sandboxDir, sandboxPaths } from '../sandbox-settings.js';

export interface ChatFlags {
  sim?: string;
  token?: string;
  user?: number;
}

export interface ChatTarget {
  simUrl: string;
  token: string;
  user: SandboxUser;
  /** The user's private chat: its id is the user's id. */
  chatId: number;
}

const HEALTH_TIMEOUT_MS = 5000;

export function resolveChatTarget(flags: ChatFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ChatTarget {
  const { dir, infoFile } = sandboxPaths(sandboxDir(env, cwd));
  const info = readSandboxInfo(infoFile);
  const simUrl = flags.sim ?? info?.simUrl;
  const token = flags.token ?? info?.token;
  // Another simulator (--sim) without --user: its default user, the one its control API writes as.
  const userId = flags.user ?? info?.user.id ?? (flags.sim !== undefined ? DEFAULT_USER.id : undefined);
  if (simUrl === undefined || token === undefined || userId === undefined) {
    if (flags.sim === undefined && flags.token === undefined && flags.user === undefined) {
      throw new CliError(`no sandbox is running in ${dir}: start it with npm start in this folder (or pass --sim URL --token TOKEN for another simulator)`, EXIT.notRunning);
    }
    const missing = [simUrl === undefined ? '--sim' : '', token === undefined ? '--token' : '', userId === undefined ? '--user' : ''].filter((s) => s !== '');
    throw new CliError(`no sandbox is running in ${dir} to fill in ${missing.join(' and ')}: pass it too, or start the sandbox with npm start`, EXIT.usage);
  }
  if (!/^https?:\/\/[^/\s]+/.test(simUrl)) throw new CliError(`--sim must be the simulator's URL, such as http://127.0.0.1:8081, got "${simUrl}"`, EXIT.usage);
  if (!Number.isSafeInteger(userId) || userId < 1) throw new CliError(`--user must be a positive Telegram user id, got ${userId}`, EXIT.usage);
  if (!isTokenShaped(token)) throw new CliError('--token does not look like a bot token (expected <bot id>:<secret>)', EXIT.usage);
  const first_name = info !== undefined && info.user.id === userId ? info.user.first_name : userId === DEFAULT_USER.id ? DEFAULT_USER.first_name : `User ${userId}`;
  return { simUrl: simUrl.replace(/\/+$/, ''), token, user: { id: userId, first_name }, chatId: userId };
}

/** Resolves when a bot-api-sim answers at `simUrl`; one sentence otherwise. */
export async function ensureSimAnswers(simUrl: string): Promise<void> {
  const client = new SimClient(simUrl, { fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }) });
  let name: string;
  try {
    name = (await client.health()).name;
  } catch {
    throw new CliError(`nothing answers at ${simUrl}: the sandbox is not running (start it with npm start), or --sim is wrong`, EXIT.notRunning);
  }
  if (name !== 'bot-api-sim') throw new CliError(`${simUrl} is not a bot-api-sim; point --sim at the sandbox's simulator`, EXIT.usage);
}
