/**
 * Where each bot's stdout and stderr lines go: the bot's own output log,
 * `<logDir>/<bot>.output.log` (rotated like every log), beside the `<bot>.log` its runtime
 * writes — so what a bot printed before its logger existed (an import that threw, a missing
 * package) is found under the bot's name (`botvisor logs <bot>`), not in the supervisor's log.
 */
import { createLogger, type Logger } from '@botvisor/core';

/** The log name (`proc`) of a bot's output: its file is `<logDir>/<name>.log`. Bot names have no dots, so it never names a bot. */
export function botOutputLogName(bot: string): string {
  return `${bot}.output`;
}

export class BotOutputLogs {
  private readonly loggers = new Map<string, Logger>();

  constructor(
    private readonly logDir: string,
    private readonly console: 'auto' | 'never' = 'auto',
  ) {}

  /** The output log of `bot`, opened on first use. */
  of(bot: string): Logger {
    let logger = this.loggers.get(bot);
    if (logger === undefined) {
      logger = createLogger({ proc: botOutputLogName(bot), logDir: this.logDir, console: this.console });
      this.loggers.set(bot, logger);
    }
    return logger;
  }

  /** Flushes and closes every output log (after the bots have stopped). */
  async close(): Promise<void> {
    const all = [...this.loggers.values()];
    this.loggers.clear();
    await Promise.all(all.map((l) => l.close()));
  }
}
