/**
 * `botvisor chat` as a person uses it: in a real terminal (tmux, on a private socket) against a
 * running sandbox; and through a pipe against a bare simulator where the test plays the bot, to
 * check edits, numbered buttons, taps, deletions and a vanished simulator deterministically.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { type SimHandle, startSim, type Update } from '@botvisor/bot-api-sim';
import { exited, ProcessTracker, TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { writeSandboxInfo } from '../src/sandbox/sandbox-info.js';
import { CLI, runCli, sandboxEnv, startCli } from './fixtures/cli-process.js';

const execFileP = promisify(execFile);
const TOKEN = '4242:AAHchat_test_token_000000000000000';

/** Quotes for `sh -c`. */
function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

describe('botvisor chat (real processes)', function () {
  this.timeout(120_000);
  const temp = new TempDirs();
  const tracker = new ProcessTracker();
  const sockets: string[] = [];
  let sim: SimHandle | undefined;

  afterEach(async () => {
    for (const socket of sockets.splice(0)) await execFileP('tmux', ['-L', socket, 'kill-server']).catch(() => undefined);
    await tracker.killAll();
    await sim?.close();
    sim = undefined;
    temp.removeAll();
  });

  it('in a terminal (tmux) against a running sandbox: /help shows the bridge\'s reply; /quit exits 0', async () => {
    const cwd = temp.make('botvisor-chat-');
    const dir = path.join(cwd, 'sandbox');
    const sandbox = startCli(tracker, ['start'], { cwd, env: sandboxEnv({ BOTVISOR_SANDBOX_DIR: dir }) });
    await sandbox.waitFor(/^all bots ready$/m, 90_000);

    const socket = `botvisor-chat-test-${process.pid}-${Date.now()}`;
    sockets.push(socket);
    const tmux = (...args: string[]) => execFileP('tmux', ['-L', socket, ...args], { env: { ...process.env, TMUX: '' } });
    const exitFile = path.join(cwd, 'chat.exit');
    const command = `cd ${sh(cwd)} && BOTVISOR_SANDBOX_DIR=${sh(dir)} ${sh(process.execPath)} ${sh(CLI)} chat; echo "exit $?" > ${sh(exitFile)}`;
    await tmux('new-session', '-d', '-s', 'chat', '-x', '140', '-y', '60', command);
    const pane = async () => (await tmux('capture-pane', '-p', '-J', '-t', 'chat', '-S', '-300')).stdout;
    const paneShows = (pattern: RegExp, what: string) => waitFor(async () => {
      const text = await pane();
      return pattern.test(text) ? text : undefined;
    }, { timeoutMs: 30_000, what });

    await paneShows(/you> $/m, 'the chat prompt');
    await tmux('send-keys', '-t', 'chat', '/help', 'Enter');
    const shown = await paneShows(/\/counter — counts to 60/, "the bridge's /help reply");
    expect(shown).to.match(/^you> \/help$/m);
    expect(shown).to.match(/^bot> /m);
    expect(shown).to.include('/sleep <secs>');
    await tmux('send-keys', '-t', 'chat', '/quit', 'Enter');
    await waitFor(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim(), { timeoutMs: 15_000, what: 'the chat to exit' });
    expect(readFileSync(exitFile, 'utf8').trim()).to.equal('exit 0');
  });

  it('against any simulator (--sim, --token, --user): messages, commands, edits, buttons and taps, a deletion; Ctrl-D exits 0', async () => {
    sim = await startSim();
    const url = sim.url;
    const botApi = async <T>(method: string, params: object): Promise<T> => {
      const res = await fetch(`${url}/bot${TOKEN}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
      const body = (await res.json()) as { ok: boolean; result: T; description?: string };
      if (!body.ok) throw new Error(`${method}: ${body.description}`);
      return body.result;
    };
    let offset = 0;
    const nextUpdate = () => waitFor(async () => {
      const updates = await botApi<Update[]>('getUpdates', { offset, timeout: 1 });
      const first = updates[0];
      if (first !== undefined) offset = first.update_id + 1;
      return first;
    }, { timeoutMs: 20_000, what: 'an update from the chat' });

    const chat = startCli(tracker, ['chat', '--sim', url, '--token', TOKEN, '--user', '777'], { cwd: temp.make(), env: process.env, stdin: 'pipe' });
    await chat.waitFor(/Chatting as User 777 \(user 777\) with the bot at http/);
    chat.write('hello there\n');
    const hello = await nextUpdate();
    expect(hello.message).to.deep.include({ text: 'hello there' });
    expect(hello.message?.from?.id).to.equal(777);
    chat.write('/start deep link\n');
    const start = await nextUpdate();
    expect(start.message?.text).to.equal('/start deep link');
    expect(start.message?.entities?.[0]).to.include({ type: 'bot_command', offset: 0, length: 6 });

    const failed = await botApi<{ message_id: number }>('sendMessage', {
      chat_id: 777,
      text: 'Job #7 failed',
      reply_markup: { inline_keyboard: [[{ text: 'Retry', callback_data: 'retry:7' }, { text: 'Docs', url: 'https://example.com/docs' }]] },
    });
    await chat.waitFor(/bot> Job #7 failed\n {5}\[1\] Retry {2}\[2\] Docs \(link\) {3}\(type :N to tap\)/);
    chat.write(':2\n');
    await chat.waitFor(/\("Docs" is a link, not a button to tap: https:\/\/example\.com\/docs\)/);
    chat.write(':1\n');
    await chat.waitFor(/\(tapped "Retry"\)/);
    const tap = await nextUpdate();
    expect(tap.callback_query).to.deep.include({ data: 'retry:7' });
    expect(tap.callback_query?.message?.message_id).to.equal(failed.message_id);
    await botApi('answerCallbackQuery', { callback_query_id: tap.callback_query?.id, text: 'Retrying' });
    await botApi('editMessageText', { chat_id: 777, message_id: failed.message_id, text: 'Job #7 running again\n1\n2' });
    await chat.waitFor(new RegExp(`bot \\(edited #${failed.message_id}\\)> Job #7 running again\\n +1\\n +2`));
    await chat.waitFor(/bot \(answer to your tap\)> Retrying/);
    chat.write(':1\n'); // the edit carried no keyboard, so the buttons are gone
    await chat.waitFor(/\(no message with buttons yet\)/);
    await botApi('deleteMessage', { chat_id: 777, message_id: failed.message_id });
    await chat.waitFor(new RegExp(`bot deleted message #${failed.message_id}`));

    chat.child.stdin?.end(); // Ctrl-D
    expect(await exited(chat.child)).to.equal(0);
  });

  it('lines piped in before the chat is ready are sent, in order; the user defaults to the simulator\'s', async () => {
    sim = await startSim();
    const chat = startCli(tracker, ['chat', '--sim', sim.url, '--token', TOKEN], { cwd: temp.make(), env: process.env, stdin: 'pipe' });
    chat.write('typed ahead\n/echo too\n'); // before the banner: the chat is still reading the history
    const texts = await waitFor(async () => {
      const updates = (await (await fetch(`${sim?.url}/bot${TOKEN}/getUpdates`)).json()) as { result: Update[] };
      return updates.result.length === 2 ? updates.result.map((u) => [u.message?.text, u.message?.from?.id]) : undefined;
    }, { timeoutMs: 20_000, what: 'both typed-ahead lines at the bot' });
    expect(texts).to.deep.equal([['typed ahead', 100001], ['/echo too', 100001]]);
    expect(chat.output()).to.include('Chatting as Test (user 100001)');
    chat.child.stdin?.end();
    expect(await exited(chat.child)).to.equal(0);
  });

  it('when the simulator goes away mid-chat, says the sandbox stopped and exits 3', async () => {
    sim = await startSim();
    const chat = startCli(tracker, ['chat', '--sim', sim.url, '--token', TOKEN, '--user', '777'], { cwd: temp.make(), env: process.env, stdin: 'pipe' });
    await chat.waitFor(/Chatting as/);
    chat.write('hi\n'); // the chat becomes known, so the chat is long-polling the sim
    await waitFor(async () => (await sim?.client.chats(TOKEN))?.length === 1, { what: 'the chat known to the sim' });
    await sim.close();
    expect(await exited(chat.child)).to.equal(3);
    expect(chat.output()).to.match(/the simulator at http:\/\/127\.0\.0\.1:\d+ stopped answering \(.+\): the sandbox has stopped\n$/);
  });

  it('no sandbox, a stopped one, and bad flags: one sentence each', async () => {
    const cwd = temp.make();
    const env = sandboxEnv();
    const none = await runCli(tracker, ['chat'], { cwd, env });
    expect(none.code).to.equal(3);
    expect(none.stderr).to.equal(`botvisor: no sandbox is running in ${path.join(cwd, 'data', 'sandbox')}: start it with npm start in this folder (or pass --sim URL --token TOKEN for another simulator)\n`);

    // A sandbox that died without cleaning up: its info file points at a port nobody listens on.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    mkdirSync(path.join(cwd, 'data', 'sandbox'), { recursive: true });
    writeSandboxInfo(path.join(cwd, 'data', 'sandbox', 'sandbox.json'), { simUrl: `http://127.0.0.1:${port}`, token: TOKEN, user: { id: 1, first_name: 'A' }, chatId: 1, bot: 'bridge', httpUrl: null, pid: 1, configFile: 'x' });
    const stale = await runCli(tracker, ['chat'], { cwd, env });
    expect(stale.code).to.equal(3);
    expect(stale.stderr).to.equal(`botvisor: nothing answers at http://127.0.0.1:${port}: the sandbox is not running (start it with npm start), or --sim is wrong\n`);

    const badUser = await runCli(tracker, ['chat', '--user', 'me'], { cwd, env });
    expect(badUser.code).to.equal(2);
    expect(badUser.stderr).to.include('--user must be a whole number');
    const badSim = await runCli(tracker, ['chat', '--sim', 'nowhere'], { cwd, env });
    expect(badSim.code).to.equal(2);
    expect(badSim.stderr).to.include("--sim must be the simulator's URL");
  });
});
