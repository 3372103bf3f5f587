/**
 * The built-in bots' modules as this package's tests hand them to a supervisor (the supervisor
 * library resolves no module by itself; the CLI and the daemon bin pass the installed ones).
 */
import { fileURLToPath } from 'node:url';

export const BUILTIN_MODULES = {
  bridge: fileURLToPath(new URL('../../src/bridge/index.js', import.meta.url)),
  alerts: fileURLToPath(new URL('../../src/alerts/index.js', import.meta.url)),
};
