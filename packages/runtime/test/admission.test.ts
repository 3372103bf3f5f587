/**
 * The gate at arrival (dispatch/admission.ts), with real bot processes against the simulator: the
 * rate limit counts arrivals even behind a slow handler, and refusals reach the person — callback
 * queries are always answered, "not authorized" never lands in a group.
 */
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { NOT_AUTHORIZED_TEXT } from '../src/index.js';
import { install, newToken, startBot } from './support/bot-harness.js';

const USER = { id: 1001, first_name: 'Ada' };
const STRANGER = { id: 2002, first_name: 'Eve' };
const GROUP = { id: -4242, type: 'group' as const, title: 'Team' };

describe('admission at arrival (real bot processes)', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  it('counts the rate limit at arrival: behind a 1 s handler, a burst past the limit is refused at once with one notice', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }), { env: { FIXTURE_INCOMING_LIMIT: '3/2000' } });
    await bot.ready();
    let cursor = 0;
    for (let i = 0; i < 12; i++) {
      const sent = bed.sim.users.sendCommand(token, { user: USER, command: 'slow', args: '1' });
      if (i === 0) cursor = sent.cursor;
    }
    const notice = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^You are sending too many messages', timeoutMs: 3000 });
    expect(notice.text).to.match(/Please wait about 1 minute/);
    await waitFor(async () => (await bed.sim.client.transcript(token, USER.id)).entries.filter((e) => e.text === 'slow done').length >= 3, { timeoutMs: 20_000, what: 'the admitted three to finish' });
    await new Promise((r) => setTimeout(r, 2500)); // a refused one would have run by now
    const texts = (await bed.sim.client.transcript(token, USER.id)).entries.map((e) => e.text);
    expect(texts.filter((t) => t === 'slow done')).to.have.length(3);
    expect(texts.filter((t) => t?.startsWith('You are sending too many messages'))).to.have.length(1);
  });

  it('a stranger tapping a button in a group: the callback is answered with "not authorized", the group hears nothing, no handler runs', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token, allow: [USER.id] }));
    await bot.ready();
    const asked = bed.sim.users.sendCommand(token, { user: USER, chat: GROUP, command: 'button', mention: true });
    const buttons = await bed.sim.client.waitForMessage(token, GROUP.id, { after: asked.cursor, text: 'tap me' });
    const tap = bed.sim.users.tapButton(token, { user: STRANGER, chat: GROUP, message_id: buttons.message_id as number, data: 'fixture:tap' });
    const answer = await waitFor(async () => (await bed.sim.client.transcript(token, GROUP.id, tap.cursor)).entries.find((e) => e.kind === 'callback_answer'), { timeoutMs: 10_000, what: 'the callback answer' });
    expect(answer.text).to.equal(NOT_AUTHORIZED_TEXT);
    // A stranger's message in the group: the notice goes to their private chat, not the group.
    const said = bed.sim.users.sendCommand(token, { user: STRANGER, chat: GROUP, command: 'echo', args: 'hi', mention: true });
    await bed.sim.client.waitForMessage(token, STRANGER.id, { text: NOT_AUTHORIZED_TEXT }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const group = (await bed.sim.client.transcript(token, GROUP.id, said.cursor)).entries;
    expect(group.filter((e) => e.text === NOT_AUTHORIZED_TEXT), 'no notice in the group').to.have.length(0);
    expect((await bed.sim.client.transcript(token, GROUP.id)).entries.filter((e) => e.kind === 'callback_answer')).to.have.length(1);
  });
});
