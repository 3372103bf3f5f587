/**
 * The alerts bot: `export default` is its definition, for `kind: "alerts"`.
 */

export { type AlertAction, AlertCoalescer, type AlertEvent, renderAlert } from './alert-coalescer.js';
export { default } from './alerts-bot.js';
export { type IncidentAction, type IncidentEvent, Incidents } from './incidents.js';
