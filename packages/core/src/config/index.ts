export { ConfigError, type ConfigIssue, formatPath } from './config-error.js';
export { type BotKind, loadConfig, type ResolvedBot, type ResolvedConfig, type ResolveOptions, resolveConfig } from './load-config.js';
export {
  ARG_NAME_PATTERN,
  BOT_NAME_PATTERN,
  botSchema,
  COMMAND_NAME_PATTERN,
  commandSchema,
  configSchema,
  DEFAULT_API_ROOT,
  type ParsedBot,
  type ParsedCommand,
  type ParsedConfig,
  type ParsedSession,
  type RawConfig,
  type SupervisorSettings,
  sessionSchema,
  supervisorSchema,
} from './schema.js';
export { resolveToken, TOKEN_SHAPE, type TokenSource } from './tokens.js';
