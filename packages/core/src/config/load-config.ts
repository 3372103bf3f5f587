/**
 * Loading a config: read `botvisor.json`, validate it against the schema, then apply the rules
 * that span fields — unique names, placeholders declared, an allow list (or "anyone") on a bot
 * that runs programs, tokens resolved, exactly one poller per
 * token, a token on HTTP before a non-loopback bind — and resolve relative paths from the config
 * file's folder. Every problem is collected and reported at once in one ConfigError.
 *
 * Two depths: `loadConfig` resolves the secrets (bot tokens, the HTTP bearer token), for the
 * processes that talk to Telegram or serve HTTP; `loadControlConfig` checks everything else and
 * never reads a secret, for the commands that only control a running fleet (the PostgreSQL
 * connection string of `cluster` is such a secret, config/cluster.ts). Every secret
 * `loadConfig` resolves is registered with the log redaction of this process before anything can log it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { defaultLocksDir } from '../lock/locks-dir.js';
import { tokenHash } from '../lock/polling-lock.js';
import { registerBotToken, registerSecret } from '../log/redact.js';
import { type PostgresSource, postgresSourceOf, registerPostgresSecret, resolvePostgres } from './cluster.js';
import { ConfigError, type ConfigIssue, formatPath } from './config-error.js';
import { unknownKeyMessage } from './key-suggestions.js';
import { configSchema, DEFAULT_API_ROOT, HTTP_DEFAULTS, type ParsedBot, type ParsedCommand, type ParsedConfig, type ParsedSession, type SupervisorSettings } from './schema.js';
import { resolveToken, type TokenSource, tokenSourceOf } from './tokens.js';

export type BotKind = 'bridge' | 'alerts' | 'custom';

/** A bot as the control commands see it: everything but its token. */
export interface ControlBot {
  name: string;
  /** Its position in the config's `bots`, for messages (`bots[2].commands.help`). */
  index: number;
  kind: BotKind;
  /** Absolute path of a custom bot's module. */
  module?: string;
  /** Where its token is (a token file's path absolute); not read until the token is resolved. */
  tokenSource: TokenSource;
  enabled: boolean;
  /** The config's `polling` choice, if any; `ResolvedBot.polling` is the outcome. */
  pollingChoice?: boolean;
  /** If the polling lock is held by someone else: run send-only (true) or refuse to start (false). */
  auxiliary: boolean;
  /** Who may use the bot; undefined = anyone (`"allow": "anyone"`, or no list on a bot that runs no programs). */
  allow?: number[];
  admins: number[];
  commands: Record<string, ParsedCommand>;
  chats: number[];
  /** bridge: conversations with long-lived CLI processes, by name. */
  sessions: Record<string, ParsedSession>;
  /** alerts: see the schema. */
  healthyAfterSec?: number;
}

export interface ResolvedBot extends ControlBot {
  token: string;
  /** Short hash of the token: safe to log and to name files by. */
  tokenHash: string;
  /** True for the one bot that polls its token; the others are send-only. */
  polling: boolean;
}

/** The config as the control commands (status, stop, restart, logs, doctor) see it: no secret read. */
export interface ControlConfig {
  /** Where it came from: a file path, or a name such as "built-in sandbox config". */
  source: string;
  baseDir: string;
  apiRoot: string;
  dataDir: string;
  logDir: string;
  /** The polling locks' directory: the config's `locksDir`, else the user's machine-wide one. */
  locksDir: string;
  /** `enabled: false` when the config says `"http": false`: the supervisor serves no HTTP. */
  http: { enabled: boolean; host: string; port: number };
  supervisor: SupervisorSettings;
  /** Active/standby through PostgreSQL; undefined on one machine. The connection string is not read here. */
  cluster?: ControlCluster;
  bots: ControlBot[];
  /** Things that work but deserve a word, e.g. a token written into the config file. */
  warnings: string[];
}

/** The `cluster` section without its secret. */
export interface ControlCluster {
  node: string;
  leaseMs: number;
  renewMs: number;
  /** Where the connection string is (a file's path absolute). */
  postgresSource: PostgresSource;
}

/** The `cluster` section with its connection string (a secret: registered with the log redaction). */
export interface ResolvedCluster extends ControlCluster {
  postgres: string;
}

/** The whole config, secrets resolved: what the supervisor and the bots run with. */
export interface ResolvedConfig extends ControlConfig {
  http: { enabled: boolean; host: string; port: number; authToken?: string };
  cluster?: ResolvedCluster;
  bots: ResolvedBot[];
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

function readConfigFile(file: string): { absolute: string; raw: unknown } {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '(file)', message: `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  try {
    return { absolute, raw: JSON.parse(text) };
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '(file)', message: `not valid JSON: ${jsonErrorLocation(text, err as Error)}` }]);
  }
}

/** The whole config with its secrets, for the supervisor and the bots. */
export function loadConfig(file: string, options: { env?: NodeJS.ProcessEnv } = {}): ResolvedConfig {
  const { absolute, raw } = readConfigFile(file);
  return resolveConfig(raw, { source: absolute, baseDir: path.dirname(absolute), env: options.env });
}

/** The config without reading any secret, for commands that only control a running fleet. */
export function loadControlConfig(file: string): ControlConfig {
  const { absolute, raw } = readConfigFile(file);
  return resolveControlConfig(raw, { source: absolute, baseDir: path.dirname(absolute) });
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

/** zod reports a bad record key as "Invalid key in record"; the key schema's own message says what to fix. An unknown key gets the nearest known one. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key' && issue.issues.length > 0) return `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`;
  if (issue.code === 'unrecognized_keys') return unknownKeyMessage(formatPath(issue.path), issue.keys);
  return issue.message;
}

/**
 * A failed union (`"allow": [ids] | "anyone"`) names the alternative the value was going for: a
 * list with a bad entry reports that entry (`allow[0]`), anything else the union's own message.
 */
function configIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'invalid_union') {
    const nearest = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
    if (nearest !== undefined) return nearest.flatMap((i) => configIssues({ ...i, path: [...issue.path, ...i.path] }));
  }
  return [{ path: formatPath(issue.path), message: issueMessage(issue) }];
}

/** Every check that needs no secret; problems are collected, not thrown. `eachBot` sees each bot as it is checked, so its issues stay in the file's order. */
function checkWithoutSecrets(raw: unknown, options: ResolveOptions, eachBot: (bot: ControlBot, issues: ConfigIssue[]) => void = () => undefined): { config: ParsedConfig; control: ControlConfig; issues: ConfigIssue[] } {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(options.source, parsed.error.issues.flatMap(configIssues));
  }
  const config = parsed.data;
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const seenNames = new Map<string, number>();
  const bots: ControlBot[] = [];

  config.bots.forEach((bot, i) => {
    const at = `bots[${i}]`;
    const earlier = seenNames.get(bot.name);
    if (earlier !== undefined) issues.push({ path: `${at}.name`, message: `"${bot.name}" is already the name of bots[${earlier}]; bot names must be unique` });
    seenNames.set(bot.name, i);
    const kind = kindOf(bot, at, issues);

    for (const [name, command] of Object.entries(bot.commands)) {
      const used = placeholdersOf(command.argv);
      for (const p of used) {
        // `{constructor}` would be "declared" by every object and filled with `function Object()…`.
        if (p in Object.prototype) issues.push({ path: `${at}.commands.${name}.argv`, message: `placeholder {${p}} has a reserved name (every JavaScript object has a "${p}"); choose another name` });
        else if (!Object.hasOwn(command.args, p)) issues.push({ path: `${at}.commands.${name}.argv`, message: `placeholder {${p}} has no pattern; add "${p}" to commands.${name}.args` });
      }
      for (const declared of Object.keys(command.args)) if (!used.has(declared)) issues.push({ path: `${at}.commands.${name}.args.${declared}`, message: `argument "${declared}" is not used in argv; use {${declared}} in argv or remove it` });
    }
    // Commands and sessions run programs on this machine: who may run them is said out loud, never a silent default.
    const runsPrograms = Object.keys(bot.commands).length > 0 || Object.keys(bot.sessions).length > 0;
    if (runsPrograms && bot.allow === undefined) {
      issues.push({ path: `${at}.allow`, message: `"${bot.name}" runs CLI commands or sessions but has no allow list, so anyone on Telegram could run them; set "allow": [your Telegram user ids], or "allow": "anyone" to allow that on purpose` });
    }
    checkSessions(bot, kind, at, issues);
    if (kind === 'alerts' && bot.chats.length === 0) issues.push({ path: `${at}.chats`, message: 'an alerts bot needs at least one chat id to send events to' });

    let module: string | undefined;
    if (bot.module !== undefined) {
      module = path.resolve(options.baseDir, bot.module);
      if (!existsSync(module)) issues.push({ path: `${at}.module`, message: `${module} does not exist` });
    }

    const source = tokenSourceOf(bot, at, options.baseDir);
    if ('issue' in source) {
      issues.push(source.issue);
      return;
    }
    if (bot.token !== undefined) warnings.push(`${at}.token: the token is written in the config file; prefer tokenEnv or tokenFile (chmod 600)`);
    const checked: ControlBot = {
      name: bot.name,
      index: i,
      kind,
      ...(module !== undefined ? { module } : {}),
      tokenSource: source.source,
      enabled: bot.enabled,
      ...(bot.polling !== undefined ? { pollingChoice: bot.polling } : {}),
      auxiliary: bot.auxiliary,
      ...(Array.isArray(bot.allow) ? { allow: bot.allow } : {}),
      admins: bot.admins,
      commands: bot.commands,
      chats: bot.chats,
      sessions: bot.sessions,
      ...(bot.healthyAfterSec !== undefined ? { healthyAfterSec: bot.healthyAfterSec } : {}),
    };
    bots.push(checked);
    eachBot(checked, issues);
  });

  const http = config.http === false ? { enabled: false, ...HTTP_DEFAULTS } : { enabled: true, host: config.http.host, port: config.http.port };
  if (config.http !== false && !LOOPBACK.has(config.http.host) && config.http.authTokenEnv === undefined) {
    issues.push({ path: 'http.host', message: `binding ${config.http.host} (not loopback) requires http.authTokenEnv, a bearer token for /metrics and the dashboard` });
  }
  let cluster: ControlCluster | undefined;
  if (config.cluster !== undefined) {
    const source = postgresSourceOf(config.cluster, options.baseDir);
    if ('issue' in source) issues.push(source.issue);
    else {
      cluster = { node: config.cluster.node, leaseMs: config.cluster.leaseMs, renewMs: config.cluster.renewMs, postgresSource: source.source };
      if (config.cluster.postgres !== undefined && /:[^/:@]+@/.test(config.cluster.postgres)) warnings.push('cluster.postgres: a password is written in the config file; prefer postgresEnv or postgresFile (chmod 600)');
    }
  }
  const control: ControlConfig = {
    source: options.source,
    baseDir: options.baseDir,
    apiRoot: (config.apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, ''),
    dataDir: path.resolve(options.baseDir, config.dataDir),
    logDir: path.resolve(options.baseDir, config.logDir),
    locksDir: config.locksDir !== undefined ? path.resolve(options.baseDir, config.locksDir) : defaultLocksDir(),
    http,
    supervisor: config.supervisor,
    ...(cluster !== undefined ? { cluster } : {}),
    bots,
    warnings,
  };
  return { config, control, issues };
}

/** Validates an already-parsed config object without reading a secret: what the control commands need. */
export function resolveControlConfig(raw: unknown, options: Omit<ResolveOptions, 'env'>): ControlConfig {
  const { control, issues } = checkWithoutSecrets(raw, options);
  if (issues.length > 0) throw new ConfigError(options.source, issues);
  return control;
}

/** Validates an already-parsed config object (a file's contents, or the built-in sandbox config) and resolves its secrets. */
export function resolveConfig(raw: unknown, options: ResolveOptions): ResolvedConfig {
  const env = options.env ?? process.env;
  const bots: ResolvedBot[] = [];
  const { config, control, issues } = checkWithoutSecrets(raw, options, (bot, botIssues) => {
    const tokenResult = resolveToken(bot.tokenSource, `bots[${bot.index}]`, options.baseDir, env);
    if ('issue' in tokenResult) botIssues.push(tokenResult.issue);
    else bots.push({ ...bot, token: tokenResult.token, tokenHash: tokenHash(tokenResult.token), polling: false });
  });
  assignPollers(bots, issues);

  let authToken: string | undefined;
  if (config.http !== false && config.http.authTokenEnv !== undefined) {
    authToken = env[config.http.authTokenEnv];
    if (authToken === undefined || authToken.length < 16) issues.push({ path: 'http.authTokenEnv', message: `environment variable ${config.http.authTokenEnv} must hold a bearer token of at least 16 characters` });
  }

  let cluster: ResolvedCluster | undefined;
  if (control.cluster !== undefined) {
    const result = resolvePostgres(control.cluster.postgresSource, options.baseDir, env);
    if ('issue' in result) issues.push(result.issue);
    else cluster = { ...control.cluster, postgres: result.url };
  }

  if (issues.length > 0) throw new ConfigError(options.source, issues);
  for (const bot of bots) registerBotToken(bot.token);
  if (authToken !== undefined) registerSecret(authToken);
  if (cluster !== undefined) registerPostgresSecret(cluster.postgres);
  const { cluster: _withoutSecret, ...rest } = control;
  return { ...rest, http: { ...control.http, ...(authToken !== undefined ? { authToken } : {}) }, ...(cluster !== undefined ? { cluster } : {}), bots };
}

/** Exactly one enabled bot polls each token: the one marked `polling: true`, else the first enabled non-alerts bot not marked `polling: false`. */
export function assignPollers(bots: ResolvedBot[], issues: ConfigIssue[]): void {
  const byToken = new Map<string, ResolvedBot[]>();
  for (const bot of bots) {
    if (!bot.enabled) continue;
    const group = byToken.get(bot.tokenHash);
    if (group === undefined) byToken.set(bot.tokenHash, [bot]);
    else group.push(bot);
  }
  for (const group of byToken.values()) {
    const explicit = group.filter((b) => b.pollingChoice === true);
    if (explicit.length > 1) {
      const names = explicit.map((b) => b.name).join(', ');
      issues.push({ path: `bots[${explicit[1]?.index ?? ''}].polling`, message: `bots ${names} share one token and both set polling: true; only one bot may poll a token (Telegram answers 409 Conflict otherwise)` });
      continue;
    }
    const poller = explicit[0] ?? group.find((b) => b.kind !== 'alerts' && b.pollingChoice !== false);
    if (poller !== undefined) poller.polling = true;
  }
}

/** Cross-field rules of `sessions`: names apart from commands, one default, budgets where usage is reported. */
function checkSessions(bot: ParsedBot, kind: BotKind, at: string, issues: ConfigIssue[]): void {
  const entries = Object.entries(bot.sessions);
  if (entries.length === 0) return;
  if (kind === 'alerts') issues.push({ path: `${at}.sessions`, message: 'an alerts bot has no sessions; put them on a bridge bot' });
  for (const [name, session] of entries) {
    if (name in bot.commands) issues.push({ path: `${at}.sessions.${name}`, message: `"${name}" is also a command; a session and a command cannot share a name` });
    if (session.budget !== undefined && session.protocol !== 'stream-json') issues.push({ path: `${at}.sessions.${name}.budget`, message: 'a budget needs protocol "stream-json": a "lines" session reports no usage' });
    if (session.budget !== undefined && session.budget.dailyCostUsd === undefined && session.budget.dailyTokens === undefined) issues.push({ path: `${at}.sessions.${name}.budget`, message: 'expected dailyCostUsd, dailyTokens or both' });
  }
  const defaults = entries.filter(([, s]) => s.default).map(([n]) => n);
  if (defaults.length > 1) issues.push({ path: `${at}.sessions`, message: `only one session may be the default; ${defaults.join(' and ')} both say "default": true` });
}
