/**
 * The standby of a reload's replacement process: the one step between "module and config loaded"
 * and "stores opened". Forked with STANDBY_VAR=1, the process says `standby` and waits for
 * `take-over` before it touches any of the bot's files — the old process still has them open
 * (each store has a single writer) and still polls the token. A module that does not load never
 * gets here, so the supervisor keeps the old process (its rollback). Without the variable, or
 * without a supervisor, this is a no-op.
 *
 * Before it says `standby` it runs `prepare` (the inbox rehearsal, inbox-rehearsal.ts): work that
 * shortens the hand-over and must therefore be done before it starts.
 *
 * The hand-over's relayed messages (`settled`, `stores-released`) are listened for from the moment
 * of standby, so none is missed while the inbox opens (held-updates.ts keeps them).
 */
import { type Logger, STANDBY_VAR } from '@botvisor/core';
import type { SupervisorLink } from '../ipc/supervisor-link.js';
import { HeldUpdates } from './held-updates.js';

/**
 * Resolves at once with undefined unless this process is a standby replacement; then, once the
 * supervisor says take-over, with the updates the old process is still handling.
 */
export async function awaitTakeOver(link: SupervisorLink, env: NodeJS.ProcessEnv, logger: Logger, prepare: () => Promise<void> = () => Promise.resolve()): Promise<HeldUpdates | undefined> {
  if (env[STANDBY_VAR] !== '1' || !link.connected) return undefined;
  let hold: HeldUpdates | undefined;
  const early: Array<(h: HeldUpdates) => void> = [];
  const whenHeld = (act: (h: HeldUpdates) => void): void => {
    if (hold !== undefined) act(hold);
    else early.push(act);
  };
  link.on('settled', (m) => whenHeld((h) => h.settle(m.updateId)));
  link.on('stores-released', () => whenHeld((h) => h.release()));
  const taken = new Promise<HeldUpdates>((resolve) =>
    link.on('take-over', (m) => {
      if (hold !== undefined) return;
      hold = new HeldUpdates(m.held ?? [], logger);
      for (const act of early.splice(0)) act(hold);
      resolve(hold);
    }),
  );
  await prepare();
  link.send({ type: 'standby' });
  return taken;
}
