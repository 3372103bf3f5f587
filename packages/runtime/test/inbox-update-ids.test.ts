/**
 * The inbox never drops an update silently (issue 14, item 1): ids below the stored offset that
 * it has not seen are a new id epoch (WARNING, accepted, offset rebased); the same update handed
 * out again is recognised by id and content, also across a restart; another bot's inbox starts
 * fresh; and the memory of recent updates stays bounded. Fingerprints stay what earlier versions
 * stored, so an inbox written before an upgrade still recognises its updates.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import type { Update } from 'node-telegram-bot-api';
import { type AcceptedUpdate, Inbox } from '../src/inbox/inbox.js';
import { canonicalJson, fingerprintOf, RECENT_UPDATES_KEPT } from '../src/inbox/recent-updates.js';
import { RecordingLogger } from './support/recording-logger.js';

const message = (id: number, text = `m${id}`, chat = 10): Update => ({ update_id: id, message: { message_id: id, date: 0, chat: { id: chat, type: 'private' }, text } }) as unknown as Update;
const ids = (updates: readonly AcceptedUpdate[]): number[] => updates.map((u) => u.update.update_id);

describe('inbox: update ids', () => {
  const temp = new TempDirs();
  let logger: RecordingLogger;
  let dir: string;
  const open = (botId = '111'): Promise<Inbox> => Inbox.open({ botDir: path.join(dir, 'bot'), backupDir: path.join(dir, 'backups'), logger, botId });
  beforeEach(() => {
    logger = new RecordingLogger();
    dir = temp.make('botvisor-inbox-ids-');
  });
  afterEach(() => temp.removeAll());

  it('takes ids below the offset that it has not seen as a new epoch: accepted, one WARNING naming both ids, offset rebased', async () => {
    const inbox = await open();
    expect(ids(await inbox.accept([message(33), message(34)]))).to.deep.equal([33, 34]);
    expect(inbox.offset).to.equal(35);
    // The server restarted and numbers from 1 again.
    expect(ids(await inbox.accept([message(1, 'new one'), message(2, 'new two')]))).to.deep.equal([1, 2]);
    expect(inbox.offset, 'the next poll confirms the new epoch, not the old offset').to.equal(3);
    const warnings = logger.at('warning');
    expect(warnings).to.have.length(1);
    expect(warnings[0]?.msg).to.match(/update ids went back/);
    expect(warnings[0]?.meta).to.deep.equal({ updateId: 1, storedOffset: 35 });
    // The next update of the new epoch is ordinary again.
    expect(ids(await inbox.accept([message(3, 'new three')]))).to.deep.equal([3]);
    expect(logger.at('warning')).to.have.length(1);
    await inbox.close();
  });

  it('a new epoch reusing ids the inbox remembers is still new: same id, other content', async () => {
    const inbox = await open();
    await inbox.accept([message(1), message(2), message(3)]);
    for (const id of [1, 2, 3]) inbox.settle(id);
    expect(ids(await inbox.accept([message(1, 'after the restart'), message(2, 'and again')]))).to.deep.equal([1, 2]);
    expect(logger.at('warning').map((w) => w.meta)).to.deep.equal([{ updateId: 1, storedOffset: 4 }]);
    await inbox.close();
  });

  it('skips the same update handed out again, pending or settled, also after a restart (INFO, not silent), and never accepts a pending one twice', async () => {
    let inbox = await open();
    await inbox.accept([message(33), message(34)]);
    inbox.settle(33); // 34 stays pending
    expect(ids(await inbox.accept([message(33), message(34), message(35)]))).to.deep.equal([35]);
    expect(inbox.pendingCount).to.equal(2); // 34 and 35, not 34 twice
    await inbox.close();

    inbox = await open();
    expect(ids(await inbox.accept([message(33), message(34), message(35), message(36)])), 'after a restart').to.deep.equal([36]);
    expect(inbox.offset).to.equal(37);
    expect(logger.at('warning')).to.deep.equal([]);
    expect(logger.at('info').map((r) => r.meta)).to.deep.equal([{ updateIds: [33, 34] }, { updateIds: [33, 34, 35] }]);
    await inbox.close();
  });

  it(`remembers the last ${RECENT_UPDATES_KEPT} accepted updates, no more`, async () => {
    const inbox = await open();
    const batches = Math.ceil((RECENT_UPDATES_KEPT + 50) / 100);
    for (let b = 0; b < batches; b++) {
      const batch = Array.from({ length: 100 }, (_, i) => message(b * 100 + i + 1));
      await inbox.accept(batch);
      for (const u of batch) inbox.settle(u.update_id);
    }
    await inbox.close();
    const stored = JSON.parse(readFileSync(path.join(dir, 'bot', 'inbox.json'), 'utf8')) as { recent: unknown[] };
    expect(stored.recent).to.have.length(RECENT_UPDATES_KEPT);
  });

  it('opened for another bot (the token is another bot\'s), starts fresh with a WARNING naming both bot ids', async () => {
    let inbox = await open('111');
    await inbox.accept([message(33), message(34)]);
    inbox.settle(33);
    await inbox.close();

    inbox = await open('222');
    expect(inbox.offset).to.equal(0);
    expect(inbox.pendingCount).to.equal(0);
    const warning = logger.at('warning')[0];
    expect(warning?.msg).to.match(/another Telegram bot/);
    expect(warning?.meta).to.deep.equal({ storedBotId: '111', botId: '222', storedOffset: 35, droppedUpdateIds: [34] });
    // The new bot's updates, numbered from 1, get through.
    expect(ids(await inbox.accept([message(1), message(2)]))).to.deep.equal([1, 2]);
    expect(logger.at('warning')).to.have.length(1);
    await inbox.close();
    expect((JSON.parse(readFileSync(path.join(dir, 'bot', 'inbox.json'), 'utf8')) as { botId: string }).botId).to.equal('222');

    // The same bot again (a revoked and renewed token keeps the id): nothing is reset.
    inbox = await open('222');
    expect(inbox.offset).to.equal(3);
    expect(inbox.pendingCount).to.equal(2);
    await inbox.close();
  });

  it('an inbox written before the bot id was stored is adopted as it is', async () => {
    const file = path.join(dir, 'bot', 'inbox.json');
    let inbox = await open('111');
    await inbox.close();
    writeFileSync(file, JSON.stringify({ offset: 35, pending: [{ update: message(34), receivedAt: new Date().toISOString(), started: false, crashes: 0 }], cleanShutdown: true }));
    inbox = await open('333');
    expect(inbox.offset).to.equal(35);
    expect(inbox.pendingCount).to.equal(1);
    expect(ids(await inbox.accept([message(34), message(35)])), 'the pending one is known by its id').to.deep.equal([35]);
    expect(logger.at('warning')).to.deep.equal([]);
    await inbox.close();
  });
  it('fingerprints as the sorted-copy JSON did (what inbox files hold), with keys in any order and any JSON value', () => {
    // The earlier implementation, kept here as the reference: a deep copy with sorted keys, stringified.
    const sortedCopy = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sortedCopy);
      if (typeof v !== 'object' || v === null) return v;
      const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([k, x]) => [k, sortedCopy(x)]));
    };
    const reference = (v: unknown): string => createHash('sha256').update(JSON.stringify(sortedCopy(v))).digest('hex').slice(0, 16);
    const samples: unknown[] = [
      message(7, 'héllo "quoted" \\ \n', -100),
      { message: { text: 'x', chat: { type: 'private', id: 5 }, entities: [{ type: 'bot_command', offset: 0, length: 5 }], date: 1 }, update_id: 9 },
      { update_id: 1, callback_query: { id: 'q', data: null, from: { id: 2, is_bot: false }, extra: [1, 'two', true, null, { b: 1, a: [] }] } },
      { update_id: 2, weird: { 10: 'ten', 9: 'nine', b: 'b', a: 'a' }, n: -0.5e-7, big: 1e21 },
      [],
      'text',
      0,
      null,
    ];
    for (const sample of samples) {
      expect(canonicalJson(sample)).to.equal(JSON.stringify(sortedCopy(sample)));
      expect(fingerprintOf(sample)).to.equal(reference(sample));
    }
    expect(fingerprintOf({ b: 1, a: 2 })).to.equal(fingerprintOf({ a: 2, b: 1 }));
    // A fixed value: the fingerprint of this update must never change across versions.
    expect(fingerprintOf(message(1))).to.equal('7ceb398c5fd4a61f');
  });
});
