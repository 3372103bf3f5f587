/**
 * The standby of a reload's replacement process: the one step between "module and config loaded"
 * and "stores opened". Forked with STANDBY_VAR=1, the process says `standby` and waits for
 * `take-over` before it touches any of the bot's files — the old process still has them open
 * (each store has a single writer) and still polls the token. A module that does not load never
 * gets here, so the supervisor keeps the old process (its rollback). Without the variable, or
 * without a supervisor, this is a no-op.
 */
import { STANDBY_VAR } from '@botvisor/core';
import type { SupervisorLink } from '../ipc/supervisor-link.js';

/** Resolves at once unless this process is a standby replacement; then once the supervisor says take-over. */
export function awaitTakeOver(link: SupervisorLink, env: NodeJS.ProcessEnv): Promise<void> {
  if (env[STANDBY_VAR] !== '1' || !link.connected) return Promise.resolve();
  const taken = new Promise<void>((resolve) => link.on('take-over', () => resolve()));
  link.send({ type: 'standby' });
  return taken;
}
