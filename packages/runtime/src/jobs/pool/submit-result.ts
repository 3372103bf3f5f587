/**
 * The pool's answer to a request for a job (`submit`, `retry`): accepted with the job's record,
 * or refused with the reason plus the sentence the user was told.
 */
import type { JobRecord } from './job-record.js';

export type SubmitResult =
  | { accepted: true; job: JobRecord; duplicate: boolean; started: boolean }
  | { accepted: false; reason: 'unknown-command' | 'admin-only' | 'bad-arguments' | 'queue-full' | 'quota-exceeded' | 'already-retried' | 'not-found' | 'not-yours' | 'not-interrupted' | 'not-retryable' | 'stopping'; message: string };
