/**
 * The inbox restored from a backup after its file was corrupted: the backup is older than what was
 * handled since, so every update it still lists must be handed out marked `redelivered`, even if
 * the backup was taken after a clean shutdown (found while writing the chaos soak, issue 10).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, openStore } from '@botvisor/core';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import type { Update } from 'node-telegram-bot-api';
import { type AcceptedUpdate, Inbox } from '../src/inbox/inbox.js';

const logger = createLogger({ proc: 'inbox-restore-test', console: 'never' });
const message = (id: number, chat: number): Update => ({ update_id: id, message: { message_id: id, date: 0, chat: { id: chat, type: 'private' }, text: `m${id}` } }) as unknown as Update;
const byChat = (u: Update): string => String((u as { message?: { chat: { id: number } } }).message?.chat.id);

describe('inbox restored from a backup', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('marks every update of a restored backup redelivered, though the backup was taken after a clean shutdown', async () => {
    const dir = temp.make();
    const options = { botDir: path.join(dir, 'bot'), backupDir: path.join(dir, 'backups'), logger, botId: '42' };

    // Run 1 accepts two updates and stops cleanly before handling them.
    let inbox = await Inbox.open(options);
    await inbox.recover(byChat);
    await inbox.accept([message(1, 10), message(2, 20)]);
    await inbox.close();

    // A backup of that state: clean shutdown, two unstarted updates.
    const raw = await openStore<object>({ file: path.join(options.botDir, 'inbox.json'), defaults: () => ({ offset: 0, pending: [], cleanShutdown: true }), backupDir: options.backupDir, backupIntervalMs: 0, logger, role: 'bot' });
    await raw.backupNow();
    await raw.close();

    // Run 2 hands both out (not redelivered: nothing had started) and handles them.
    inbox = await Inbox.open(options);
    const second = await inbox.recover(byChat);
    expect(second.updates.map((u) => [u.update.update_id, u.redelivered])).to.deep.equal([
      [1, false],
      [2, false],
    ]);
    inbox.settle(1);
    inbox.settle(2);
    await inbox.close();

    // The file is corrupted; run 3 gets the backup back, which still lists both.
    writeFileSync(path.join(options.botDir, 'inbox.json'), '{"offset": 3, "pend');
    inbox = await Inbox.open(options);
    const third = await inbox.recover(byChat);
    await inbox.close();
    expect(third.updates.map((u) => [u.update.update_id, u.redelivered])).to.deep.equal([
      [1, true],
      [2, true],
    ]);
  });

  it('marks the first updates after a restore redelivered: the lost file may have handled the last batch, which the server hands out again', async () => {
    const dir = temp.make();
    const options = { botDir: path.join(dir, 'bot'), backupDir: path.join(dir, 'backups'), logger, botId: '42' };

    // A backup taken early: update 1 handled.
    let inbox = await Inbox.open(options);
    await inbox.recover(byChat);
    await inbox.accept([message(1, 10)]);
    inbox.settle(1);
    await inbox.close();
    const raw = await openStore<object>({ file: path.join(options.botDir, 'inbox.json'), defaults: () => ({ offset: 0, pending: [], cleanShutdown: true }), backupDir: options.backupDir, backupIntervalMs: 0, logger, role: 'bot' });
    await raw.backupNow();
    await raw.close();

    // Later the run accepts and handles 2 and 3 (their offset not confirmed yet); then the file is truncated.
    inbox = await Inbox.open(options);
    await inbox.recover(byChat);
    await inbox.accept([message(2, 10), message(3, 20)]);
    inbox.settle(2);
    inbox.settle(3);
    await inbox.close();
    writeFileSync(path.join(options.botDir, 'inbox.json'), '{"botId":"42","offset":4,"pen');

    // The next run has only the backup; the server hands out 2 and 3 again (never confirmed), then a new 4.
    inbox = await Inbox.open(options);
    await inbox.recover(byChat);
    const marks = (items: AcceptedUpdate[]) => items.map((u) => [u.update.update_id, u.redelivered]);
    expect(marks(await inbox.accept([message(1, 10), message(2, 10), message(3, 20)])), 'the handled 1 is known from the backup; 2 and 3 may have run').to.deep.equal([
      [2, true],
      [3, true],
    ]);
    await inbox.close();

    // A run that opens its own intact file marks nothing.
    inbox = await Inbox.open(options);
    await inbox.recover(byChat);
    expect(marks(await inbox.accept([message(4, 10)]))).to.deep.equal([[4, false]]);
    await inbox.close();
  });
});
