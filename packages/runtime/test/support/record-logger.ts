/**
 * A Logger that keeps every line in memory, for tests that check what was logged at which level.
 */
import type { Logger } from '@botvisor/core';

export interface LoggedLine {
  level: string;
  msg: string;
  meta?: Record<string, unknown> | undefined;
}

export function recordingLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at = (level: string) => (msg: string, meta?: Record<string, unknown>) => void lines.push({ level, msg, meta });
  const logger: Logger = { error: at('error'), warning: at('warning'), info: at('info'), debug: at('debug'), child: () => logger, close: async () => undefined };
  return { logger, lines };
}
