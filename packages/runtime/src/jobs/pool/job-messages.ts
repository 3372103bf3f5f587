/**
 * Every sentence the job pool says to a person, in one place: queued, refused (why, with the
 * pattern or the limit), finished, interrupted. Short; each names the job by its number with the
 * command the user typed.
 */
import type { JobResult } from '../run-job.js';
import type { JobRecord, JobStatus } from './job-record.js';

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
  queueFull: (limit: number) => `Your queue is full (${limit} jobs waiting). Try again later, when some have finished.`,
  quota: (limit: number) => `You have used your ${limit} jobs for today. The quota resets at midnight UTC.`,
  unknownCommand: (name: string) => `Unknown command /${name}.`,
  adminOnly: (name: string) => `/${name} is for admins only.`,
  stopping: () => 'The bot is restarting; please send that again in a moment.',
  notFound: (id: number) => `Job #${id} is no longer known.`,
  notYours: (id: number) => `Job #${id} is not yours.`,
  notRetryable: (id: number, status: JobStatus) => `Job #${id} is ${status}; only an interrupted job can be run again.`,
  sendAgain: (id: number) => `Job #${id} cannot be run again from here; send the command again.`,
  retryRefused: (id: number, why: string) => `Job #${id} cannot run again: ${why}`,
  alreadyRetried: (id: number, as: number) => `Job #${id} was already run again as job #${as}.`,
  retrying: (as: number) => `Running it again as job #${as}.`,
  interruptedByRestart: (job: JobRecord, retry: boolean) => `⚠️ Job #${job.id} (${job.title}) was interrupted: the bot restarted while it ran. ${again(retry)}`,
  summary(job: JobRecord, result: JobResult, status: JobStatus, retry: boolean): string {
    const head = `Job #${job.id} (${job.title})`;
    switch (status) {
      case 'done':
        return `✅ ${head} done in ${duration(result.durationMs)}.`;
      case 'cancelled':
        return `⏹ ${head} stopped after ${duration(result.durationMs)}.`;
      case 'interrupted':
        return `⚠️ ${head} was interrupted after ${duration(result.durationMs)}: the bot is stopping. ${again(retry)}`;
      default:
        return `${result.timedOut ? '⏱' : '❌'} ${head}, after ${duration(result.durationMs)}: ${result.failure ?? 'it did not succeed.'}`;
    }
  },
};
