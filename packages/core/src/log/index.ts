export { createLogger, type Logger, type LoggerOptions, type LogLevel, type LogMeta } from './logger.js';
export { redact, registerBotToken, registerSecret, TELEGRAM_TOKEN_PATTERN } from './redact.js';
export { serializeError } from './serialize.js';
