/**
 * The supervisor ↔ bot IPC protocol: every message that crosses `process.send`, as one typed
 * union with a schema. Anything that does not match is dropped with a WARNING by `parseIpcMessage`
 * — a malformed message can never crash its receiver.
 *
 * Direction:  supervisor → bot: hello, ping, shutdown, event (sent to bots that subscribed), status-reply, operator-stop, take-over,
 *                               hand-over, settled, stores-released (the last two relayed from the old process of a hand-over)
 *             bot → supervisor: ready, pong, child-spawned, child-exited, subscribe-events, event, status-request, problem, standby,
 *                               inbox-released, settled, stores-released, reload-request
 *
 * A bot asks to be restarted by exiting with EXIT_RESTART (see process/contract.ts), not by a message.
 */
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)

export const IPC_PROTOCOL_VERSION = 1;

const processRef = z.object({ pid: z.number().int().positive(), startTime: z.number() });
const lockOwner = z.object({ pid: z.number().int(), startTime: z.number(), role: z.string(), hostname: z.string(), since: z.string() });

/** First message to a bot: who it is and the polling-lock facts (repeating SKIP_TELEGRAM_LOCK from the env). */
const hello = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  bot: z.string(),
  /** The supervisor holds this token's polling lock for the bot: poll without touching the lock. */
  skipTelegramLock: z.boolean(),
  /** Whether this bot is the one that polls its token; false = send-only. */
  polling: z.boolean(),
  lock: z.object({ path: z.string(), owner: lockOwner }).optional(),
  /**
   * Cluster mode: the token's shared inbox, state and job records in PostgreSQL, the lease epoch
   * this run writes them under (every write is fenced by it), and this node's name (job records
   * say which host their processes run on). Fixed for the run's life: the supervisor ends the run
   * when its lease's epoch changes. Carries a password: never logged, never in argv.
   */
  cluster: z.object({ postgres: z.string(), tokenHash: z.string(), epoch: z.number().int().positive(), node: z.string().min(1) }).optional(),
});

/**
 * A reload's replacement process (forked with STANDBY_VAR=1) has loaded its module and config and
 * waits, having opened none of the bot's files: the old process may now be stopped.
 */
const standby = z.object({ type: z.literal('standby') });

/**
 * To a process in standby: the old process has closed the inbox (or exited); start up for real.
 * `held`: update ids the old process is still handling — kept in the inbox, not dispatched, until
 * a relayed `settled` (it finished them) or `stores-released` (it let go of them: redelivered).
 */
const takeOver = z.object({ type: z.literal('take-over'), held: z.array(z.number().int()).optional() });

/** To the old process of a hand-over: stop fetching at a batch boundary, close the inbox, say inbox-released, then stop as at shutdown. */
const handOver = z.object({ type: z.literal('hand-over'), graceMs: z.number().int().nonnegative().optional(), reason: z.string().optional() });

/** The old process has closed its inbox (last batch and offset on disk); `running`: the update ids still in its handlers. */
const inboxReleased = z.object({ type: z.literal('inbox-released'), running: z.array(z.number().int()) });

/** A handler of the old process settled a held update (old → supervisor → new process, which settles it in its inbox). */
const settled = z.object({ type: z.literal('settled'), updateId: z.number().int() });

/**
 * The old process has closed state.json and jobs.json (sent by it, or by the supervisor when it
 * exited): the new process may open them; what it still holds was let go of and is redelivered.
 */
const storesReleased = z.object({ type: z.literal('stores-released') });

/** The bot asks to be replaced by a fresh process through a hand-over (the bridge's /restart); without a supervisor it exits EXIT_RESTART. */
const reloadRequest = z.object({ type: z.literal('reload-request'), reason: z.string().max(500) });

const ready = z.object({ type: z.literal('ready'), username: z.string().optional() });

const ping = z.object({ type: z.literal('ping'), seq: z.number().int() });

/** Cumulative counters of one bot process (they start at 0 when the process starts). */
const botCounters = z.object({
  updates: z.number().int().nonnegative(),
  handlerErrors: z.number().int().nonnegative(),
  /** Handler durations: sum and count in seconds, and cumulative counts per HANDLER_SECONDS_BUCKETS bound. */
  handlerSeconds: z.object({ sum: z.number().nonnegative(), count: z.number().int().nonnegative(), buckets: z.array(z.number().int().nonnegative()) }),
  /** Bot API error answers by HTTP-like code ("409", "429", "400", …). */
  telegramErrors: z.record(z.string(), z.number().int().nonnegative()),
  jobsQueued: z.number().int().nonnegative(),
});

/** Upper bounds (seconds) of the handler duration histogram, shared by bots and the supervisor's /metrics. */
export const HANDLER_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const pong = z.object({
  type: z.literal('pong'),
  seq: z.number().int(),
  /** p99 event-loop delay since the last pong, from perf_hooks.monitorEventLoopDelay. */
  eventLoopDelayMs: z.number().nonnegative(),
  queueDepth: z.number().int().nonnegative(),
  runningJobs: z.number().int().nonnegative(),
  counters: botCounters.optional(),
});

const childSpawned = z.object({
  type: z.literal('child-spawned'),
  child: processRef.extend({ command: z.string() }),
  jobId: z.string().optional(),
});

const childExited = z.object({
  type: z.literal('child-exited'),
  child: processRef,
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  jobId: z.string().optional(),
});

/** The bot wants the supervisor's events (it called `runtime.onSupervisorEvent`); sent once per process. */
const subscribeEvents = z.object({ type: z.literal('subscribe-events') });

const shutdown = z.object({ type: z.literal('shutdown'), graceMs: z.number().int().nonnegative().optional(), reason: z.string().optional() });

/** Something worth telling: a 409 storm seen by a bot, or a supervisor event relayed to alerts bots. */
const event = z.object({
  type: z.literal('event'),
  event: z.object({
    kind: z.string().min(1),
    bot: z.string().optional(),
    at: z.string(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
});

/**
 * The bot's own verdict on whether it can do its job: one sentence a person can act on ("another
 * process outside this supervisor is polling this token: 37 conflicts in the last 60 s"), or null
 * once the cause has ended. It lasts as long as the process that sent it.
 */
const problem = z.object({ type: z.literal('problem'), text: z.string().min(1).max(1000).nullable() });

/**
 * The operator is stopping one of the bot's CLI children (the dashboard's Stop): sent just before
 * the supervisor ends that process tree, so a job that ends this way reads "stopped by the
 * operator", not "killed by SIGTERM".
 */
const operatorStop = z.object({ type: z.literal('operator-stop'), pid: z.number().int().positive() });

/** A bot asks for the fleet's state (the bridge's /status). */
const statusRequest = z.object({ type: z.literal('status-request'), id: z.number().int() });

/** The supervisor's answer: one line per bot. */
const statusReply = z.object({
  type: z.literal('status-reply'),
  id: z.number().int(),
  supervisor: z.object({ pid: z.number().int(), uptimeMs: z.number() }),
  bots: z.array(z.object({ name: z.string(), state: z.string(), pid: z.number().int().nullable(), restarts: z.number().int(), uptimeMs: z.number().nullable(), polling: z.boolean() })),
});

export const ipcMessageSchema = z.discriminatedUnion('type', [
  statusRequest,
  statusReply,
  hello,
  standby,
  takeOver,
  handOver,
  inboxReleased,
  settled,
  storesReleased,
  reloadRequest,
  ready,
  ping,
  pong,
  childSpawned,
  childExited,
  subscribeEvents,
  problem,
  shutdown,
  event,
  operatorStop,
]);

export type IpcMessage = z.infer<typeof ipcMessageSchema>;
export type IpcMessageType = IpcMessage['type'];
export type IpcMessageOf<T extends IpcMessageType> = Extract<IpcMessage, { type: T }>;
export type HelloMessage = IpcMessageOf<'hello'>;
export type PongMessage = IpcMessageOf<'pong'>;
export type IpcEvent = IpcMessageOf<'event'>['event'];
export type BotCounters = z.infer<typeof botCounters>;
export type FleetSummary = Omit<IpcMessageOf<'status-reply'>, 'type' | 'id'>;
