/**
 * Where a bot's token comes from: `token` (in the file), `tokenEnv` (an environment variable) or
 * `tokenFile` (a file only its owner may read). The token's value never appears in an error.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from './config-error.js';

export const TOKEN_SHAPE = /^\d{1,20}:[A-Za-z0-9_-]{30,}$/;

export interface TokenSource {
  token?: string | undefined;
  tokenEnv?: string | undefined;
  tokenFile?: string | undefined;
}

/** Where a bot's token is, checked without reading it: exactly one source, a token file's path made absolute. */
export function tokenSourceOf(source: TokenSource, at: string, baseDir: string): { source: TokenSource } | { issue: ConfigIssue } {
  const given = (['token', 'tokenEnv', 'tokenFile'] as const).filter((k) => source[k] !== undefined);
  if (given.length !== 1) {
    return { issue: { path: at, message: given.length === 0 ? 'expected one of token, tokenEnv or tokenFile' : `expected only one of token, tokenEnv or tokenFile, got ${given.join(' and ')}` } };
  }
  if (source.tokenEnv !== undefined) return { source: { tokenEnv: source.tokenEnv } };
  if (source.tokenFile !== undefined) return { source: { tokenFile: path.resolve(baseDir, source.tokenFile) } };
  return { source: { token: source.token } };
}

/** The token, or an issue that says what to fix. `at` is the bot's path (e.g. `bots[2]`). */
export function resolveToken(source: TokenSource, at: string, baseDir: string, env: NodeJS.ProcessEnv): { token: string } | { issue: ConfigIssue } {
  const checked = tokenSourceOf(source, at, baseDir);
  if ('issue' in checked) return checked;
  const { tokenEnv, tokenFile } = checked.source;
  let token: string;
  let where: string;
  if (tokenEnv !== undefined) {
    const value = env[tokenEnv];
    if (value === undefined || value.trim() === '') return { issue: { path: `${at}.tokenEnv`, message: `environment variable ${tokenEnv} is not set; export it before starting botvisor` } };
    token = value.trim();
    where = `${at}.tokenEnv`;
  } else if (tokenFile !== undefined) {
    const file = tokenFile;
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch {
      return { issue: { path: `${at}.tokenFile`, message: `${file} does not exist; write the token there and run chmod 600 ${file}` } };
    }
    if ((mode & 0o077) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(4, '0');
      return { issue: { path: `${at}.tokenFile`, message: `${file} is readable by group or others (mode ${octal}); run chmod 600 ${file}` } };
    }
    token = readFileSync(file, 'utf8').trim();
    where = `${at}.tokenFile`;
  } else {
    token = (checked.source.token ?? '').trim();
    where = `${at}.token`;
  }
  if (!TOKEN_SHAPE.test(token)) return { issue: { path: where, message: 'does not look like a Telegram bot token (expected <bot id>:<secret>, as @BotFather gives it)' } };
  return { token };
}
