/**
 * The logger a store uses when its opener passed none: ERROR and WARNING lines on stderr, the
 * rest dropped. A store must never repair a corrupt file in silence.
 */
import type { Logger, LogMeta } from '../log/logger.js';

function line(level: string, msg: string, meta: LogMeta): string {
  const plain: LogMeta = {};
  // JSON.stringify turns an Error into {}; keep what a reader needs.
  for (const [key, value] of Object.entries(meta)) plain[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
  return JSON.stringify({ ts: new Date().toISOString(), level, proc: 'store', pid: process.pid, msg, ...plain });
}

export function stderrFallbackLogger(bound: LogMeta = {}): Logger {
  return {
    error: (msg, meta) => console.error(line('error', msg, { ...bound, ...meta })),
    warning: (msg, meta) => console.error(line('warning', msg, { ...bound, ...meta })),
    info: () => undefined,
    debug: () => undefined,
    child: (meta) => stderrFallbackLogger({ ...bound, ...meta }),
    close: () => Promise.resolve(),
  };
}
