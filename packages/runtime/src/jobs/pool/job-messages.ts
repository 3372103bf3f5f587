/**
 * Every sentence the job pool says to a person, in one place: queued, refused (what, and why),
 * finished, stopped (and by whom), interrupted. Short; each names the job by its number with the
 * command the user typed, and a refusal names the command it refused.
 */
import type { JobResult } from '../run-job.js';
import type { JobOutcome, JobRecord, JobStatus } from './job-record.js';

export type StoppedBy = NonNullable<JobOutcome['stoppedBy']>;

function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** How to run an interrupted job again: the Retry button, or (a retry itself, an inline job) asking again. */
function again(retry: boolean): string {
  return retry ? 'Tap Retry to run it again.' : 'Send the command again to run it again.';
}

export const jobText = {
  liveTitle: (job: JobRecord) => `▶ Job #${job.id}: ${job.title}`,
  queued: (job: JobRecord, ahead: number) => `⏳ Job #${job.id} (${job.title}) is queued${ahead > 0 ? `, ${ahead} ahead of it` : ''}.`,
  queueFull: (title: string, limit: number) => `${title} not queued: your queue is full (${limit} waiting). Send it again when some have finished.`,
  quota: (title: string, limit: number) => `${title} not run: you have used your ${limit} jobs for today; the quota resets at midnight UTC.`,
  dropped: (job: JobRecord) => `⏹ Job #${job.id} (${job.title}) was taken off the queue before it started.`,
  stopButton: (id: number) => `⏹ Stop #${id}`,
  stoppingJob: (id: number) => `Stopping job #${id}.`,
  droppedAnswer: (id: number) => `Job #${id} taken off the queue.`,
  notStoppable: (id: number, status: JobStatus) => `Job #${id} is ${status}: nothing to stop.`,
  unknownCommand: (name: string) => `Unknown command /${name}.`,
  adminOnly: (name: string) => `/${name} is for admins only.`,
  stopping: (title?: string) => (title !== undefined ? `${title} not run: the bot is restarting; send it again in a moment.` : 'The bot is restarting; please send that again in a moment.'),
  notFound: (id: number) => `Job #${id} is no longer known.`,
  notYours: (id: number) => `Job #${id} is not yours.`,
  notRetryable: (id: number, status: JobStatus) => `Job #${id} is ${status}; only an interrupted job can be run again.`,
  sendAgain: (id: number) => `Job #${id} cannot be run again from here; send the command again.`,
  retryRefused: (id: number, why: string) => `Job #${id} cannot run again: ${why}`,
  alreadyRetried: (id: number, as: number) => `Job #${id} was already run again as job #${as}.`,
  retrying: (as: number) => `Running it again as job #${as}.`,
  interruptedByRestart: (job: JobRecord, retry: boolean) => `⚠️ Job #${job.id} (${job.title}) was interrupted: the bot restarted while it ran. ${again(retry)}`,
  summary(job: JobRecord, result: JobResult, status: JobStatus, retry: boolean, stoppedBy: StoppedBy = 'owner'): string {
    const head = `Job #${job.id} (${job.title})`;
    switch (status) {
      case 'done':
        return `✅ ${head} done in ${duration(result.durationMs)}.`;
      case 'cancelled':
        return `⏹ ${head} stopped${stoppedBy === 'owner' ? '' : stoppedBy === 'admin' ? ' by an admin' : ' by the operator'} after ${duration(result.durationMs)}.`;
      case 'interrupted':
        return `⚠️ ${head} was interrupted after ${duration(result.durationMs)}: the bot is stopping. ${again(retry)}`;
      default:
        return `${result.timedOut ? '⏱' : '❌'} ${head}, after ${duration(result.durationMs)}: ${result.failure ?? 'it did not succeed.'}`;
    }
  },
};
