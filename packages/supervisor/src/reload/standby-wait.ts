/**
 * Waiting for a reload's replacement process to reach standby (runtime lifecycle/standby.ts): its
 * module and config loaded, none of the bot's files opened. Says how the wait ended — standby,
 * the process exited first (a module that does not load, a config it cannot use), or the time ran
 * out — so the caller decides between handing over and rolling back.
 */
import { parseIpcMessage, settlesWithin } from '@botvisor/core';
import type { BotProcess } from '../bot/bot-process.js';

export type StandbyOutcome = { reached: true } | { reached: false; why: string };

/** Attach right after the fork: an IPC message is not buffered for a later listener. */
export function waitForStandby(proc: BotProcess, timeoutMs: number): Promise<StandbyOutcome> {
  let onStandby: () => void = () => undefined;
  const standby = new Promise<StandbyOutcome>((resolve) => {
    onStandby = () => resolve({ reached: true });
  });
  proc.onMessage((raw) => {
    if (parseIpcMessage(raw)?.type === 'standby') onStandby();
  });
  const exited = proc.exited.then(async (exit): Promise<StandbyOutcome> => {
    await settlesWithin(proc.outputEnded, 1000); // its reason line may follow the exit
    const how = exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    return { reached: false, why: proc.reason !== undefined ? `${proc.reason} (${how})` : `the new process exited before it was ready (${how})` };
  });
  const timedOut = new Promise<StandbyOutcome>((resolve) => {
    setTimeout(() => resolve({ reached: false, why: `the new process did not load within ${Math.round(timeoutMs / 1000)} s` }), timeoutMs).unref();
  });
  return Promise.race([standby, exited, timedOut]);
}
