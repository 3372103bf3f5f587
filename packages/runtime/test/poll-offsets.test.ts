/**
 * The poll loop's offsets against a small Telegram-like server whose behaviour each test steers
 * (issue 14, item 1): Telegram's rule that an offset above an update's id forgets it, a server
 * that restarts and numbers from 1 again, one that hands out a lower id (a new id epoch), a
 * dropped connection, and an update without update_id. The server answers 400 to an offset that
 * is not an integer, as Telegram does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { Api } from 'node-telegram-bot-api';
import { Inbox } from '../src/inbox/inbox.js';
import { Backoff } from '../src/polling/backoff.js';
import { PollLoop } from '../src/polling/poll-loop.js';
import { newToken } from './support/bot-harness.js';
import { RecordingLogger } from './support/recording-logger.js';

/** What one getUpdates asked for: its offset as sent, or undefined when it sent none. */
interface PollRequest {
  offset: string | undefined;
}

/** A queued update and whether it was handed out yet. */
interface Queued {
  update: Record<string, unknown>;
  sent: boolean;
}

class SteeredServer {
  readonly requests: PollRequest[] = [];
  badRequests = 0;
  private queued: Queued[] = [];
  private nextId: number;
  private dropNext = 0;
  private dropAfterUpdates = false;
  /** After `newEpoch`, an offset forgets only updates already handed out, so a lower id survives an old offset. */
  private forgetsOnlyHandedOut = false;
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!req.url?.endsWith('/getUpdates')) return this.answer(res, 200, { ok: true, result: true });
      if (this.dropNext > 0) {
        this.dropNext--;
        req.socket.destroy(); // a connection reset: no answer, nothing confirmed
        return;
      }
      const params = new URLSearchParams(Buffer.concat(chunks).toString());
      const offset = params.get('offset') ?? undefined;
      this.requests.push({ offset });
      if (offset !== undefined && !/^-?\d+$/.test(offset)) {
        this.badRequests++;
        return this.answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid offset' });
      }
      const confirmBelow = Number(offset ?? 0);
      // Telegram's rule: an offset above an update's id confirms (forgets) it. Idless updates go out once.
      this.queued = this.queued.filter((q) => {
        const id = q.update.update_id;
        if (typeof id !== 'number') return !q.sent;
        return id >= confirmBelow || (this.forgetsOnlyHandedOut && !q.sent);
      });
      for (const q of this.queued) q.sent = true;
      if (this.dropAfterUpdates && this.queued.length > 0) {
        this.dropAfterUpdates = false;
        this.dropNext = 1;
      }
      this.answer(res, 200, { ok: true, result: this.queued.map((q) => q.update) });
    });
  });

  constructor(firstId: number) {
    this.nextId = firstId;
  }

  private answer(res: import('node:http').ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  say(text: string): number {
    const id = this.nextId++;
    this.queued.push({ update: { update_id: id, message: { message_id: id, date: 0, chat: { id: 1, type: 'private', first_name: 'T' }, from: { id: 1, is_bot: false, first_name: 'T' }, text } }, sent: false });
    return id;
  }

  /** An update as a proxy or a faulty server might pass it on: without update_id. */
  sayWithoutId(text: string): void {
    this.queued.push({ update: { message: { message_id: 999, date: 0, chat: { id: 1, type: 'private', first_name: 'T' }, text } }, sent: false });
  }

  /** The server restarted: nothing queued, ids from `firstId` again, and an old higher offset forgets them. */
  restart(firstId: number): void {
    this.queued = [];
    this.nextId = firstId;
  }

  /** Telegram after a quiet week: the next ids are chosen anew (here: `firstId`), but an old offset does not forget them. */
  newEpoch(firstId: number): void {
    this.nextId = firstId;
    this.forgetsOnlyHandedOut = true;
  }

  /** The next `n` getUpdates lose their connection before the server reads their offset. */
  drop(n: number): void {
    this.dropNext = n;
  }

  /** The poll after the next answer with updates (the one that would confirm them) loses its connection. */
  dropTheConfirmingPoll(): void {
    this.dropAfterUpdates = true;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('poll loop: offsets and update ids', () => {
  const temp = new TempDirs();
  let server: SteeredServer;
  let loop: PollLoop | undefined;
  let inbox: Inbox | undefined;
  let logger: RecordingLogger;
  let delivered: string[];
  afterEach(async () => {
    await loop?.stop();
    loop = undefined;
    await inbox?.close();
    inbox = undefined;
    await server.close();
    temp.removeAll();
  });

  async function startPolling(firstId: number): Promise<void> {
    server = new SteeredServer(firstId);
    const apiRoot = await server.listen();
    const dir = temp.make('botvisor-poll-offsets-');
    logger = new RecordingLogger();
    delivered = [];
    inbox = await Inbox.open({ botDir: path.join(dir, 'bot'), backupDir: path.join(dir, 'backups'), logger, botId: '1' });
    loop = new PollLoop({
      api: new Api(newToken(), { apiRoot, maxRetries: 0 }),
      inbox,
      logger,
      timeoutSec: 1,
      backoff: new Backoff({ initialMs: 50, maxMs: 100 }),
      deliver: (updates) => delivered.push(...updates.map(({ update }) => (update as { message?: { text?: string } }).message?.text ?? "?")),
      onBadToken: () => expect.fail('no bad token here'),
    });
    void loop.start();
  }

  const offsetsAsked = (): Array<string | undefined> => server.requests.map((r) => r.offset);
  const lastOffset = (): string | undefined => server.requests.at(-1)?.offset;

  it('polls first without the stored offset, then confirms what the server handed out', async () => {
    await startPolling(40);
    server.say('forty');
    await waitFor(() => delivered.length === 1, { what: 'the first update' });
    await waitFor(() => lastOffset() === '41', { what: 'a poll confirming 40' });
    expect(offsetsAsked()[0], 'the first poll sends no offset').to.equal(undefined);
  });

  it('a lower id from the server is a new id epoch: handed out, one WARNING naming both ids, and the offset follows it', async () => {
    await startPolling(40);
    server.say('forty');
    server.say('forty-one');
    await waitFor(() => lastOffset() === '42', { what: 'a poll confirming 40 and 41' });
    server.newEpoch(3); // ids chosen anew, below ours
    server.say('three');
    server.say('four');
    await waitFor(() => delivered.length === 4, { what: 'the two updates of the new epoch' });
    expect(delivered).to.deep.equal(['forty', 'forty-one', 'three', 'four']);
    await waitFor(() => lastOffset() === '5', { what: 'a poll confirming the new epoch' });
    const epochs = logger.at('warning').filter((w) => /update ids went back/.test(w.msg));
    expect(epochs.map((w) => w.meta)).to.deep.equal([{ updateId: 3, storedOffset: 42 }]);
  });

  it('after a dropped connection polls without the offset: a restarted server\'s updates are not erased, and nothing is handed out twice', async () => {
    await startPolling(20);
    // The poll that would confirm 20 and 21 loses its connection: the server hands them out again.
    server.dropTheConfirmingPoll();
    server.say('twenty');
    server.say('twenty-one');
    await waitFor(() => lastOffset() === '22', { what: 'a poll confirming 20 and 21 after the drop' });
    server.say('twenty-two');
    await waitFor(() => delivered.length === 3, { what: 'the update after the drop' });
    await waitFor(() => lastOffset() === '23', { what: 'a poll confirming 22' });
    expect(delivered, 'nothing twice').to.deep.equal(['twenty', 'twenty-one', 'twenty-two']);
    expect(logger.at('info').filter((r) => /handed out again/.test(r.msg)).map((r) => r.meta)).to.deep.equal([{ updateIds: [20, 21] }]);

    // Now the server restarts, numbering from 1; the bot's offset (23) would erase ids 1 and 2.
    server.drop(1);
    server.restart(1);
    server.say('one');
    server.say('two');
    await waitFor(() => delivered.length === 5, { what: 'the restarted server\'s updates' });
    expect(delivered.slice(3)).to.deep.equal(['one', 'two']);
    await waitFor(() => lastOffset() === '3', { what: 'the offset rebased on the restarted server' });
    const afterDrops = offsetsAsked().filter((o) => o === undefined);
    expect(afterDrops.length, 'one poll without offset at start, one after each drop (more while the answers are empty)').to.be.at.least(3);
  });

  it('an update without update_id is skipped with one WARNING; the offset stays, no 400, and polling goes on', async () => {
    await startPolling(10);
    server.say('ten');
    await waitFor(() => lastOffset() === '11', { what: 'a poll confirming 10' });
    server.sayWithoutId('no id');
    await waitFor(() => logger.at('warning').length === 1, { what: 'the WARNING' });
    expect(logger.at('warning')[0]?.msg).to.match(/without a numeric update_id/);
    expect(logger.at('warning')[0]?.meta).to.deep.equal({ keys: ['message'] });
    const polls = server.requests.length;
    await waitFor(() => server.requests.length >= polls + 2, { what: 'two more polls' });
    expect(server.requests.slice(polls - 1).map((r) => r.offset)).to.satisfy((offsets: unknown[]) => offsets.every((o) => o === '11'));
    server.say('eleven');
    await waitFor(() => delivered.length === 2, { what: 'the next update' });
    expect(delivered).to.deep.equal(['ten', 'eleven']);
    await waitFor(() => lastOffset() === '12', { what: 'a poll confirming 11' });
    expect(server.badRequests).to.equal(0);
    expect(logger.at('error')).to.deep.equal([]);
  });
});

describe('poll loop: order of a reply and the next poll', () => {
  it("a handler's first send, a chain of promise steps, goes out before the next getUpdates is made", async () => {
    const events: string[] = [];
    let polls = 0;
    const controller = new AbortController();
    const api = {
      getUpdates: async (): Promise<never[]> => {
        polls++;
        events.push(`poll ${polls}`);
        if (polls === 1) return [{ update_id: 1, message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: 'hi' } }] as never[];
        controller.abort();
        return [];
      },
    };
    const inbox = { offset: 0, accept: async (updates: readonly unknown[]) => updates.map((update) => ({ update, redelivered: false })) };
    const loop = new PollLoop({
      api: api as never,
      inbox: inbox as never,
      logger: new RecordingLogger(),
      deliver: () => {
        // Like ctx.reply through the outbox and the client: many awaited steps, no I/O, up to the socket write.
        void (async () => {
          for (let i = 0; i < 50; i++) await Promise.resolve();
          events.push('reply written');
        })();
      },
      onBadToken: () => expect.fail('no bad token here'),
    });
    const running = loop.start();
    await waitFor(() => polls >= 2, { timeoutMs: 2000, what: 'the second poll' });
    await loop.stop();
    await running;
    expect(events.slice(0, 3)).to.deep.equal(['poll 1', 'reply written', 'poll 2']);
  });
});
