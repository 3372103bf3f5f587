import { expect } from 'chai';
import type { Update } from 'node-telegram-bot-api';
import { Dispatcher, type DispatchItem } from '../src/dispatch/dispatcher.js';
import { HandOffLedger } from '../src/lifecycle/hand-off-ledger.js';
import { HeldUpdates } from '../src/lifecycle/held-updates.js';
import { recordingLogger } from './support/record-logger.js';

function msg(id: number, chat: number): DispatchItem {
  return { update: { update_id: id, message: { message_id: id, date: 0, chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: 'u' }, text: `m${id}` } } as unknown as Update, redelivered: false };
}

const { logger } = recordingLogger();

/** A hold attached to recording targets: what was settled in the inbox and what reached the dispatcher, in order. */
function holding(held: number[]): { hold: HeldUpdates; settled: number[]; dispatched: Array<[number, boolean]>; pass: (item: DispatchItem) => void } {
  const hold = new HeldUpdates(held, logger);
  const settled: number[] = [];
  const dispatched: Array<[number, boolean]> = [];
  const enqueue = (item: DispatchItem): void => void dispatched.push([item.update.update_id, item.redelivered]);
  hold.attach({ settle: (id) => settled.push(id), enqueue });
  return { hold, settled, dispatched, pass: (item) => (hold.keep(item) ? undefined : enqueue(item)) };
}

describe('a reload\'s hand-over: the updates the old process still runs', () => {
  it('holds them and their chat until the relayed settle; other chats pass at once', () => {
    const h = holding([5]);
    h.pass({ ...msg(5, 1), redelivered: true }); // the leftover the old process runs
    h.pass(msg(6, 2));
    h.hold.recovered();
    h.pass(msg(7, 1)); // polled: the same chat waits
    expect(h.dispatched).to.deep.equal([[6, false]]);
    h.hold.settle(5);
    expect(h.settled).to.deep.equal([5]);
    expect(h.dispatched).to.deep.equal([
      [6, false],
      [7, false],
    ]);
    h.pass(msg(8, 1));
    expect(h.dispatched.at(-1)).to.deep.equal([8, false]);
  });

  it('hands out what the old process let go of, marked redelivered, before its chat\'s next', () => {
    const h = holding([5]);
    h.pass(msg(5, 1));
    h.hold.recovered();
    h.pass(msg(7, 1));
    h.hold.release();
    expect(h.settled).to.deep.equal([]);
    expect(h.dispatched).to.deep.equal([
      [5, true],
      [7, false],
    ]);
  });

  it('a settle relayed before the inbox was open, and the stores released before recovery: settled, not handed out', () => {
    const hold = new HeldUpdates([5, 9], logger);
    hold.settle(5);
    hold.release();
    const settled: number[] = [];
    const dispatched: number[] = [];
    hold.attach({ settle: (id) => settled.push(id), enqueue: (item) => dispatched.push(item.update.update_id) });
    expect(hold.keep({ ...msg(5, 1), redelivered: true })).to.equal(true);
    expect(hold.keep({ ...msg(9, 2), redelivered: true }), 'let go of: the inbox\'s leftover').to.equal(false);
    hold.recovered();
    expect(settled).to.deep.equal([5]);
    expect(dispatched).to.deep.equal([]);
  });

  it('what it keeps counts against the dispatcher\'s capacity: a chat flooding behind a held update makes polling wait', async () => {
    const dispatcher = new Dispatcher({ capacity: 4, concurrency: 1, handle: async () => undefined });
    const hold = new HeldUpdates([5], logger);
    hold.attach({ settle: () => undefined, enqueue: (item) => dispatcher.enqueue(item), kept: (n) => dispatcher.setHeldOutside(n) });
    const pass = (item: DispatchItem): void => void (hold.keep(item) || dispatcher.enqueue(item));
    pass({ ...msg(5, 1), redelivered: true });
    hold.recovered();
    pass(msg(6, 2)); // another chat: queued in the dispatcher (not open yet)
    pass(msg(7, 1));
    pass(msg(8, 1)); // waiting behind 5
    expect(hold.keptCount).to.equal(3);
    expect(dispatcher.spare, 'the held update and the two behind it fill the capacity with the queued one').to.equal(0);
    let roomy = false;
    const waiting = dispatcher.whenSpare(new AbortController().signal, 1).then(() => {
      roomy = true;
    });
    await Promise.resolve();
    expect(roomy).to.equal(false);
    hold.settle(5); // 7 and 8 move to the dispatcher; 5 leaves: one slot free
    await waiting;
    expect(dispatcher.spare).to.equal(1);
    expect(hold.keptCount).to.equal(0);
  });

  it('the old process\'s ledger: settles after the hand-off are reported, not written to the closed inbox', () => {
    const inbox: string[] = [];
    const ledger = new HandOffLedger({ markStarted: (id) => void inbox.push(`start ${id}`), settle: (id) => void inbox.push(`settle ${id}`) });
    ledger.markStarted(1);
    ledger.markStarted(2);
    ledger.settle(1);
    const reported: number[] = [];
    expect(ledger.handOff((id) => reported.push(id))).to.deep.equal([2]);
    ledger.settle(2);
    expect(inbox).to.deep.equal(['start 1', 'start 2', 'settle 1']);
    expect(reported).to.deep.equal([2]);
  });
});
