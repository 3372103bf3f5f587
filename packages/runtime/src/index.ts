/**
 * @botvisor/runtime — what runs inside every bot process. A bot module needs only `defineBot`.
 */
export { type BotDefinition, type BotOptions, type BotRuntime, type BotService, defineBot, isBotDefinition, type StateOptions } from './define-bot.js';
export { DEFAULT_INCOMING_LIMITS, IncomingRateLimit, type RateWindow } from './dispatch/incoming-rate-limit.js';
export { DEFAULT_PRIORITY_COMMANDS } from './dispatch/priority.js';
export { HANDLER_ERROR_TEXT, NOT_AUTHORIZED_TEXT, POISON_UPDATE_TEXT } from './dispatch/update-pipeline.js';
export { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART } from './lifecycle/exit-codes.js';
export { type RunBotOptions, runBot } from './lifecycle/run-bot.js';
export { Backoff } from './polling/backoff.js';
