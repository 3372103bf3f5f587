/**
 * The dispatcher's ledger across a reload's hand-over, on the old process's side: until the
 * hand-over it is the inbox (and knows which updates are in a handler); after it — the inbox closed
 * and handed to the new process — each settle of an update still in a handler is reported instead
 * (IPC `settled`, relayed by the supervisor), so the new process settles it in the inbox it now owns.
 */
import type { HandlingLedger } from '../dispatch/dispatcher.js';

export class HandOffLedger implements HandlingLedger {
  /** Update ids a handler began on and that have not settled, in start order. */
  private readonly running = new Set<number>();
  private report: ((updateId: number) => void) | undefined;

  constructor(private readonly inbox: HandlingLedger) {}

  markStarted(updateId: number): void {
    this.running.add(updateId);
    if (this.report === undefined) this.inbox.markStarted(updateId);
  }

  settle(updateId: number): void {
    this.running.delete(updateId);
    if (this.report === undefined) this.inbox.settle(updateId);
    else this.report(updateId);
  }

  /** From now on settles go to `report`, not the inbox (which is about to close); returns the updates in a handler now. */
  handOff(report: (updateId: number) => void): number[] {
    this.report = report;
    return [...this.running];
  }
}
