export { type PostgresSource, postgresSourceOf, registerPostgresSecret, resolvePostgres } from './cluster.js';
export { ConfigError, type ConfigIssue, formatPath } from './config-error.js';
export { assignPollers, type BotKind, type ControlBot, type ControlCluster, type ControlConfig, loadConfig, loadControlConfig, type ResolvedBot, type ResolvedCluster, type ResolvedConfig, type ResolveOptions, resolveConfig, resolveControlConfig } from './load-config.js';
export {
  ARG_NAME_PATTERN,
  BOT_NAME_PATTERN,
  botSchema,
  COMMAND_NAME_PATTERN,
  clusterSchema,
  commandSchema,
  configSchema,
  DEFAULT_API_ROOT,
  HTTP_DEFAULTS,
  httpSchema,
  type ParsedBot,
  type ParsedCluster,
  type ParsedCommand,
  type ParsedConfig,
  type ParsedSession,
  type RawConfig,
  type SupervisorSettings,
  sessionSchema,
  supervisorSchema,
} from './schema.js';
export { resolveToken, TOKEN_SHAPE, type TokenSource, tokenSourceOf } from './tokens.js';
