/**
 * Shutdown as a stack of named closers: start-up pushes the closer of each thing it opens, and
 * shutdown runs them once, last pushed first, whatever asked for it. A closer that fails is logged
 * by name and ends the run with a failure code; a run that outlasts its deadline is cut short
 * by a forced exit.
 */
import { EXIT_FAILURE, EXIT_OK, type Logger } from '@botvisor/core';

export interface ShutdownOptions {
  logger: Logger;
  /** The closers' time in all; after it the process exits anyway (never with 0). */
  forceExitAfterMs: number;
  /** Ends the process; `process.exit` outside tests. */
  exit: (code: number) => never;
}

interface Closer {
  name: string;
  close: () => unknown;
}

export class Shutdown {
  private readonly closers: Closer[] = [];
  private running: Promise<never> | undefined;

  constructor(private readonly options: ShutdownOptions) {}

  /** Adds a closer; it runs before every closer pushed earlier. */
  push(name: string, close: () => unknown): void {
    this.closers.push({ name, close });
  }

  /** True once shutdown has begun. */
  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs the closers once and exits with `code` (a failure code if a closer failed); later calls join the first. */
  run(code: number, why: string): Promise<never> {
    this.running ??= this.closeAll(code, why);
    return this.running;
  }

  private async closeAll(code: number, why: string): Promise<never> {
    const { logger, exit } = this.options;
    const force = setTimeout(() => exit(code === EXIT_OK ? EXIT_FAILURE : code), this.options.forceExitAfterMs);
    logger.info('stopping', { why, exitCode: code });
    for (const closer of [...this.closers].reverse()) {
      try {
        await closer.close();
      } catch (err) {
        // The rest is skipped, as it always was: what stays open is the process's to drop on exit.
        logger.error('shutdown step failed', { step: closer.name, err });
        code = code === EXIT_OK ? EXIT_FAILURE : code;
        break;
      }
    }
    logger.info('stopped', { exitCode: code });
    await logger.close();
    clearTimeout(force);
    return exit(code);
  }
}
