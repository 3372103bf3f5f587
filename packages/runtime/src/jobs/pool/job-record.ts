/**
 * The schema of what the bot remembers about its jobs (`data/bots/<name>/jobs.json`). It holds
 * every queued or running job with everything needed to run it again after a restart (the argv
 * is stored already filled, already checked), the recent finished ones, today's per-user job
 * counts for the quota.
 *
 * A job's status moves only forward: queued → running → done | failed | cancelled | interrupted
 * (queued → cancelled when a user clears the queue). `interrupted` means the bot stopped or
 * crashed while it ran; its owner is told, with a Retry button.
 */
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * `node`: in cluster mode, the node (host) the process runs on — its pid means nothing on another
 * host. Absent on one machine (and in older records): this host.
 */
const jobProcess = z.object({ pid: z.number().int().positive(), startTime: z.number(), marker: z.string(), node: z.string().optional() });

const jobOutcome = z.object({
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number().nonnegative(),
  outputBytes: z.number().int().nonnegative(),
  timedOut: z.boolean(),
  cancelled: z.boolean(),
  failure: z.string().optional(),
  /** Who stopped it, when it was stopped: its owner, an admin (another user), the operator (the dashboard). */
  stoppedBy: z.enum(['owner', 'admin', 'operator']).optional(),
});

export const jobRecordSchema = z.object({
  id: z.number().int().positive(),
  userId: z.number().int(),
  chatId: z.number().int(),
  /** The command's name (a key of the config's `commands`, or an inline job's name). */
  command: z.string(),
  /** What the user sees, e.g. `/sleep 5`. */
  title: z.string(),
  argv: z.array(z.string()).min(1),
  /** The user's values by placeholder name (absent in records of older versions and inline jobs). */
  args: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  timeoutMs: z.number().nonnegative(),
  idleTimeoutMs: z.number().positive().optional(),
  status: z.enum(JOB_STATUSES),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** The update that asked for it: a redelivered update finds its job instead of starting another. */
  updateId: z.number().int().optional(),
  retryOf: z.number().int().optional(),
  retriedAs: z.number().int().optional(),
  /** While running: the root process and the job marker, to reap it if this bot dies. */
  process: jobProcess.optional(),
  outcome: jobOutcome.optional(),
  /** The job's one message in its chat (its "card"), edited as the job moves on. */
  messageId: z.number().int().optional(),
  /** The owner was told that it was interrupted. */
  notified: z.boolean().optional(),
});

export const jobsFileSchema = z.object({
  version: z.literal(1),
  nextId: z.number().int().positive(),
  jobs: z.array(jobRecordSchema),
  /** Jobs started today (UTC) per user id. */
  quota: z.object({ day: z.string(), used: z.record(z.string(), z.number().int().nonnegative()) }),
});

export type JobRecord = z.infer<typeof jobRecordSchema>;
export type JobOutcome = z.infer<typeof jobOutcome>;
export type JobsFile = z.infer<typeof jobsFileSchema>;

export function emptyJobsFile(): JobsFile {
  return { version: 1, nextId: 1, jobs: [], quota: { day: '', used: {} } };
}

export function isFinished(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running';
}
