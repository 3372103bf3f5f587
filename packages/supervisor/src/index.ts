/**
 * @botvisor/supervisor — the daemon that keeps a fleet of bots alive: one poller per token, no orphans.
 */

export { installedBuiltinModules } from './bin/installed-bots.js';
export { botOutputLogName } from './bot/bot-output-log.js';
export type { ForkBot } from './bot/bot-process.js';
export { BOT_STATES, type BotState, BotStateMachine } from './bot/bot-state.js';
export { describeExit, type ExitRecord } from './bot/exit-cause.js';
export { type BotStatus, ManagedBot, STATE_HISTORY_LENGTH } from './bot/managed-bot.js';
export { RestartPolicy } from './bot/restart-policy.js';
export { type PostgresProbe, probePostgres } from './cluster/postgres-probe.js';
export type { ClusterLeaseStatus } from './cluster/token-lease.js';
export { configFingerprint } from './config-fingerprint.js';
export { TreeContainment, treeContainment } from './containment/tree-containment.js';
export { controlRequest, NotRunningError } from './control/control-client.js';
export { ControlServer, probeSocket } from './control/control-server.js';
export { CONTROL_PROTOCOL_VERSION, type ControlRequest, type ControlResponse, controlSocketPath } from './control/protocol.js';
export { MAX_SOCKET_PATH_BYTES, planSocketPath, type SocketPathPlan } from './control/socket-path.js';
export type { ChatItem, ChatKey, ChatPage, ChatSent } from './dashboard/dashboard-types.js';
export type { SandboxChatPort } from './dashboard/sandbox-chat-port.js';
export { EventStream, type SupervisorEvent, type SupervisorEventKind } from './events.js';
export type { BuiltinModules } from './fleet.js';
export { HttpServer } from './http/http-server.js';
export { SupervisorMetrics } from './http/metrics.js';
export { AlreadyRunningError, instanceLockPath } from './instance-lock.js';
export { ignoreBrokenPipes, installLastResort } from './last-resort.js';
export { describeReload, type ReloadResult } from './reload/reloader.js';
export { reloadOnSighup } from './reload/sighup.js';
export { StartupError } from './startup-error.js';
export type { BotDescription, BotStatusReport, LockStatus, StateChangeReport, StatusReport } from './status.js';
export { Supervisor, type SupervisorOptions } from './supervisor.js';
