/**
 * The supervisor's part in a reload's hand-over between two processes of one bot: it asks the old
 * process to hand the inbox over (IPC `hand-over`), learns which updates it is still handling
 * (`inbox-released`), and from then on relays what the old process says about them to the new
 * one — each `settled`, and `stores-released` once it has closed its stores. When the old process
 * exits, however it exits (done, killed -9, crashed), the new one is told `stores-released` too,
 * so whatever it still holds is handed out again. Messages for the new process wait until it has
 * been sent its take-over. Only relaying; the states of the bot are ManagedBot's.
 */
import { type IpcMessage, parseIpcMessage } from '@botvisor/core';
import type { BotProcess } from '../bot/bot-process.js';

/** How the old process answered `hand-over`: the updates it still runs, or why there is no inbox hand-over (it exited, or said nothing in time). */
export type InboxRelease = { released: true; running: number[] } | { released: false; why: string };

export class HandOverRelay {
  private next: BotProcess | undefined;
  private readonly waiting: IpcMessage[] = [];
  private storesReleased = false;

  constructor(private readonly old: BotProcess) {
    old.onMessage((raw) => {
      const message = parseIpcMessage(raw);
      if (message?.type === 'settled') this.toNext(message);
      else if (message?.type === 'stores-released') this.releaseStores();
    });
    void old.exited.then(() => this.releaseStores());
  }

  /** Sends `hand-over` to the old process; resolves once it released the inbox, exited, or `timeoutMs` passed. */
  begin(reason: string, graceMs: number, timeoutMs: number): Promise<InboxRelease> {
    const answer = new Promise<InboxRelease>((resolve) => {
      this.old.onMessage((raw) => {
        const message = parseIpcMessage(raw);
        if (message?.type === 'inbox-released') resolve({ released: true, running: message.running });
      });
      void this.old.exited.then(() => resolve({ released: false, why: 'the old process exited before it handed the inbox over' }));
      setTimeout(() => resolve({ released: false, why: `the old process did not hand the inbox over within ${timeoutMs} ms` }), timeoutMs).unref();
    });
    this.old.send({ type: 'hand-over', graceMs, reason });
    return answer;
  }

  /** The new process has been sent its take-over: relay to it from now on (what came meanwhile first). */
  relayTo(next: BotProcess): void {
    this.next = next;
    for (const message of this.waiting.splice(0)) next.send(message);
  }

  private releaseStores(): void {
    if (this.storesReleased) return;
    this.storesReleased = true;
    this.toNext({ type: 'stores-released' });
  }

  private toNext(message: IpcMessage): void {
    if (this.next !== undefined) this.next.send(message);
    else this.waiting.push(message);
  }
}
