/**
 * Where the implementations live: the runtime's bot entry (`botvisor-bot`) that every bot
 * process runs, and the modules of the built-in kinds (bridge, alerts) from @botvisor/bots.
 * Resolved as paths to fork, never imported: the supervisor runs no bot code itself.
 */

function resolveOrUndefined(specifier: string): string | undefined {
  try {
    return new URL(import.meta.resolve(specifier)).pathname;
  } catch {
    return undefined;
  }
}

export function defaultBotEntry(): string {
  const entry = resolveOrUndefined('@botvisor/runtime/bot-entry');
  if (entry === undefined) throw new Error('cannot find @botvisor/runtime (run npm ci)');
  return entry;
}

export function defaultBuiltinModules(): Record<'bridge' | 'alerts', string | undefined> {
  return { bridge: resolveOrUndefined('@botvisor/bots/bridge'), alerts: resolveOrUndefined('@botvisor/bots/alerts') };
}
