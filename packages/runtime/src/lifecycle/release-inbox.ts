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
  /** Closed for the new process (UpdateInbox.handOver). */
  inbox: { handOver: () => Promise<void> };
  send: (message: IpcMessage) => void;
}

/** What the hand-over did: the updates still in a handler, and how long its two steps took (they are the poll gap's share of this process). */
export interface InboxReleased {
  running: number[];
  pollStopMs: number;
  inboxCloseMs: number;
}

export async function releaseInbox(p: ReleaseInboxParts): Promise<InboxReleased> {
  const began = performance.now();
  await p.stopPolling();
  const polled = performance.now();
  p.stopDispatching();
  const running = p.ledger.handOff((updateId) => p.send({ type: 'settled', updateId }));
  await p.inbox.handOver();
  p.send({ type: 'inbox-released', running });
  return { running, pollStopMs: Math.round(polled - began), inboxCloseMs: Math.round(performance.now() - polled) };
}
