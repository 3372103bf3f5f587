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
import { Inbox } from '../src/inbox/inbox.js';

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
});
