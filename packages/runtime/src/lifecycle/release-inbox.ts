/**
 * The old process's side of a reload's hand-over (IPC `hand-over`): it stops fetching at a batch
 * boundary — the poll loop ends after the batch it has, which is in the inbox with its offset —
 * starts no new handler, closes the inbox (the started marks of the handlers still running are
 * written with it) and tells the supervisor which updates are still in a handler. From then on
 * their settles are reported (hand-off-ledger.ts) and the new process, which polls by now, holds
 * them (held-updates.ts). The rest — handlers finishing within the grace, services, stores, exit —
 * is the ordinary shutdown that follows.
 */
import type { IpcMessage } from '@botvisor/core';
import type { HandOffLedger } from './hand-off-ledger.js';

export interface ReleaseInboxParts {
  stopPolling: () => Promise<void>;
  /** Starts no new handler; running ones go on. */
  stopDispatching: () => void;
  ledger: HandOffLedger;
  inbox: { close: () => Promise<void> };
  send: (message: IpcMessage) => void;
}

/** Returns the update ids still in a handler when the inbox was handed over. */
export async function releaseInbox(p: ReleaseInboxParts): Promise<number[]> {
  await p.stopPolling();
  p.stopDispatching();
  const running = p.ledger.handOff((updateId) => p.send({ type: 'settled', updateId }));
  await p.inbox.close();
  p.send({ type: 'inbox-released', running });
  return running;
}
