/**
 * The pipeline's joints (pipeline.ts): backpressure from the dispatcher to the poll loop, the
 * inbox's start/settle books kept by the dispatcher, and `redelivered` carried from the
 * dispatched item onto `ctx` by the hand-over step.
 */
import { expect } from 'chai';
import { Bot, type Update } from 'node-telegram-bot-api';
import { Dispatcher, type DispatchItem } from '../src/dispatch/dispatcher.js';
import { handOverTo } from '../src/dispatch/hand-over.js';
import { PollLoop } from '../src/polling/poll-loop.js';
import { recordingLogger } from './support/record-logger.js';

let nextId = 1;
function msg(chat: number, text = 'x'): Update {
  const id = nextId++;
  return { update_id: id, message: { message_id: id, date: 0, chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: 'u' }, text } } as unknown as Update;
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('pipeline: backpressure', () => {
  it('the dispatcher counts what it holds against its capacity and wakes a waiter as a handler settles', async () => {
    const gates = new Map<number, ReturnType<typeof gate>>();
    const d = new Dispatcher({
      concurrency: 2,
      capacity: 3,
      handle: ({ update }) => {
        const g = gate();
        gates.set(update.update_id, g);
        return g.promise;
      },
    });
    expect(d.spare).to.equal(3);
    for (const chat of [1, 2, 3]) d.enqueue({ update: msg(chat), redelivered: false });
    expect(d.spare, 'three held behind the closed barrier').to.equal(0);
    let woke = false;
    const waiting = d.whenSpare().then(() => {
      woke = true;
    });
    d.open();
    await tick();
    expect([d.running, d.queued, woke]).to.deep.equal([2, 1, false]);
    gates.values().next().value?.open();
    await waiting;
    expect(d.spare).to.equal(1);
    for (const g of gates.values()) g.open();
    await tick();
    for (const g of gates.values()) g.open();
    await tick();
    expect(d.spare).to.equal(3);
  });

  it('whenSpare(signal, wanted) waits for that much room, capped at the capacity', async () => {
    const gates: Array<ReturnType<typeof gate>> = [];
    const d = new Dispatcher({
      concurrency: 4,
      capacity: 4,
      handle: () => {
        const g = gate();
        gates.push(g);
        return g.promise;
      },
    });
    d.open();
    for (const chat of [1, 2, 3, 4]) d.enqueue({ update: msg(chat), redelivered: false });
    let woke = false;
    const waiting = d.whenSpare(undefined, 100).then(() => {
      woke = true;
    });
    for (const g of gates.slice(0, 3)) g.open();
    await tick();
    expect([d.spare, woke], 'three free of four').to.deep.equal([3, false]);
    gates[3]?.open();
    await waiting;
    expect(d.spare).to.equal(4);
  });

  it('whenSpare gives up when its signal aborts', async () => {
    const d = new Dispatcher({ capacity: 1, concurrency: 1, handle: async () => undefined });
    d.enqueue({ update: msg(1), redelivered: false });
    const controller = new AbortController();
    const waiting = d.whenSpare(controller.signal);
    controller.abort();
    await waiting;
    expect(d.spare).to.equal(0);
  });

  it('the poll loop asks getUpdates for min(100, spare) and sends no request while the dispatcher is full', async () => {
    const { logger } = recordingLogger();
    const gates: Array<ReturnType<typeof gate>> = [];
    const d = new Dispatcher({
      concurrency: 100,
      capacity: 150,
      handle: () => {
        const g = gate();
        gates.push(g);
        return g.promise;
      },
    });
    const limits: number[] = [];
    let offset = 0;
    const loop = new PollLoop({
      api: {
        getUpdates: async (params) => {
          limits.push(params?.limit ?? -1);
          return Array.from({ length: params?.limit ?? 0 }, (_, i) => msg(1000 + i)); // as many as asked, every chat its own
        },
      },
      inbox: {
        get offset() {
          return offset;
        },
        accept: async (updates) => {
          offset = Math.max(offset, ...updates.map((u) => u.update_id + 1));
          return updates.map((update) => ({ update, redelivered: false }));
        },
      },
      logger,
      deliver: (updates) => {
        for (const item of updates) d.enqueue(item);
      },
      backpressure: d,
      onBadToken: () => undefined,
    });
    const running = loop.start();
    await tick(30);
    expect(limits, 'a full batch, then what is left of the capacity, then nothing').to.deep.equal([100, 50]);
    expect(d.spare).to.equal(0);
    d.open();
    await tick();
    for (const g of gates.splice(0, 7)) g.open();
    await tick(30);
    expect(limits, 'seven free slots: no request for seven updates (each would cost an fsync)').to.deep.equal([100, 50]);
    for (const g of gates.splice(0, 93)) g.open();
    await tick(30);
    expect(limits, 'room for a batch again: one request for it').to.deep.equal([100, 50, 100]);
    await loop.stop();
    await running;
    for (const g of gates) g.open();
  });
});

describe('pipeline: the inbox books kept by the dispatcher', () => {
  it('marks an update started as its handler begins and settles it after, in that order', async () => {
    const books: string[] = [];
    const d = new Dispatcher({
      handle: async ({ update }) => void books.push(`handle ${update.update_id}`),
      ledger: { markStarted: (id) => void books.push(`started ${id}`), settle: (id) => void books.push(`settled ${id}`) },
    });
    const u = msg(1);
    d.enqueue({ update: u, redelivered: false });
    expect(books, 'nothing before the barrier opens').to.deep.equal([]);
    d.open();
    await tick();
    expect(books).to.deep.equal([`started ${u.update_id}`, `handle ${u.update_id}`, `settled ${u.update_id}`]);
  });
});

describe('pipeline: hand-over to bot.handleUpdate', () => {
  it('sets ctx.redelivered from each dispatched item, also for items handled at once', async () => {
    const bot = new Bot('123:hand-over-test');
    const handOver = handOverTo(bot);
    const seen = new Map<number, [boolean | undefined, unknown]>();
    bot.use(async (ctx) => {
      await tick(Math.random() * 5);
      seen.set(ctx.update.update_id, [ctx.redelivered, ctx.state.redelivered]);
    });
    const items: DispatchItem[] = Array.from({ length: 10 }, (_, i) => ({ update: msg(i), redelivered: i % 3 === 0 }));
    await Promise.all(items.map((item) => handOver(item)));
    for (const item of items) expect(seen.get(item.update.update_id), `update ${item.update.update_id}`).to.deep.equal([item.redelivered, item.redelivered]);
    const own = msg(99);
    await bot.handleUpdate(own);
    expect(seen.get(own.update_id), "the bot's own handleUpdate call: not redelivered").to.deep.equal([false, false]);
  });

  it('passes a handler error on to the pipeline error boundary', async () => {
    const bot = new Bot('123:hand-over-test');
    const handOver = handOverTo(bot);
    bot.use(() => {
      throw new Error('handler boom');
    });
    let caught: unknown;
    await handOver({ update: msg(1), redelivered: false }).catch((err: unknown) => {
      caught = err;
    });
    expect(String(caught)).to.include('handler boom');
  });
});
