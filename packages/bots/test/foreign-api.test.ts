/**
 * The bridge against Bot APIs that are not quite Telegram: telegram-test-api 4.2.1 (an emulator
 * written elsewhere: it answers setMyCommands with a 500 and its own JSON, never holds a long
 * poll and ignores offsets), and the simulator's `foreign` fault on setMyCommands. Either way the
 * bot starts, answers commands, and says what went wrong in words instead of crash-looping on
 * "undefined: undefined".
 *
 * telegram-test-api serves the Bot API at `<apiURL>/bot<token>/<method>`, the same shape our
 * client builds from `apiRoot`, so its `config.apiURL` is the config's `apiRoot` as it is. Its user
 * side is `<apiURL>/sendCommand` and `<apiURL>/getUpdates` (the bot's messages to one chat), used
 * through its own `TelegramClient`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createLogger, loadConfig } from '@botvisor/core';
import { Supervisor } from '@botvisor/supervisor';
import { fakeToken, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
// Its default export is `module.exports` replaced by the class, which its typings (`export default`) do not
// describe for an ES module; the named export of the class's own file is typed and loads the same.
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';
import { BUILTIN_MODULES } from './support/builtin-modules.js';

const ADMIN = { id: 1001, first_name: 'Ada' };
const NOT_SUPPORTED = `{"message":"API method 'setMyCommands' is not supported."}`;

/** telegram-test-api turns port 0 into 9000 (`config.port || 9000`), so a free port is found first. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface LogLine {
  level: string;
  msg: string;
  error?: string;
}

describe('the bridge against Bot APIs that are not quite Telegram', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  async function start(apiRoot: string, bot: object): Promise<{ sup: Supervisor; log: () => LogLine[] }> {
    const dir = bed.temp.make('botvisor-foreign-');
    const file = path.join(dir, 'botvisor.json');
    writeFileSync(file, JSON.stringify({ apiRoot, http: { port: 0 }, supervisor: { stopGraceMs: 3000, pingIntervalMs: 500 }, bots: [bot] }));
    const config = loadConfig(file);
    const sup = await Supervisor.start({ config, configFile: file, builtinModules: BUILTIN_MODULES, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    const log = (): LogLine[] =>
      readFileSync(path.join(config.logDir, 'bridge.log'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as LogLine);
    return { sup, log };
  }

  const bridge = (token: string) => ({
    name: 'bridge',
    kind: 'bridge',
    token,
    allow: [ADMIN.id],
    admins: [ADMIN.id],
    commands: { hello: { argv: ['echo', 'hello from a tool'] } },
  });

  it('answers /help and runs an echo job through telegram-test-api 4.2.1, with a WARNING for its setMyCommands', async () => {
    const emulator = new TelegramServer({ port: await freePort(), host: '127.0.0.1' });
    await emulator.start();
    bed.onCleanup(async () => void (await emulator.stop()));
    const token = fakeToken();
    const user = emulator.getClient(token, { userId: ADMIN.id, chatId: ADMIN.id, firstName: ADMIN.first_name, timeout: 20_000 });
    const polls = { count: 0 };
    const getUpdates = emulator.getUpdates.bind(emulator);
    emulator.getUpdates = (t: string) => {
      polls.count++;
      return getUpdates(t);
    };

    const { sup, log } = await start(emulator.config.apiURL, bridge(token));
    await sup.waitReady(30_000);

    await user.sendCommand(user.makeCommand('/help'));
    const help = await user.getUpdates();
    expect(help.result.map((u) => u.message.text).join('\n')).to.include('/hello — runs echo');

    await user.sendCommand(user.makeCommand('/hello'));
    await waitFor(
      async () => {
        const history = await user.getUpdatesHistory();
        return history.some((u) => 'message' in u && /hello from a tool/.test(String((u.message as { text?: unknown }).text)));
      },
      { timeoutMs: 20_000, what: "the job's output in the chat" },
    );

    const warnings = log().filter((l) => l.level === 'warning' && l.msg.startsWith('could not set the command menu'));
    const prefix = 'HTTP 500 from setMyCommands: ';
    expect(warnings[0]?.error).to.match(/^HTTP 500 from setMyCommands: \{"message":"API method 'setMyCommands' is not supported\. Are you sure/);
    expect(warnings[0]?.error?.length, 'the body is quoted up to 200 characters').to.equal(prefix.length + 200 + '…'.length);
    expect(log().some((l) => /undefined: undefined/.test(JSON.stringify(l))), 'no "undefined: undefined" anywhere in the log').to.equal(false);
    expect(sup.bots.get('bridge')?.restarts).to.equal(0);

    // telegram-test-api answers getUpdates at once: the loop paces empty answers instead of spinning.
    const before = polls.count;
    const since = Date.now();
    await waitFor(() => Date.now() - since >= 2000, { timeoutMs: 5000, intervalMs: 50, what: '2 s of polling' });
    expect(polls.count - before, 'getUpdates calls in 2 s while idle').to.be.at.most(8);
  });

  it('starts and answers when the simulator answers setMyCommands with a foreign 500, and sets the menu later', async () => {
    const token = fakeToken();
    await bed.sim.client.addFault({ method: 'setMyCommands', token, foreign: { status: 500, body: 'json' } });
    const { sup, log } = await start(bed.sim.url, bridge(token));
    await sup.waitReady(30_000);
    const { cursor } = bed.sim.users.sendCommand(token, { user: ADMIN, command: 'help' });
    const reply = await bed.sim.client.waitForMessage(token, ADMIN.id, { after: cursor, timeoutMs: 15_000 });
    expect(reply.text).to.include('/hello — runs echo');
    const warning = await waitFor(() => log().find((l) => l.level === 'warning' && l.msg.startsWith('could not set the command menu')), { what: 'the WARNING' });
    expect(warning.error).to.equal(`HTTP 500 from setMyCommands: ${NOT_SUPPORTED}`);
    await waitFor(
      async () => {
        const commands = (await fetch(`${bed.sim.url}/bot${token}/getMyCommands`).then((r) => r.json())) as { result: Array<{ command: string }> };
        return commands.result.some((c) => c.command === 'hello');
      },
      { timeoutMs: 15_000, what: 'the command menu to be set on a later try' },
    );
    expect(sup.bots.get('bridge')?.restarts).to.equal(0);
  });
});
