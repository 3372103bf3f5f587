/**
 * The `cluster` section's secret: where the PostgreSQL connection string comes from —
 * `postgres` (in the file), `postgresEnv` (an environment variable) or `postgresFile` (a file only
 * its owner may read) — checked without reading it, and resolved. The connection string carries a
 * password, so like a bot token its value never appears in an error, and the caller registers it
 * with the log redaction (registerPostgresSecret) before anything can log it.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { registerSecret } from '../log/redact.js';
import type { ConfigIssue } from './config-error.js';

export interface PostgresSource {
  postgres?: string | undefined;
  postgresEnv?: string | undefined;
  postgresFile?: string | undefined;
}

/** Exactly one source; a file's path made absolute. */
export function postgresSourceOf(source: PostgresSource, baseDir: string): { source: PostgresSource } | { issue: ConfigIssue } {
  const given = (['postgres', 'postgresEnv', 'postgresFile'] as const).filter((k) => source[k] !== undefined);
  if (given.length !== 1) {
    return { issue: { path: 'cluster', message: given.length === 0 ? 'expected one of postgres, postgresEnv or postgresFile (the PostgreSQL connection string)' : `expected only one of postgres, postgresEnv or postgresFile, got ${given.join(' and ')}` } };
  }
  if (source.postgresEnv !== undefined) return { source: { postgresEnv: source.postgresEnv } };
  if (source.postgresFile !== undefined) return { source: { postgresFile: path.resolve(baseDir, source.postgresFile) } };
  return { source: { postgres: source.postgres } };
}

/** The connection string, or an issue that says what to fix (never its value). */
export function resolvePostgres(source: PostgresSource, baseDir: string, env: NodeJS.ProcessEnv): { url: string } | { issue: ConfigIssue } {
  const checked = postgresSourceOf(source, baseDir);
  if ('issue' in checked) return checked;
  const { postgresEnv, postgresFile } = checked.source;
  let url: string;
  let where: string;
  if (postgresEnv !== undefined) {
    const value = env[postgresEnv];
    if (value === undefined || value.trim() === '') return { issue: { path: 'cluster.postgresEnv', message: `environment variable ${postgresEnv} is not set; export it before starting botvisor` } };
    url = value.trim();
    where = 'cluster.postgresEnv';
  } else if (postgresFile !== undefined) {
    let mode: number;
    try {
      mode = statSync(postgresFile).mode;
    } catch {
      return { issue: { path: 'cluster.postgresFile', message: `${postgresFile} does not exist; write the connection string there and run chmod 600 ${postgresFile}` } };
    }
    if ((mode & 0o077) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(4, '0');
      return { issue: { path: 'cluster.postgresFile', message: `${postgresFile} is readable by group or others (mode ${octal}); run chmod 600 ${postgresFile}` } };
    }
    url = readFileSync(postgresFile, 'utf8').trim();
    where = 'cluster.postgresFile';
  } else {
    url = (checked.source.postgres ?? '').trim();
    where = 'cluster.postgres';
  }
  if (!/^postgres(ql)?:\/\//.test(url)) return { issue: { path: where, message: 'expected a connection string such as postgres://botvisor@db.example:5432/botvisor' } };
  return { url };
}

/** Registers the connection string and its password with this process's log redaction. */
export function registerPostgresSecret(url: string): void {
  if (url.length >= 8) registerSecret(url);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // An unparsable string is refused by pg later; the whole string is registered already.
  }
  // registerSecret refuses short strings (they would mangle every line); a short password is the user's weak spot, not a log's.
  if (password.length >= 8) registerSecret(password);
}
