/**
 * The inbox's journal (issue 18): an accepted batch is durable when `accept` resolves, settles and
 * starts reach the disk without a rewrite of inbox.json, and what a crash leaves on disk — the
 * snapshot plus the journal, with a torn last line or beside a corrupt snapshot — opens as the
 * state the bot had. A crash is simulated by copying the bot's folder while the inbox is open:
 * that copy is exactly what a kill -9 at that moment would leave (the journal's appends are in the
 * page cache before the next tick).
 */
import { appendFileSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import type { Update } from 'node-telegram-bot-api';
import { Inbox } from '../src/inbox/inbox.js';
import { COMPACT_AFTER_RECORDS } from '../src/inbox/inbox-journal.js';
import { RecordingLogger } from './support/recording-logger.js';

const message = (id: number, chat = 10): Update => ({ update_id: id, message: { message_id: id, date: 0, chat: { id: chat, type: 'private' }, text: `m${id}` } }) as unknown as Update;
const byChat = (u: Update): string => String((u as { message?: { chat: { id: number } } }).message?.chat.id);
const journalFiles = (botDir: string): string[] => readdirSync(botDir).filter((n) => /^inbox\.json\.journal\.\d+\.jsonl$/.test(n));

describe('inbox journal', () => {
  const temp = new TempDirs();
  let logger: RecordingLogger;
  let dir: string;
  const optionsIn = (base: string) => ({ botDir: path.join(base, 'bot'), backupDir: path.join(base, 'backups'), logger, botId: '42' });
  /** What a kill -9 now would leave on disk, as a second installation. */
  const crashCopy = async (): Promise<string> => {
    await tick(); // the journal writes its appends to the page cache at the end of the tick
    const copy = temp.make('botvisor-inbox-crash-');
    cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith('.lock') });
    return copy;
  };
  beforeEach(() => {
    logger = new RecordingLogger();
    dir = temp.make('botvisor-inbox-journal-');
  });
  afterEach(() => temp.removeAll());

  it('a settle does not rewrite inbox.json; a crash copy opens with the settled updates gone and the rest redelivered', async () => {
    const inbox = await Inbox.open(optionsIn(dir));
    await inbox.recover(byChat);
    const snapshot = path.join(dir, 'bot', 'inbox.json');
    const before = statSync(snapshot).mtimeMs;
    const text = readFileSync(snapshot, 'utf8');
    await inbox.accept([message(1, 10), message(2, 20), message(3, 30)]);
    inbox.markStarted(1);
    inbox.settle(1);
    inbox.markStarted(2);
    expect(readFileSync(snapshot, 'utf8'), 'inbox.json untouched').to.equal(text);
    expect(statSync(snapshot).mtimeMs).to.equal(before);

    const copy = await crashCopy();
    await inbox.close();
    const after = await Inbox.open(optionsIn(copy));
    expect(after.offset).to.equal(4);
    const recovered = await after.recover(byChat);
    expect(recovered.updates.map((u) => [u.update.update_id, u.redelivered])).to.deep.equal([
      [2, true],
      [3, true],
    ]);
    await after.close();
  });

  it('ignores a torn last line with a WARNING and replays the lines before it', async () => {
    const inbox = await Inbox.open(optionsIn(dir));
    await inbox.recover(byChat);
    await inbox.accept([message(1), message(2)]);
    inbox.settle(1);
    const copy = await crashCopy();
    await inbox.close();
    const [segment] = journalFiles(path.join(copy, 'bot'));
    appendFileSync(path.join(copy, 'bot', segment as string), '{"n":9,"settled":2');

    const after = await Inbox.open(optionsIn(copy));
    expect((await after.recover(byChat)).updates.map((u) => u.update.update_id)).to.deep.equal([2]);
    await after.close();
    expect(logger.at('warning').map((r) => r.msg)).to.include('ignoring the torn last line of a journal (the process was killed while appending it)');
    expect(logger.at('error')).to.deep.equal([]);
  });

  it('a corrupt inbox.json is restored from its backup and the journal since that backup is replayed onto it', async () => {
    const inbox = await Inbox.open(optionsIn(dir));
    await inbox.recover(byChat);
    await inbox.accept([message(1)]);
    // A backup now holds update 1, pending; its journalSeq says which journal records it holds.
    await (inbox as unknown as { store: { backupNow(): Promise<unknown> } }).store.backupNow();
    await inbox.accept([message(2), message(3)]);
    inbox.settle(1);
    inbox.settle(2);
    const copy = await crashCopy();
    await inbox.close();
    writeFileSync(path.join(copy, 'bot', 'inbox.json'), '{"offset": 3, "pend');

    const after = await Inbox.open(optionsIn(copy));
    expect(after.offset).to.equal(4);
    expect((await after.recover(byChat)).updates.map((u) => [u.update.update_id, u.redelivered])).to.deep.equal([[3, true]]);
    await after.close();
    expect(logger.at('error').map((r) => r.msg)).to.include('store file was corrupt: moved it aside and restored the newest valid backup');
  });

  it('a hand-over closes without rewriting inbox.json; the next opener replays the journal as a clean close and deletes it once its snapshot is written', async () => {
    const botDir = path.join(dir, 'bot');
    const inbox = await Inbox.open(optionsIn(dir));
    await inbox.recover(byChat);
    await inbox.accept([message(1, 10), message(2, 20), message(3, 30)]);
    inbox.markStarted(1);
    inbox.settle(1);
    inbox.markStarted(2); // still in a handler of the old process at the hand-over
    const snapshot = path.join(botDir, 'inbox.json');
    const text = readFileSync(snapshot, 'utf8');
    await inbox.handOver();
    expect(readFileSync(snapshot, 'utf8'), 'no rewrite of inbox.json at the hand-over').to.equal(text);
    const segments = journalFiles(botDir);
    expect(segments).to.have.length(1);

    const next = await Inbox.open(optionsIn(dir));
    expect(next.offset).to.equal(4);
    expect(journalFiles(botDir), 'the replayed segment stays until a snapshot holds it').to.include(segments[0]);
    // What a kill -9 of the new process before its first snapshot leaves still opens as the same state.
    const copy = await crashCopy();
    const recovered = await next.recover(byChat);
    // A clean close: only the update a handler had started is marked.
    expect(recovered.updates.map((u) => [u.update.update_id, u.redelivered])).to.deep.equal([
      [2, true],
      [3, false],
    ]);
    expect(journalFiles(botDir), 'folded into the snapshot recover wrote').to.not.include(segments[0]);
    await next.close();
    expect(journalFiles(botDir)).to.deep.equal([]);

    const again = await Inbox.open(optionsIn(copy));
    expect(again.offset).to.equal(4);
    expect(again.pendingCount).to.equal(2);
    await again.close();
    expect(logger.at('error')).to.deep.equal([]);
  });

  it(`compacts the journal into inbox.json after ${COMPACT_AFTER_RECORDS} records, keeping one segment, and deletes it at close`, async function () {
    this.timeout(60_000);
    const botDir = path.join(dir, 'bot');
    const inbox = await Inbox.open(optionsIn(dir));
    await inbox.recover(byChat);
    let id = 1;
    while (id <= COMPACT_AFTER_RECORDS) {
      const batch = Array.from({ length: 100 }, () => message(id++));
      await inbox.accept(batch);
      for (const u of batch) inbox.settle(u.update_id);
    }
    await inbox.flush();
    await tick();
    const stored = JSON.parse(readFileSync(path.join(botDir, 'inbox.json'), 'utf8')) as { journalSeq: number; offset: number };
    expect(stored.journalSeq, 'the snapshot was rewritten by a compaction').to.be.above(COMPACT_AFTER_RECORDS - 1);
    expect(journalFiles(botDir)).to.have.length(1);

    const copy = await crashCopy();
    const after = await Inbox.open(optionsIn(copy));
    expect(after.offset).to.equal(id);
    expect(after.pendingCount).to.equal(0);
    await after.close();

    await inbox.close();
    expect(journalFiles(botDir)).to.deep.equal([]);
    expect(JSON.parse(readFileSync(path.join(botDir, 'inbox.json'), 'utf8'))).to.include({ offset: id, cleanShutdown: true });
  });
});
