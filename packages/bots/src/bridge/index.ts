/**
 * The bridge bot: `export default` is its definition, for `kind: "bridge"`.
 */
export { default } from './bridge-bot.js';
export { ButtonRegistry, GhostButtonError } from './button-registry.js';
export { CommandTable } from './command-table.js';
