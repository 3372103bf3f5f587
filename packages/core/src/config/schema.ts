/**
 * The shape of `botvisor.json`, as a zod schema: field by field, with the defaults and the
 * message a person sees when a field is wrong. Cross-field rules that need resolved tokens or
 * files (who polls which token, token files' permissions) live in load-config.ts.
 */
import { z } from 'zod';

export const BOT_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const COMMAND_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const ARG_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const DEFAULT_API_ROOT = 'https://api.telegram.org';

const telegramId = z.number({ error: 'expected a numeric Telegram user or chat id' }).int('expected a whole number');

const argPattern = z.string().min(1, 'expected a regular expression, e.g. "^[0-9]{1,4}$"').superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

export const commandSchema = z.strictObject({
  /** The program and its arguments; `{name}` placeholders are filled from the user's arguments. Never run through a shell. */
  argv: z.array(z.string().min(1, 'argv entries must not be empty')).min(1, 'expected at least the program name, e.g. ["uptime"]'),
  /** Each placeholder's pattern; an argument must match it in full. */
  args: z.record(z.string().regex(ARG_NAME_PATTERN, 'argument names are lowercase letters, digits and _'), argPattern).default({}),
  timeoutSec: z.number().positive().max(7 * 24 * 3600).default(600),
  idleTimeoutSec: z.number().positive().optional(),
  description: z.string().max(256).optional(),
  /** Only admins may run it. */
  admin: z.boolean().default(false),
});

export const botSchema = z.strictObject({
  name: z.string().regex(BOT_NAME_PATTERN, 'expected a name of lowercase letters, digits, - or _, starting with a letter, at most 32 characters'),
  kind: z.enum(['bridge', 'alerts', 'custom']).optional(),
  /** A custom bot: a module exporting `defineBot(…)`, relative to the config file. */
  module: z.string().min(1).optional(),
  token: z.string().optional(),
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
  tokenFile: z.string().min(1).optional(),
  enabled: z.boolean().default(true),
  /** Whether this bot polls its token. Default: the first enabled non-alerts bot of each token polls, the others are send-only. */
  polling: z.boolean().optional(),
  /**
   * Started without a supervisor, an auxiliary bot that finds its token's polling lock held runs
   * send-only (one WARNING) instead of exiting as a main bot does.
   */
  auxiliary: z.boolean().default(false),
  /** Allow list of user ids; absent = everyone. */
  allow: z.array(telegramId).optional(),
  admins: z.array(telegramId).default([]),
  commands: z.record(z.string().regex(COMMAND_NAME_PATTERN, 'command names are lowercase letters, digits and _ (as Telegram requires)'), commandSchema).default({}),
  /** alerts bots: where to send events. */
  chats: z.array(telegramId).default([]),
});

export const httpSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Bearer token for HTTP; required when `host` is not a loopback address. */
  authTokenEnv: z.string().optional(),
});

/** The supervisor's timing and restart policy; the defaults are what production wants. */
export const supervisorSchema = z.strictObject({
  /** Watchdog: a ping this often… */
  pingIntervalMs: z.number().int().min(100).default(5000),
  /** …and a bot that has not answered for this long is hung: tree-killed and restarted. */
  hungAfterMs: z.number().int().min(500).default(20_000),
  /** A bot that is not ready this long after its fork is killed and restarted (cause start-timeout). */
  startTimeoutMs: z.number().int().min(1000).default(30_000),
  /** Time a bot gets to stop after IPC shutdown + SIGTERM before its tree is killed. */
  stopGraceMs: z.number().int().min(0).default(10_000),
  /** First restart delay after a crash; doubles per crash up to backoffMaxMs, with jitter. */
  backoffInitialMs: z.number().int().min(0).default(250),
  backoffMaxMs: z.number().int().min(0).default(30_000),
  /** Ready this long, and the backoff starts from the beginning again. */
  backoffResetAfterMs: z.number().int().min(0).default(60_000),
  /** More than crashBudget crashes within crashWindowMs → errored (no more restarts until `botvisor restart`). */
  crashBudget: z.number().int().min(1).default(10),
  crashWindowMs: z.number().int().min(1000).default(300_000),
  /** How often each bot's process tree is rescanned for children started outside the job runner. */
  scanIntervalMs: z.number().int().min(100).default(5000),
  /**
   * An errored bot is tried again this often (sooner when the supervisor can tell the cause is
   * gone): a full disk or a lost lock should not leave a bot dead until someone notices.
   */
  erroredRetryMs: z.number().int().min(1000).default(300_000),
});

export type SupervisorSettings = z.output<typeof supervisorSchema>;

export const configSchema = z.strictObject({
  apiRoot: z.url({ error: 'expected a URL such as "http://127.0.0.1:8081"' }).optional(),
  dataDir: z.string().min(1).default('data'),
  logDir: z.string().min(1).default('logs'),
  /**
   * Where the polling locks live. Default: the user's machine-wide lock directory
   * (`$XDG_RUNTIME_DIR/botvisor/locks`, else `/tmp/botvisor-<uid>/locks`), shared by every
   * installation of the user so that two of them never poll one token.
   */
  locksDir: z.string().min(1).optional(),
  http: httpSchema.default({ host: '127.0.0.1', port: 8080 }),
  supervisor: supervisorSchema.default(supervisorSchema.parse({})),
  bots: z.array(botSchema).min(1, 'expected at least one bot'),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedBot = z.output<typeof botSchema>;
export type ParsedCommand = z.output<typeof commandSchema>;
