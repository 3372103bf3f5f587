/**
 * The sandbox info file (`<sandbox dir>/sandbox.json`): what a running sandbox tells the other
 * commands — the simulator's URL, the bot's token, the simulated user and chat, the dashboard —
 * so `botvisor chat` needs no flags. Written once everything listens, removed on a clean stop;
 * a stale one (after a crash) is harmless: whoever reads it checks that the sim answers.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes.js';
import type { SandboxUser } from './sandbox-identity.js';

export interface SandboxInfo {
  simUrl: string;
  token: string;
  user: SandboxUser;
  chatId: number;
  /** The bot the user talks to. */
  bot: string;
  /** The supervisor's HTTP address (dashboard, /health); null when HTTP is off. */
  httpUrl: string | null;
  /** The sandbox process. */
  pid: number;
  configFile: string;
}

export function writeSandboxInfo(file: string, info: SandboxInfo): void {
  // Write-then-rename: a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeSandboxInfo(file: string): void {
  rmSync(file, { force: true });
}

function isSandboxInfo(v: unknown): v is SandboxInfo {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const user = o.user as Record<string, unknown> | null | undefined;
  return (
    typeof o.simUrl === 'string' &&
    typeof o.token === 'string' &&
    typeof o.chatId === 'number' &&
    typeof o.bot === 'string' &&
    typeof user === 'object' &&
    user !== null &&
    typeof user.id === 'number' &&
    typeof user.first_name === 'string'
  );
}

/** The info file's contents; undefined when there is none. */
export function readSandboxInfo(file: string): SandboxInfo | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isSandboxInfo(parsed)) throw new CliError(`${file} is not a sandbox info file; delete it and start the sandbox again with: npm start`, EXIT.config);
  return parsed;
}
