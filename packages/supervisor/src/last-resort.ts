/**
 * The supervisor's last resort: an error nothing caught (`uncaughtException`,
 * `unhandledRejection`) is logged at ERROR, the bots are stopped in their order, and the process
 * exits 1 so systemd or launchd starts it again — never a silent death that leaves bots without
 * their supervisor. Also makes a broken pipe on the process's own stdout or stderr harmless
 * (`botvisor start | tee log`, then Ctrl-C kills `tee` first): output that has nowhere to go is
 * dropped instead of crashing the supervisor in the middle of stopping.
 */
import { EXIT_FAILURE, type Logger } from '@botvisor/core';

export interface LastResortOptions {
  /** The logger to record the error in, once the supervisor has one. */
  logger: () => Logger | undefined;
  /** Stops every bot in order; undefined while there is no supervisor yet. */
  stop: () => Promise<void> | undefined;
  /** Exit anyway this long after the error if stopping hangs (read when the error comes). */
  hardStopMs: () => number;
  exit?: (code: number) => void;
}

/** Installs the handlers on `process`; returns their removal (tests, a clean stop). */
export function installLastResort(o: LastResortOptions): () => void {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let fatal = false;
  const onFatal = (err: unknown, origin: string): void => {
    const logger = o.logger();
    const record = { origin, err };
    if (fatal) {
      // A second one while stopping: record it, and let the first stop finish or the hard stop fire.
      logger?.error('another uncaught error while stopping after an uncaught error', record);
      return;
    }
    fatal = true;
    writeStderr(`botvisor: uncaught error (${origin}); stopping every bot and exiting: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    logger?.error('uncaught error in the supervisor; stopping every bot and exiting so the service manager restarts it', record);
    const hardStop = setTimeout(() => exit(EXIT_FAILURE), o.hardStopMs());
    hardStop.unref();
    const stopping = o.stop() ?? Promise.resolve();
    void stopping
      .catch((stopErr: unknown) => logger?.error('could not stop the bots after an uncaught error', { err: stopErr }))
      .finally(() => {
        clearTimeout(hardStop);
        exit(EXIT_FAILURE);
      });
  };
  const onException = (err: Error, origin: string): void => onFatal(err, origin);
  const onRejection = (reason: unknown): void => onFatal(reason, 'unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  const unguard = ignoreBrokenPipes();
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
    unguard();
  };
}

/**
 * Output to a closed pipe (EPIPE) or a vanished terminal (EIO) is dropped: nobody can read it,
 * and the process must go on stopping its bots. Any other stream error is still raised.
 */
export function ignoreBrokenPipes(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): () => void {
  const guards = streams.map((stream) => {
    const guard = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EPIPE' || err.code === 'EIO' || err.code === 'ERR_STREAM_DESTROYED') return;
      throw err;
    };
    stream.on('error', guard);
    return () => stream.off('error', guard);
  });
  return () => {
    for (const off of guards) off();
  };
}

function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr is gone too; the log has it
  }
}
