
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { POISON_UPDATE_TEXT } from '../src/index.js';
import { install, newToken, type Record, startBot } from './support/bot-harness.js';

describe('durable inbox across kill -9', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  it('500 updates across 50 chats, kill -9 mid-way, restart: all handled, none twice unless marked redelivered, order kept per chat', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    const sent = new Map<number, number>(); // update id → chat
    const first = startBot(bed.tracker, inst);
    await first.ready();
    for (let i = 0; i < 500; i++) {
      const chat = 1000 + (i % 50);
      const { update_id } = bed.sim.users.sendMessage(token, { user: { id: chat, first_name: `u${chat}` }, text: `n${i}` });
      sent.set(update_id as number, chat);
    }
    await waitFor(() => first.records().length >= 120, { what: 'a good part of the updates to be handled' });
    first.child.kill('SIGKILL');
    await first.exited();
    const beforeCrash = first.records().length;
    expect(beforeCrash).to.be.below(500);

    const second = startBot(bed.tracker, inst);
    await second.ready();
    await waitFor(() => new Set(second.records().map((r) => r.id)).size === 500, { timeoutMs: 60_000, what: 'all 500 updates handled' });

    const records = second.records();
    const byId = new Map<number, Record[]>();
    for (const r of records) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    expect([...byId.keys()].sort((a, b) => a - b)).to.deep.equal([...sent.keys()].sort((a, b) => a - b));
    for (const [id, handled] of byId) {
      expect(handled[0]?.chat, `update ${id} went to its chat`).to.equal(sent.get(id));
      for (const again of handled.slice(1)) expect(again.redelivered, `update ${id} handled twice without the redelivered mark`).to.equal(true);
    }
    // Order per chat: the first handling of each update follows update_id order within its chat.
    const seen = new Set<number>();
    const lastPerChat = new Map<number, number>();
    for (const r of records) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      expect(r.id, `chat ${r.chat} out of order`).to.be.above(lastPerChat.get(r.chat) ?? -1);
      lastPerChat.set(r.chat, r.id);
    }
    const recoveredLog = second.logLines().find((l) => l.msg === 'handing out updates left in the inbox by the previous run');
    expect(recoveredLog?.level).to.equal('warning');
  });
});

describe('poison updates', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  it('an update that kills the bot every time is skipped after two crashes, and its sender is told', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    const user = { id: 1001, first_name: 'Ada' };
    let bot = startBot(bed.tracker, inst);
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user, command: 'die' });
    expect(await bot.exited()).to.equal('SIGKILL');
    bot = startBot(bed.tracker, inst);
    expect(await bot.exited(), 'redelivered once, it kills the bot again').to.equal('SIGKILL');
    bot = startBot(bed.tracker, inst);
    await bot.ready();
    const notice = await bed.sim.client.waitForMessage(token, user.id, { after: cursor });
    expect(notice.text).to.equal(POISON_UPDATE_TEXT);
    const skipped = bot.logLines().find((l) => l.msg.startsWith('skipped a poison update'));
    expect(skipped).to.include({ level: 'error', crashes: 2 });
    const echo = bed.sim.users.sendCommand(token, { user, command: 'echo', args: 'fine' });
    expect((await bed.sim.client.waitForMessage(token, user.id, { after: echo.cursor })).text).to.equal('echo: fine');
  });
});

describe('409 Conflict from a rogue poller', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  it('logs WARNINGs (never ERROR), keeps answering the supervisor, and polls normally once the rogue stops', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    // The rogue: another process polling the same token, as in the field reports.
    const until = Date.now() + 3000;
    let rogueCalls = 0;
    while (Date.now() < until) {
      rogueCalls++;
      await fetch(`${bed.sim.url}/bot${token}/getUpdates?timeout=1`).then((r) => r.text());
    }
    expect((await bed.sim.client.stats(token)).conflicts).to.be.at.least(1);
    bot.child.send({ type: 'ping', seq: 1 });
    await waitFor(() => bot.messages.some((m) => m.type === 'pong'), { what: 'a pong during the conflict' });
    const conflictEvents = bot.messages.filter((m) => m.type === 'event' && m.event.kind === 'conflict');
    expect(conflictEvents.length).to.be.at.least(1);

    const { cursor } = bed.sim.users.sendCommand(token, { user: { id: 1001, first_name: 'Ada' }, command: 'echo', args: 'after' });
    const reply = await bed.sim.client.waitForMessage(token, 1001, { after: cursor, timeoutMs: 40_000 });
    expect(reply.text).to.equal('echo: after');
    const lines = bot.logLines();
    const conflicts = lines.filter((l) => l.msg.startsWith('409 Conflict'));
    expect(conflicts.length).to.be.at.least(1);
    expect(conflicts.every((l) => l.level === 'warning')).to.equal(true);
    expect(lines.filter((l) => l.level === 'error')).to.deep.equal([]);
    expect(rogueCalls).to.be.above(0);
  });
});
