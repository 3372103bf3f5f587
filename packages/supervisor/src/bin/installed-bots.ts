/**
 * The module map of the built-in kinds: @botvisor/bots as installed beside this package, resolved
 * to paths for the supervisor to fork (never imported). Only the composition roots call it — the
 * daemon bin and the CLI; the Supervisor itself only forks what it is given.
 */
import type { BuiltinModules } from '../fleet.js';

const BUILTIN_KINDS = ['bridge', 'alerts'] as const satisfies ReadonlyArray<keyof BuiltinModules>;

export function installedBuiltinModules(): BuiltinModules {
  const modules: BuiltinModules = {};
  for (const kind of BUILTIN_KINDS) {
    try {
      modules[kind] = new URL(import.meta.resolve(`@botvisor/bots/${kind}`)).pathname;
    } catch {
      // not installed: a bot of this kind is errored with "no implementation … is installed"
    }
  }
  return modules;
}
