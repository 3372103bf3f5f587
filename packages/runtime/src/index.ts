/**
 * @botvisor/runtime — what runs inside every bot process. A bot module needs only `defineBot`;
 * `runtime.jobs` and `runtime.outbox` come with it. The job runner and the outbox are exported
 * too, for tools and benchmarks that use them on their own. The path of an update through a bot
 * process is pipeline.ts; its start-up and shutdown are lifecycle/run-bot.ts. Sessions (long-lived
 * CLI conversations) are `@botvisor/runtime/sessions`, not here: a bot that does not use them does
 * not load their modules.
 */

export type { FleetSummary, IpcEvent } from '@botvisor/core';
/** Thrown from a bot's setup for a mistake in its configuration: the process exits 78 and the supervisor marks it errored instead of restarting it. */
export { ConfigError, formatPath } from '@botvisor/core';
export { type BotDefinition, type BotJobs, type BotOptions, type BotOutbox, type BotRuntime, type BotService, defineBot, isBotDefinition, type StateOptions } from './define-bot.js';
export { DEFAULT_INCOMING_LIMITS, IncomingRateLimit, type RateWindow } from './dispatch/incoming-rate-limit.js';
export { DEFAULT_PRIORITY_COMMANDS } from './dispatch/priority.js';
export { HANDLER_ERROR_TEXT, NOT_AUTHORIZED_TEXT, POISON_UPDATE_TEXT } from './dispatch/update-pipeline.js';
export { readStoredInbox } from './inbox/stored-inbox.js';
export { ArgumentError, fillArgv, matchesInFull, valuesFromText } from './jobs/arguments/fill-argv.js';
export { LiveOutput, type LiveOutputOptions } from './jobs/chat/live-output.js';
export { DEFAULT_ENV_ALLOW, JOB_MARKER_VAR } from './jobs/environment/job-env.js';
export type { JobPoolOptions, JobRequest } from './jobs/pool/job-pool.js';
export type { JobRecord, JobStatus } from './jobs/pool/job-record.js';
export type { CommandSpec } from './jobs/pool/resolve-command.js';
export type { SubmitResult } from './jobs/pool/submit-result.js';
export { type JobHandle, type JobLog, type JobProcessReport, type JobResult, type JobSpec, type RunJobDeps, runJob } from './jobs/run-job.js';
export { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART } from './lifecycle/exit-codes.js';
export { type RunBotOptions, runBot } from './lifecycle/run-bot.js';
export { Outbox, OutboxClosedError, OutboxFullError, type OutboxOptions, type OutboxStats, type Transport } from './outbox/outbox.js';
export { DEFAULT_RATE_LIMITS, type RateLimits } from './outbox/rate-gate.js';
export { createOutboxApi, installApi, RoutedApi } from './outbox/routed-api.js';
export { UncertainDeliveryError } from './outbox/send-policy.js';
export { splitMarkup } from './outbox/split-markup.js';
export { splitText, TELEGRAM_TEXT_LIMIT, type TextPart } from './outbox/split-text.js';
export { Backoff } from './polling/backoff.js';
export { type Decoration, type DecorationOptions, type DecorationState, decorateInBackground } from './telegram/decorate-in-background.js';
export { describeApiError } from './telegram/describe-api-error.js';
export { guardEnvelope, isTelegramEnvelope } from './telegram/envelope-guard.js';
export { ForeignResponseError, findForeignResponse } from './telegram/foreign-response-error.js';
