/**
 * @botvisor/cli — the `botvisor` command. Library exports for the sandbox and tests.
 */

export { prettyLine } from './commands/logs.js';
export { renderStatus } from './commands/status.js';
export { type FoundConfig, findConfigFile, findUserConfigFile, loadFoundConfig, loadFoundControlConfig, type SandboxProvider, setSandboxProvider } from './config-lookup.js';
export { CliError, EXIT } from './exit-codes.js';
export { KEEP_SENT, SimSandboxChat, type SimSandboxChatOptions } from './sandbox/sandbox-chat-port.js';
export { launchdPlist, systemdUnit, type UnitPaths } from './service-units.js';
