import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '@botvisor/core';
import { Supervisor } from '@botvisor/supervisor';
import { fakeToken, useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/notes-bot/notes-bot.js', import.meta.url));
const USER = { id: 4242, first_name: 'Grace' };

describe('examples/notes-bot', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  it('runs under the supervisor as the README says, keeps notes across a restart', async () => {
    const token = fakeToken();
    const dir = bed.temp.make('botvisor-example-');
    const file = path.join(dir, 'botvisor.json');
    // The example's own config, pointed at the simulator and with the token from the environment.
    writeFileSync(file, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, bots: [{ name: 'notes', module: EXAMPLE, tokenEnv: 'NOTES_BOT_TOKEN' }] }));
    const config = loadConfig(file, { env: { NOTES_BOT_TOKEN: token } });
    const sup = await Supervisor.start({ config, configFile: file, env: { ...process.env, NOTES_BOT_TOKEN: token }, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(30_000);
    const say = async (command: string, args?: string) => {
      const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command, ...(args !== undefined ? { args } : {}) });
      return (await bed.sim.client.waitForMessage(token, USER.id, { after: cursor })).text;
    };
    expect(await say('note', 'buy milk')).to.equal('Noted (1).');
    expect(await say('note', 'call Ada')).to.equal('Noted (2).');
    await sup.restart('notes');
    expect(await say('notes')).to.equal('1. buy milk\n2. call Ada');
    expect(await say('note')).to.equal('Usage: /note <text>');
    expect(await say('forget')).to.equal('Forgotten.');
    expect(await say('notes')).to.equal('No notes yet. Add one with /note <text>.');
  });
});
