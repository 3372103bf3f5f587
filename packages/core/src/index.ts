/**
 * @botvisor/core — primitives shared by the supervisor and the bots. No Telegram here.
 */

export * from './async/index.js';
export * from './config/index.js';
export * from './fs/index.js';
export * from './ipc/index.js';
export * from './lock/index.js';
export * from './log/index.js';
export * from './process/index.js';
export * from './store/index.js';
