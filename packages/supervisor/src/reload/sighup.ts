/**
 * SIGHUP to the supervisor's process: `botvisor reload all`, the Unix way (systemd's
 * `ExecReload=kill -HUP $MAINPID`). The outcome is logged and, like every reload, an event.
 */
import type { Logger } from '@botvisor/core';
import { describeReload, type ReloadResult } from './reloader.js';

export function reloadOnSighup(reload: () => Promise<ReloadResult>, logger: Logger, proc: NodeJS.Process = process): () => void {
  const onHup = (): void => {
    logger.info('SIGHUP: reloading the config');
    reload().then(
      (r) => (r.failed.length > 0 ? logger.error(`SIGHUP reload: ${describeReload(r)}`) : logger.info(`SIGHUP reload: ${describeReload(r)}`)),
      (err: unknown) => logger.error('SIGHUP reload failed; nothing was changed', { err }),
    );
  };
  proc.on('SIGHUP', onHup);
  return () => proc.off('SIGHUP', onHup);
}
