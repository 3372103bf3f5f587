/**
 * Loading a config: read `botvisor.json`, validate it against the schema, then apply the rules
 * that span fields — unique names, placeholders declared, tokens resolved, exactly one poller per
 * token, a token on HTTP before a non-loopback bind — and resolve relative paths from the config
 * file's folder. Every problem is collected and reported at once in one ConfigError.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { defaultLocksDir } from '../lock/locks-dir.js';
import { tokenHash } from '../lock/polling-lock.js';
import { ConfigError, type ConfigIssue, formatPath } from './config-error.js';
import { configSchema, DEFAULT_API_ROOT, type ParsedBot, type ParsedCommand, type SupervisorSettings } from './schema.js';
import { resolveToken } from './tokens.js';

export type BotKind = 'bridge' | 'alerts' | 'custom';

export interface ResolvedBot {
  name: string;
  /** Its position in the config's `bots`, for messages (`bots[2].commands.help`). */
  index: number;
  kind: BotKind;
  /** Absolute path of a custom bot's module. */
  module?: string;
  token: string;
  /** Short hash of the token: safe to log and to name files by. */
  tokenHash: string;
  enabled: boolean;
  /** True for the one bot that polls its token; the others are send-only. */
  polling: boolean;
  /** If the polling lock is held by someone else: run send-only (true) or refuse to start (false). */
  auxiliary: boolean;
  allow?: number[];
  admins: number[];
  commands: Record<string, ParsedCommand>;
  chats: number[];
}

export interface ResolvedConfig {
  /** Where it came from: a file path, or a name such as "built-in sandbox config". */
  source: string;
  baseDir: string;
  apiRoot: string;
  dataDir: string;
  logDir: string;
  /** The polling locks' directory: the config's `locksDir`, else the user's machine-wide one. */
  locksDir: string;
  http: { host: string; port: number; authToken?: string };
  supervisor: SupervisorSettings;
  bots: ResolvedBot[];
  /** Things that work but deserve a word, e.g. a token written into the config file. */
  warnings: string[];
}

export interface ResolveOptions {
  /** For messages: the file name or a description. */
  source: string;
  /** Folder that relative paths are resolved from. */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Turns "at position N" in a JSON.parse message into line and column. */
function jsonErrorLocation(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (m === null) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  const line = before.length;
  const column = (before[before.length - 1] ?? '').length + 1;
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${column}`;
}

export function loadConfig(file: string, options: { env?: NodeJS.ProcessEnv } = {}): ResolvedConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '(file)', message: `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '(file)', message: `not valid JSON: ${jsonErrorLocation(text, err as Error)}` }]);
  }
  return resolveConfig(raw, { source: absolute, baseDir: path.dirname(absolute), env: options.env });
}

function placeholdersOf(argv: string[]): Set<string> {
  const names = new Set<string>();
  for (const part of argv) for (const m of part.matchAll(/\{([a-z][a-z0-9_]*)\}/g)) names.add(m[1] as string);
  return names;
}

function kindOf(bot: ParsedBot, at: string, issues: ConfigIssue[]): BotKind {
  if (bot.module !== undefined) {
    if (bot.kind !== undefined && bot.kind !== 'custom') issues.push({ path: `${at}.kind`, message: `a bot with a module is kind "custom", not "${bot.kind}"; remove kind or module` });
    return 'custom';
  }
  if (bot.kind === undefined) {
    issues.push({ path: `${at}.kind`, message: 'expected "bridge" or "alerts", or a "module" for a custom bot' });
    return 'custom';
  }
  if (bot.kind === 'custom') issues.push({ path: `${at}.module`, message: 'a custom bot needs "module": the path of a file exporting defineBot(…)' });
  return bot.kind;
}

/** zod reports a bad record key as "Invalid key in record"; the key schema's own message says what to fix. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key' && issue.issues.length > 0) return `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}

/** Validates an already-parsed config object (a file's contents, or the built-in sandbox config). */
export function resolveConfig(raw: unknown, options: ResolveOptions): ResolvedConfig {
  const env = options.env ?? process.env;
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(options.source, parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: issueMessage(i) })));
  }
  const config = parsed.data;
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const seenNames = new Map<string, number>();
  const bots: ResolvedBot[] = [];

  config.bots.forEach((bot, i) => {
    const at = `bots[${i}]`;
    const earlier = seenNames.get(bot.name);
    if (earlier !== undefined) issues.push({ path: `${at}.name`, message: `"${bot.name}" is already the name of bots[${earlier}]; bot names must be unique` });
    seenNames.set(bot.name, i);
    const kind = kindOf(bot, at, issues);

    for (const [name, command] of Object.entries(bot.commands)) {
      const used = placeholdersOf(command.argv);
      for (const p of used) if (!(p in command.args)) issues.push({ path: `${at}.commands.${name}.argv`, message: `placeholder {${p}} has no pattern; add "${p}" to commands.${name}.args` });
      for (const declared of Object.keys(command.args)) if (!used.has(declared)) issues.push({ path: `${at}.commands.${name}.args.${declared}`, message: `argument "${declared}" is not used in argv; use {${declared}} in argv or remove it` });
    }
    if (kind === 'alerts' && bot.chats.length === 0) issues.push({ path: `${at}.chats`, message: 'an alerts bot needs at least one chat id to send events to' });

    let module: string | undefined;
    if (bot.module !== undefined) {
      module = path.resolve(options.baseDir, bot.module);
      if (!existsSync(module)) issues.push({ path: `${at}.module`, message: `${module} does not exist` });
    }

    const tokenResult = resolveToken(bot, at, options.baseDir, env);
    if ('issue' in tokenResult) {
      issues.push(tokenResult.issue);
      return;
    }
    if (bot.token !== undefined) warnings.push(`${at}.token: the token is written in the config file; prefer tokenEnv or tokenFile (chmod 600)`);
    bots.push({
      name: bot.name,
      index: i,
      kind,
      ...(module !== undefined ? { module } : {}),
      token: tokenResult.token,
      tokenHash: tokenHash(tokenResult.token),
      enabled: bot.enabled,
      polling: false,
      auxiliary: bot.auxiliary,
      ...(bot.allow !== undefined ? { allow: bot.allow } : {}),
      admins: bot.admins,
      commands: bot.commands,
      chats: bot.chats,
    });
  });

  assignPollers(bots, config.bots, issues);

  let authToken: string | undefined;
  if (config.http.authTokenEnv !== undefined) {
    authToken = env[config.http.authTokenEnv];
    if (authToken === undefined || authToken.length < 16) issues.push({ path: 'http.authTokenEnv', message: `environment variable ${config.http.authTokenEnv} must hold a bearer token of at least 16 characters` });
  }
  if (!LOOPBACK.has(config.http.host) && authToken === undefined && config.http.authTokenEnv === undefined) {
    issues.push({ path: 'http.host', message: `binding ${config.http.host} (not loopback) requires http.authTokenEnv, a bearer token for /metrics and the dashboard` });
  }

  if (issues.length > 0) throw new ConfigError(options.source, issues);
  return {
    source: options.source,
    baseDir: options.baseDir,
    apiRoot: (config.apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, ''),
    dataDir: path.resolve(options.baseDir, config.dataDir),
    logDir: path.resolve(options.baseDir, config.logDir),
    locksDir: config.locksDir !== undefined ? path.resolve(options.baseDir, config.locksDir) : defaultLocksDir(env),
    http: { host: config.http.host, port: config.http.port, ...(authToken !== undefined ? { authToken } : {}) },
    supervisor: config.supervisor,
    bots,
    warnings,
  };
}

/** Exactly one enabled bot polls each token: the one marked `polling: true`, else the first enabled non-alerts bot not marked `polling: false`. */
function assignPollers(bots: ResolvedBot[], parsed: ParsedBot[], issues: ConfigIssue[]): void {
  const byToken = new Map<string, ResolvedBot[]>();
  for (const bot of bots) {
    if (!bot.enabled) continue;
    const group = byToken.get(bot.tokenHash);
    if (group === undefined) byToken.set(bot.tokenHash, [bot]);
    else group.push(bot);
  }
  const indexOf = (name: string): number => parsed.findIndex((b) => b.name === name);
  for (const group of byToken.values()) {
    const explicit = group.filter((b) => parsed[indexOf(b.name)]?.polling === true);
    if (explicit.length > 1) {
      const names = explicit.map((b) => b.name).join(', ');
      issues.push({ path: `bots[${indexOf(explicit[1]?.name ?? '')}].polling`, message: `bots ${names} share one token and both set polling: true; only one bot may poll a token (Telegram answers 409 Conflict otherwise)` });
      continue;
    }
    const poller = explicit[0] ?? group.find((b) => b.kind !== 'alerts' && parsed[indexOf(b.name)]?.polling !== false);
    if (poller !== undefined) poller.polling = true;
  }
}
