/**
 * The shape of `botvisor.json`, as a zod schema: field by field, with the defaults and the
 * message a person sees when a field is wrong. Cross-field rules that need resolved tokens or
 * files (who polls which token, token files' permissions) live in load-config.ts.
 */
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)

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
  argv: z
    .array(
      z
        .string()
        .min(1, 'argv entries must not be empty')
        .refine((part) => !part.includes('\0'), 'argv entries must not contain a NUL byte (no program can receive one)'),
    )
    .min(1, 'expected at least the program name, e.g. ["uptime"]'),
  /** Each placeholder's pattern; an argument must match it in full. */
  args: z.record(z.string().regex(ARG_NAME_PATTERN, 'argument names are lowercase letters, digits and _'), argPattern).default({}),
  timeoutSec: z.number().positive().max(7 * 24 * 3600).default(600),
  idleTimeoutSec: z.number().positive().optional(),
  description: z.string().max(256).optional(),
  /** What the arguments are, in words ("a number of seconds, 1–999"): said to a person whose arguments do not fit. */
  takes: z.string().min(1).max(200).optional(),
  /** Example arguments ("30"), shown with `takes` and in /help. */
  example: z.string().min(1).max(200).optional(),
  /** Only admins may run it. */
  admin: z.boolean().default(false),
});

/**
 * A conversation with a long-lived CLI (an agent, a REPL): one process per (chat, session name),
 * fed through stdin, answering in a stream. See runtime/src/sessions/.
 */
export const sessionSchema = z.strictObject({
  /** The program and its arguments. Never run through a shell; no placeholders. */
  argv: z.array(z.string().min(1, 'argv entries must not be empty')).min(1, 'expected at least the program name, e.g. ["python3", "-i", "-q"]'),
  /** `lines`: one line in, the reply is what it prints until quiet for turnIdleMs. `stream-json`: Claude Code's stream-json shapes. */
  protocol: z.enum(['lines', 'stream-json'], { error: 'expected "lines" or "stream-json"' }),
  /** lines: a turn ends after this long without output. */
  turnIdleMs: z.number().int().min(50, 'expected at least 50 ms').max(600_000, 'expected at most 600000 ms').default(1500),
  /** A turn that has not ended after this long stops the session. */
  turnTimeoutSec: z.number().positive().max(24 * 3600).default(1800),
  /** The process ends after this long without a message. */
  idleTimeoutSec: z.number().positive().max(7 * 24 * 3600).default(600),
  /** Processes of this session at once, across all chats. */
  maxSessions: z.number().int().min(1).max(1000).default(4),
  /** Messages waiting per session while a turn runs; more are refused. */
  queueLimit: z.number().int().min(1).max(1000).default(20),
  /** Per user per UTC day (stream-json only: lines report no usage). */
  budget: z
    .strictObject({
      dailyCostUsd: z.number().positive('expected a positive amount of US dollars').optional(),
      dailyTokens: z.number().int().positive('expected a positive number of tokens').optional(),
    })
    .optional(),
  /** Plain messages (not commands) go to the chat's default session. */
  default: z.boolean().default(false),
  description: z.string().max(256).optional(),
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
  /**
   * Allow list of user ids, or "anyone" to open the bot to everyone on Telegram on purpose. A bot
   * with `commands` must say one or the other (load-config.ts); without commands, absent = anyone.
   */
  allow: z.union([z.array(telegramId), z.literal('anyone')], { error: 'expected a list of Telegram user ids, e.g. [1001], or "anyone"' }).optional(),
  admins: z.array(telegramId).default([]),
  commands: z.record(z.string().regex(COMMAND_NAME_PATTERN, 'command names are lowercase letters, digits and _ (as Telegram requires)'), commandSchema).default({}),
  /** bridge bots: conversations with long-lived CLI processes, by name (`/<name> text`). */
  sessions: z.record(z.string().regex(COMMAND_NAME_PATTERN, 'session names are lowercase letters, digits and _ (they are Telegram commands)'), sessionSchema).default({}),
  /** alerts bots: where to send events. */
  chats: z.array(telegramId).default([]),
  /** alerts bots: ready this long after a crash and a bot has recovered ("back up after …"); a later crash is a new alert. */
  healthyAfterSec: z.number().positive().max(3600).optional(),
});

export const HTTP_DEFAULTS = { host: '127.0.0.1', port: 8080 } as const;

export const httpSchema = z.strictObject({
  host: z.string().min(1).default(HTTP_DEFAULTS.host),
  port: z.number().int().min(0).max(65535).default(HTTP_DEFAULTS.port),
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

/**
 * Active/standby on two machines through PostgreSQL (supervisor/src/cluster/): each polled token
 * has a lease there; only the node holding it polls. The connection string comes from exactly one
 * of `postgres`, `postgresEnv`, `postgresFile` (config/cluster.ts).
 */
export const clusterSchema = z
  .strictObject({
    postgres: z.string().min(1).optional(),
    postgresEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    postgresFile: z.string().min(1).optional(),
    /** This machine's name in the cluster: unique per node, shown in status as the lease's holder. */
    node: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a node name of letters, digits, . _ or -, e.g. "host-a"'),
    /** How long a lease lasts without renewal: a dead active node's standby polls at most this long (+ a renewal) after. */
    leaseMs: z.number().int().min(1000, 'expected at least 1000 ms').max(600_000).default(10_000),
    /** How often the holder renews (and a standby tries to take) the lease. */
    renewMs: z.number().int().min(100, 'expected at least 100 ms').default(2000),
  })
  .refine((c) => c.renewMs * 3 <= c.leaseMs, { message: 'renewMs must be at most a third of leaseMs, so a lease survives a failed renewal or two', path: ['renewMs'] });

export type ParsedCluster = z.output<typeof clusterSchema>;

export const configSchema = z.strictObject({
  apiRoot: z.url({ error: 'expected a URL such as "http://127.0.0.1:8081"' }).optional(),
  dataDir: z.string().min(1).default('data'),
  logDir: z.string().min(1).default('logs'),
  /**
   * Where the polling locks live. Default: the user's machine-wide lock directory
   * `/tmp/botvisor-<uid>/locks` (not `$XDG_RUNTIME_DIR`, which a systemd service lacks), shared by
   * every installation of the user so that two of them never poll one token.
   */
  locksDir: z.string().min(1).optional(),
  /** `false`: the supervisor serves no HTTP (no /health, /metrics or dashboard). */
  http: z.union([z.literal(false), httpSchema], { error: 'expected false (no HTTP) or an object such as { "host": "127.0.0.1", "port": 8080 }' }).default({ ...HTTP_DEFAULTS }),
  supervisor: supervisorSchema.default(supervisorSchema.parse({})),
  /** Absent: one machine (the default). */
  cluster: clusterSchema.optional(),
  bots: z.array(botSchema).min(1, 'expected at least one bot'),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedBot = z.output<typeof botSchema>;
export type ParsedCommand = z.output<typeof commandSchema>;
export type ParsedSession = z.output<typeof sessionSchema>;
