/**
 * Builds the environment a CLI job sees. Only the variables on an allow list are copied from the
 * bot's own environment (the bot's holds its token, with whatever else the operator exported; a
 * CLI tool from a chat gets none of it), plus explicit values, plus two markers every descendant
 * inherits: the supervisor's tree cookie (so its reaping finds escaped grandchildren after a
 * crash), this job's own marker (so stopping one job never touches another job's processes).
 */
import { randomBytes } from 'node:crypto';
import { JOB_MARKER_VAR, TREE_COOKIE_VAR, withTreeCookie } from '@botvisor/core';

export { JOB_MARKER_VAR };

/** What a typical CLI tool needs to find programs, its home, the locale and the time zone. */
export const DEFAULT_ENV_ALLOW: readonly string[] = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'TERM'];

export interface JobEnvOptions {
  /** Names copied from `base` when set there. Default `DEFAULT_ENV_ALLOW`. */
  allow?: readonly string[];
  /** Values set for the job, after the allow list (they win). */
  set?: Readonly<Record<string, string>>;
  /** The tree cookie: the supervisor's for this bot, or one made for this bot process. */
  treeCookie: string;
  marker: string;
}

/** A fresh job marker: unique per run, so a retry of the same job is a different tree. */
export function newJobMarker(jobId: string): string {
  return `${jobId}.${process.pid}.${randomBytes(6).toString('base64url')}`;
}

export function jobEnv(base: NodeJS.ProcessEnv, options: JobEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of options.allow ?? DEFAULT_ENV_ALLOW) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.set);
  // The markers come last: a job must not be able to opt out of being found.
  env[JOB_MARKER_VAR] = options.marker;
  return withTreeCookie(env, options.treeCookie);
}

let processCookie: string | undefined;

/** The supervisor's cookie from our env, or (a bot started by hand) one stable cookie for this process. */
export function treeCookieFor(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[TREE_COOKIE_VAR];
  if (given !== undefined && given !== '') return given;
  processCookie ??= `bot-${process.pid}-${randomBytes(6).toString('base64url')}`;
  return processCookie;
}
