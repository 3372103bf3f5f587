/**
 * @botvisor/core — primitives shared by the supervisor and the bots. No Telegram here.
 */

export * from './log/index.js';
export * from './process/index.js';
