/**
 * @botvisor/supervisor — the daemon that keeps a fleet of bots alive, single-polling and clean.
 */
export { BOT_STATES, type BotState, BotStateMachine } from './bot/bot-state.js';
export { describeExit, type ExitRecord } from './bot/exit-cause.js';
export { type BotStatus, ManagedBot } from './bot/managed-bot.js';
export { RestartPolicy } from './bot/restart-policy.js';
export { EventStream, type SupervisorEvent, type SupervisorEventKind } from './events.js';
export { AlreadyRunningError, instanceLockPath } from './instance-lock.js';
export type { BotStatusReport, LockStatus, StatusReport } from './status.js';
export { StartupError, Supervisor, type SupervisorOptions } from './supervisor.js';
