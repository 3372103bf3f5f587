/**
 * @botvisor/bots — the built-in bots, written only with @botvisor/runtime's public API.
 * Import a bot from its subpath: `@botvisor/bots/bridge`, `@botvisor/bots/alerts`.
 */

export { AlertCoalescer, renderAlert } from './alerts/alert-coalescer.js';
export { ALERT_KINDS } from './alerts/alerts-bot.js';
export { ButtonRegistry, GhostButtonError } from './bridge/button-registry.js';
export { CommandTable } from './bridge/command-table.js';
