/**
 * Where the runtime's bot entry (`botvisor-bot`) lives: the script every bot process runs. Resolved
 * as a path to fork, never imported: the supervisor runs no bot code itself. The modules of the
 * built-in kinds are not resolved here; the supervisor's caller passes them in.
 */

export function defaultBotEntry(): string {
  try {
    return new URL(import.meta.resolve('@botvisor/runtime/bot-entry')).pathname;
  } catch {
    throw new Error('cannot find @botvisor/runtime (run npm ci)');
  }
}
