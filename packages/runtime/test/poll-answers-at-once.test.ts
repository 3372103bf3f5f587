/**
 * The polling loop against a server that ignores the long-poll timeout and the offset and answers
 * at once (as telegram-test-api does): it must not become a busy loop of HTTP requests, and it
 * must still hand out every update the server gives it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { Api, type Update } from 'node-telegram-bot-api';
import { Inbox } from '../src/inbox/inbox.js';
import { MIN_EMPTY_POLL_INTERVAL_MS } from '../src/polling/empty-answer-pace.js';
import { PollLoop } from '../src/polling/poll-loop.js';
import { newToken } from './support/bot-harness.js';
import { RecordingLogger } from './support/recording-logger.js';

/** getUpdates answered at once with whatever is queued; each update handed out once, offsets ignored. */
class ImpatientServer {
  readonly queued: Update[] = [];
  polls = 0;
  private nextId = 1;
  private readonly server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/getUpdates')) this.polls++;
      const result = req.url?.endsWith('/getUpdates') ? this.queued.splice(0) : true;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true, result }));
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  say(text: string): void {
    const id = this.nextId++;
    this.queued.push({ update_id: id, message: { message_id: id, date: 0, chat: { id: 1, type: 'private', first_name: 'T' }, from: { id: 1, is_bot: false, first_name: 'T' }, text } } as Update);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('polling a server that answers at once', () => {
  const temp = new TempDirs();
  let server: ImpatientServer;
  let loop: PollLoop | undefined;
  let inbox: Inbox | undefined;
  afterEach(async () => {
    await loop?.stop();
    await inbox?.close();
    await server.close();
    temp.removeAll();
  });

  it(`keeps empty polls at least ${MIN_EMPTY_POLL_INTERVAL_MS} ms apart and loses no update`, async () => {
    server = new ImpatientServer();
    const apiRoot = await server.listen();
    const dir = temp.make('botvisor-poll-');
    const logger = new RecordingLogger();
    inbox = await Inbox.open({ botDir: path.join(dir, 'bot'), backupDir: path.join(dir, 'backups'), logger, botId: '1' });
    const delivered: string[] = [];
    loop = new PollLoop({
      api: new Api(newToken(), { apiRoot, maxRetries: 0 }),
      inbox,
      logger,
      timeoutSec: 30,
      deliver: (updates) => delivered.push(...updates.map(({ update }) => (update as { message?: { text?: string } }).message?.text ?? "?")),
      onBadToken: () => expect.fail('no bad token here'),
    });
    void loop.start();

    const started = Date.now();
    await waitFor(() => Date.now() - started >= 2000, { timeoutMs: 5000, intervalMs: 50, what: '2 s of polling' });
    // A busy loop makes hundreds of requests in 2 s; paced, about four.
    expect(server.polls, 'getUpdates calls in 2 s').to.be.within(2, 8);

    for (const text of ['one', 'two', 'three']) server.say(text);
    await waitFor(() => delivered.length >= 3, { timeoutMs: 5000, what: 'the three updates' });
    server.say('four');
    await waitFor(() => delivered.length >= 4, { timeoutMs: 5000, what: 'the fourth update' });
    expect(delivered).to.deep.equal(['one', 'two', 'three', 'four']);
    expect(logger.at('error').concat(logger.at('warning'))).to.deep.equal([]);
  });
});
