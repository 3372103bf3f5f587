import { expect } from 'chai';
import type { Update } from 'node-telegram-bot-api';
import { createAdmission } from '../src/dispatch/admission.js';
import { Authorizer } from '../src/dispatch/authorize.js';
import { Dispatcher, type DispatchItem } from '../src/dispatch/dispatcher.js';
import { IncomingRateLimit } from '../src/dispatch/incoming-rate-limit.js';
import { priorityMatcher } from '../src/dispatch/priority.js';
import { createUpdatePipeline, HANDLER_ERROR_TEXT } from '../src/dispatch/update-pipeline.js';
import { malformedReason, orderingKeyOf } from '../src/dispatch/update-shape.js';
import { Backoff } from '../src/polling/backoff.js';

let nextId = 1;
function msg(chat: number, text: string, from = chat): Update {
  return { update_id: nextId++, message: { message_id: nextId, date: 0, chat: { id: chat, type: 'private' }, from: { id: from, is_bot: false, first_name: 'u' }, text } } as unknown as Update;
}

/** A handler whose completion the test controls. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('dispatcher', () => {
  it('runs updates of one chat in order, one at a time', async () => {
    const seen: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const d = new Dispatcher({
      handle: async ({ update }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 2));
        seen.push(update.update_id);
        running--;
      },
    });
    d.open();
    const ids = Array.from({ length: 20 }, () => msg(1, 'x')).map((u) => {
      d.enqueue({ update: u, redelivered: false });
      return u.update_id;
    });
    await waitIdle(d);
    expect(seen).to.deep.equal(ids);
    expect(maxRunning).to.equal(1);
  });

  it('runs different chats concurrently, up to the bound', async () => {
    const gates = new Map<number, ReturnType<typeof gate>>();
    const d = new Dispatcher({
      concurrency: 3,
      handle: ({ update }) => {
        const g = gate();
        gates.set(update.update_id, g);
        return g.promise;
      },
    });
    d.open();
    for (let chat = 1; chat <= 5; chat++) d.enqueue({ update: msg(chat, 'x'), redelivered: false });
    expect(d.running).to.equal(3);
    expect(d.queued).to.equal(2);
    for (const g of gates.values()) g.open();
    await new Promise((r) => setTimeout(r, 10));
    expect(gates.size, 'the two queued chats started as slots freed').to.equal(5);
    expect(d.running).to.equal(2);
    for (const g of gates.values()) g.open();
    await waitIdle(d);
  });

  it('holds everything until the barrier opens, then starts it in order', async () => {
    const seen: number[] = [];
    const d = new Dispatcher({ handle: async ({ update }) => void seen.push(update.update_id) });
    const a = msg(1, 'a');
    const b = msg(1, 'b');
    d.enqueue({ update: a, redelivered: true });
    d.enqueue({ update: b, redelivered: false });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).to.deep.equal([]);
    expect(d.queued).to.equal(2);
    d.open();
    await waitIdle(d);
    expect(seen).to.deep.equal([a.update_id, b.update_id]);
  });

  it('lets a priority command skip its chat\'s queue', async () => {
    const slow = gate();
    const seen: string[] = [];
    const d = new Dispatcher({
      isPriority: priorityMatcher(),
      handle: async ({ update }) => {
        const text = (update as { message: { text: string } }).message.text;
        if (text === '/sleep') await slow.promise;
        seen.push(text);
      },
    });
    d.open();
    d.enqueue({ update: msg(1, '/sleep'), redelivered: false });
    d.enqueue({ update: msg(1, '/echo'), redelivered: false });
    d.enqueue({ update: msg(1, '/stop@my_bot 3'), redelivered: false });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).to.deep.equal(['/stop@my_bot 3']);
    slow.open();
    await waitIdle(d);
    expect(seen).to.deep.equal(['/stop@my_bot 3', '/sleep', '/echo']);
  });

  it('stop() starts nothing new and waits for running handlers up to the grace', async () => {
    const g = gate();
    const started: number[] = [];
    const d = new Dispatcher({
      handle: ({ update }) => {
        started.push(update.update_id);
        return g.promise;
      },
    });
    d.open();
    d.enqueue({ update: msg(1, 'a'), redelivered: false });
    d.enqueue({ update: msg(1, 'b'), redelivered: false });
    expect(await d.stop(20)).to.equal(false);
    g.open();
    expect(await d.stop(1000)).to.equal(true);
    expect(started).to.have.length(1);
  });

  async function waitIdle(d: Dispatcher): Promise<void> {
    for (let i = 0; i < 500 && (d.running > 0 || d.queued > 0); i++) await new Promise((r) => setTimeout(r, 5));
    expect(d.running + d.queued).to.equal(0);
  }
});

describe('update shape', () => {
  const table: Array<[string, unknown, string | undefined]> = [
    ['a normal message', { update_id: 1, message: { message_id: 1, chat: { id: 5 }, text: 'hi' } }, undefined],
    ['a callback query', { update_id: 1, callback_query: { id: 'q', from: { id: 5 }, data: 'x' } }, undefined],
    ['null', null, 'not an object'],
    ['no update_id', { message: { message_id: 1, chat: { id: 1 } } }, 'no numeric update_id'],
    ['a message without chat', { update_id: 1, message: { message_id: 1, text: 'hi' } }, 'message has no chat'],
    ['an unknown type', { update_id: 1, hologram: {} }, 'unknown update type "hologram"'],
    ['two payloads', { update_id: 1, message: {}, poll: {} }, 'more than one payload (message, poll)'],
    ['no payload', { update_id: 1 }, 'no payload'],
  ];
  for (const [what, update, reason] of table) {
    it(`${reason === undefined ? 'accepts' : 'refuses'} ${what}`, () => expect(malformedReason(update)).to.equal(reason));
  }

  it('orders by chat, else by user, else globally', () => {
    expect(orderingKeyOf(msg(7, 'x'))).to.equal('chat:7');
    expect(orderingKeyOf({ update_id: 1, inline_query: { id: 'i', from: { id: 9 }, query: '' } } as unknown as Update)).to.equal('user:9');
    expect(orderingKeyOf({ update_id: 1, poll: { id: 'p' } } as unknown as Update)).to.equal('global');
  });
});

describe('limits', () => {
  it('incoming rate limit: 30 per minute, one notice, then silence until the window frees', () => {
    let now = 1_000_000;
    const limit = new IncomingRateLimit([{ windowMs: 60_000, max: 30 }, { windowMs: 3_600_000, max: 500 }], () => now);
    for (let i = 0; i < 30; i++) expect(limit.check(1).allowed).to.equal(true);
    const first = limit.check(1);
    expect(first).to.include({ allowed: false, notify: true });
    expect(limit.check(1)).to.include({ allowed: false, notify: false });
    expect(limit.check(2).allowed, 'other users are not affected').to.equal(true);
    now += 60_001;
    expect(limit.check(1).allowed).to.equal(true);
  });

  it('incoming rate limit: the hourly window holds even when each minute is under its limit', () => {
    let now = 0;
    const limit = new IncomingRateLimit([{ windowMs: 60_000, max: 30 }, { windowMs: 3_600_000, max: 500 }], () => now);
    let allowed = 0;
    for (let minute = 0; minute < 20; minute++) {
      for (let i = 0; i < 30; i++) if (limit.check(1).allowed) allowed++;
      now += 60_000;
    }
    expect(allowed).to.equal(500);
  });

  it('authorizer: allow list, one notice per stranger per quiet period', () => {
    let now = 0;
    const auth = new Authorizer([1001], 600_000, () => now);
    expect(auth.check(1001)).to.deep.equal({ allowed: true });
    expect(auth.check(666)).to.deep.equal({ allowed: false, notify: true });
    expect(auth.check(666)).to.deep.equal({ allowed: false, notify: false });
    now += 600_000;
    expect(auth.check(666)).to.deep.equal({ allowed: false, notify: true });
    expect(new Authorizer(undefined).check(666)).to.deep.equal({ allowed: true });
  });

  it('backoff: 1 s doubling to 30 s with jitter, reset on success', () => {
    const exact = new Backoff({ jitter: 0 });
    expect(Array.from({ length: 7 }, () => exact.next())).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    exact.reset();
    expect(exact.next()).to.equal(1000);
    const low = new Backoff({ random: () => 0 });
    const high = new Backoff({ random: () => 0.999 });
    expect(low.next()).to.equal(800);
    expect(high.next()).to.be.within(1190, 1200);
  });
});

describe('update pipeline', () => {
  function recorder() {
    const lines: Array<{ level: string; msg: string; meta?: Record<string, unknown> }> = [];
    const at = (level: string) => (msg: string, meta?: Record<string, unknown>) => void lines.push({ level, msg, meta });
    const logger = { error: at('error'), warning: at('warning'), info: at('info'), debug: at('debug'), child: () => logger, close: async () => undefined };
    return { logger, lines };
  }

  it('skips a malformed update with a WARNING naming why (never its text), runs no handler, and goes on', async () => {
    const { logger, lines } = recorder();
    const ran: number[] = [];
    const notices: string[] = [];
    const admit = createAdmission({
      logger,
      authorizer: new Authorizer(undefined),
      rateLimit: new IncomingRateLimit(),
      notify: async (_chat, text) => void notices.push(text),
      answerCallback: async (_id, text) => void notices.push(text),
    });
    const pipeline = async (item: DispatchItem): Promise<void> => {
      if (admit(item)) ran.push(item.update.update_id);
    };
    await pipeline({ update: { update_id: 7, message: { message_id: 1, text: 'secret text' } } as unknown as Update, redelivered: false });
    await pipeline({ update: { update_id: 8, hologram: {} } as unknown as Update, redelivered: false });
    await pipeline({ update: msg(5, 'fine'), redelivered: false });
    expect(lines.filter((l) => l.level === 'warning').map((l) => [l.msg, l.meta?.updateId, l.meta?.reason])).to.deep.equal([
      ['skipped a malformed update', 7, 'message has no chat'],
      ['skipped a malformed update', 8, 'unknown update type "hologram"'],
    ]);
    expect(JSON.stringify(lines)).to.not.include('secret text');
    expect(ran).to.have.length(1);
    expect(notices).to.deep.equal([]);
  });

  it('turns a throwing handler into an ERROR with the update id and a short apology to the chat', async () => {
    const { logger, lines } = recorder();
    const notices: string[] = [];
    const pipeline = createUpdatePipeline({
      logger,
      runHandlers: async () => {
        throw new Error('boom');
      },
      notify: async (_chat, text) => void notices.push(text),
    });
    const update = msg(5, 'private words');
    await pipeline({ update, redelivered: true });
    await new Promise((r) => setImmediate(r));
    const error = lines.find((l) => l.level === 'error');
    expect(error?.meta).to.include({ updateId: update.update_id, kind: 'message', redelivered: true });
    expect(JSON.stringify(lines)).to.not.include('private words');
    expect(notices).to.deep.equal([HANDLER_ERROR_TEXT]);
  });
});
