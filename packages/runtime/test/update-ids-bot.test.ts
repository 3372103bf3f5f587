/**
 * No silent drop of an update (issue 14, item 1), with real bot processes and the simulator: a
 * simulator that numbers from 1 again (restarted on the same port, the bot running or not) and a
 * bot name pointed at another bot's token. Before the fix each of these left the bot deaf: the
 * inbox dropped every id below its stored offset, and the stored offset erased the new ids.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { readStoredInbox } from '../src/inbox/stored-inbox.js';
import { type BotUnderTest, install, newToken, startBot } from './support/bot-harness.js';

const USER = { id: 1001, first_name: 'Ada' };

/** Sends `/echo <word>` for each word and waits for every answer. */
async function echoAll(sim: SimHandle, token: string, words: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const word of words) {
    const { cursor, update_id } = sim.users.sendCommand(token, { user: USER, command: 'echo', args: word });
    ids.push(update_id as number);
    const reply = await sim.client.waitForMessage(token, USER.id, { after: cursor, timeoutMs: 15_000 });
    expect(reply.text).to.equal(`echo: ${word}`);
  }
  return ids;
}

/** Sends them all first, then waits until each is answered (in any order). */
async function sendThenExpectAnswers(sim: SimHandle, token: string, words: string[]): Promise<number[]> {
  const sent = words.map((word) => sim.users.sendCommand(token, { user: USER, command: 'echo', args: word }));
  const first = sent[0]?.cursor ?? 0;
  const answered = await waitFor(
    async () => {
      const texts = await sentTexts(sim, token, first);
      return words.every((w) => texts.includes(`echo: ${w}`)) ? texts : undefined;
    },
    { timeoutMs: 20_000, what: `answers to ${words.join(', ')}` },
  );
  expect(answered).to.have.length(words.length);
  return sent.map((s) => s.update_id as number);
}

/** What the bot sent to the user's chat, after transcript position `after`. */
async function sentTexts(sim: SimHandle, token: string, after = 0): Promise<Array<string | undefined>> {
  return (await sim.client.transcript(token, USER.id, after)).entries.filter((e) => e.kind === 'sent').map((e) => e.text);
}

/** The inbox on disk: the snapshot and its journal (a running bot's offset is in the journal until it compacts). */
function storedInbox(bot: BotUnderTest): { botId: string | null; offset: number } {
  const { botId, offset } = readStoredInbox(path.join(bot.installation.dataDir, 'bots', bot.name));
  return { botId, offset };
}

describe('update ids across a restarted simulator and a changed token (real bot processes)', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  /** A fresh simulator on the testbed's port: a restarted Bot API server, numbering from 1. */
  async function restartSim(): Promise<SimHandle> {
    const port = bed.sim.port;
    await bed.sim.close();
    const sim = await startSim({ port });
    bed.onCleanup(() => sim.close());
    return sim;
  }

  it('a bot with a high stored offset, started against a simulator that numbers from 1 again, answers everything (the sandbox restart)', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    let bot = startBot(bed.tracker, inst);
    await bot.ready();
    await echoAll(bed.sim, token, ['a', 'b', 'c', 'd', 'e', 'f']);
    bot.child.kill('SIGTERM');
    expect(await bot.exited()).to.equal(0);
    expect(storedInbox(bot).offset).to.equal(7);

    const sim = await restartSim();
    const ids = await (async () => {
      // Queued before the bot polls: its old offset, 7, would confirm (erase) them at once.
      const pending = ['one', 'two', 'three'].map((word) => sim.users.sendCommand(token, { user: USER, command: 'echo', args: word }).update_id as number);
      bot = startBot(bed.tracker, inst);
      await bot.ready();
      await waitFor(async () => (await sentTexts(sim, token)).length >= 3, { timeoutMs: 20_000, what: 'three answers' });
      return pending;
    })();
    expect(ids).to.deep.equal([1, 2, 3]);
    expect(await sentTexts(sim, token)).to.deep.equal(['echo: one', 'echo: two', 'echo: three']);
    await echoAll(sim, token, ['four']);
    expect(storedInbox(bot).offset).to.equal(5);
  });

  it('the simulator restarted under a running bot: the bot polls without its old offset and answers the new numbering', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    await echoAll(bed.sim, token, ['a', 'b', 'c', 'd', 'e', 'f']);
    const port = bed.sim.port;
    await bed.sim.close();
    await waitFor(() => bot.logLines().some((l) => l.msg.startsWith('getUpdates failed')), { timeoutMs: 20_000, what: 'the bot to notice the lost connection' });
    const sim = await startSim({ port });
    bed.onCleanup(() => sim.close());
    expect(await sendThenExpectAnswers(sim, token, ['one', 'two', 'three'])).to.deep.equal([1, 2, 3]);
    expect(bot.child.exitCode).to.equal(null);
  });

  it('a bot name pointed at another bot\'s token starts a fresh inbox (WARNING naming both bot ids) and answers the new bot\'s first updates', async () => {
    const first = newToken();
    const inst = install(bed.temp, bed.sim, { token: first });
    let bot = startBot(bed.tracker, inst);
    await bot.ready();
    await echoAll(bed.sim, first, ['a', 'b', 'c', 'd']);
    bot.child.kill('SIGTERM');
    expect(await bot.exited()).to.equal(0);

    const second = newToken(); // another bot: its own ids, from 1
    const config = JSON.parse(readFileSync(inst.configFile, 'utf8')) as { bots: Array<{ token: string }> };
    (config.bots[0] as { token: string }).token = second;
    writeFileSync(inst.configFile, JSON.stringify(config, null, 2));
    const queued = bed.sim.users.sendCommand(second, { user: USER, command: 'echo', args: 'queued' }).update_id;
    bot = startBot(bed.tracker, inst);
    await bot.ready();
    expect(queued).to.equal(1);
    expect((await bed.sim.client.waitForMessage(second, USER.id, { timeoutMs: 15_000 })).text).to.equal('echo: queued');
    expect(await echoAll(bed.sim, second, ['x'])).to.deep.equal([2]);
    const warning = bot.logLines().find((l) => /another Telegram bot/.test(l.msg));
    expect(warning).to.include({ level: 'warning', storedBotId: first.split(':')[0], botId: second.split(':')[0], storedOffset: 5 });
    expect(storedInbox(bot)).to.include({ botId: second.split(':')[0], offset: 3 });
    expect(JSON.stringify(bot.logLines())).to.not.include(second.split(':')[1] as string);
  });
});
