/**
 * @botvisor/bot-api-sim — a faithful local Telegram Bot API for tests, benchmarks and the offline
 * sandbox. Start one with `startSim()`, point a bot at its `url`, drive the user side with
 * `SimClient` (or the `/sim/` HTTP routes), and read what the bot did.
 */

export type { BodyLimits, UploadedFile } from './body.js';
export type { BotProfile, WebhookState } from './bot-state.js';
export type { BotStatsSnapshot } from './bot-stats.js';
export { type Clock, systemClock } from './clock.js';
export type { BotStatsView, ChatView, HealthView, ProfilePatch, TranscriptView, UserMessagesView, WaitOptions } from './control-types.js';
export { ApiError, type Envelope, type ErrorEnvelope, type OkEnvelope, type ResponseParameters } from './envelope.js';
export type { Fault, FaultSpec } from './faults.js';
export { type EffectiveFloodSettings, FLOOD_PRESETS, FloodControl, type FloodLimits, type FloodMode, type FloodSettings } from './flood-control.js';
export { FOREIGN_BODIES, type ForeignAnswer, type ForeignBody } from './foreign-answer.js';
export { type FormattedText, formatText, parseHtml, parseMarkdown, parseMarkdownV2 } from './formatting/index.js';
export { implementedMethods } from './methods/index.js';
export { type MessageWait, SimBotClient, SimClient, SimClientError, type SimClientOptions } from './sim-client.js';
export { Simulator, type SimulatorOptions } from './simulator.js';
export { type SimHandle, type StartSimOptions, startSim } from './start-sim.js';
export type * from './telegram-types.js';
export { isTokenShaped } from './token.js';
export type { TranscriptEntry, TranscriptKind } from './transcript.js';
export { UpdateQueue } from './update-queue.js';
export { USER_LOG_KEEP, type UserLogEntry } from './user-log.js';
export { type CallbackTapInput, type ChatSpec, DEFAULT_USER, type InjectResult, type UserCommandInput, type UserMessageInput, UserSide, type UserSpec } from './user-side.js';
