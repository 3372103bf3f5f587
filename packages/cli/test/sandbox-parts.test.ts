/**
 * The sandbox's and `botvisor chat`'s pure parts, one by one: settings from the environment, the
 * generated config (valid for core's own loader), the demo commands, the info file, what a typed
 * line means, which button `:N` taps, and how an entry is shown.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TranscriptEntry } from '@botvisor/bot-api-sim';
import { resolveConfig } from '@botvisor/core';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { CliError, EXIT } from '../src/exit-codes.js';
import { ButtonBoard } from '../src/sandbox/chat/button-board.js';
import { parseChatLine } from '../src/sandbox/chat/chat-line.js';
import { EDIT_TAIL_LINES, MAX_LINES, renderEntry } from '../src/sandbox/chat/chat-render.js';
import { resolveChatTarget } from '../src/sandbox/chat/chat-target.js';
import { demoCommands, demoSessions } from '../src/sandbox/demo-commands.js';
import { sandboxConfig } from '../src/sandbox/sandbox-config.js';
import { SANDBOX_CHAT_ID, SANDBOX_TOKEN, SANDBOX_USER } from '../src/sandbox/sandbox-identity.js';
import { readSandboxInfo, writeSandboxInfo } from '../src/sandbox/sandbox-info.js';
import { existingSandboxConfig } from '../src/sandbox/sandbox-lookup.js';
import { sandboxSettings } from '../src/sandbox/sandbox-settings.js';
import { firstUpdateIdFor } from '../src/sandbox/sandbox-update-ids.js';

const run = promisify(execFile);

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a CliError');
}

function entry(e: Partial<TranscriptEntry> & Pick<TranscriptEntry, 'kind'>): TranscriptEntry {
  return { seq: 1, timestamp: 0, ...e };
}

const keyboard = (...rows: Array<Array<{ text: string; callback_data?: string; url?: string }>>) => ({ inline_keyboard: rows });

describe('sandbox settings', () => {
  it('defaults to <cwd>/data/sandbox, sim 8081 and HTTP 8080; the env overrides each', () => {
    const d = sandboxSettings({}, '/srv/x');
    expect(d).to.include({ dir: '/srv/x/data/sandbox', simPort: 8081, httpPort: 8080, configFile: '/srv/x/data/sandbox/botvisor.json', infoFile: '/srv/x/data/sandbox/sandbox.json' });
    const o = sandboxSettings({ BOTVISOR_SANDBOX_DIR: 'sb', BOTVISOR_SANDBOX_SIM_PORT: '0', BOTVISOR_SANDBOX_HTTP_PORT: '9000' }, '/srv/x');
    expect(o).to.include({ dir: '/srv/x/sb', simPort: 0, httpPort: 9000 });
  });

  it('refuses a port that is not one, naming the variable', () => {
    for (const bad of ['abc', '-1', '65536', '80.5']) {
      const err = thrown(() => sandboxSettings({ BOTVISOR_SANDBOX_SIM_PORT: bad }));
      expect(err.exitCode).to.equal(EXIT.usage);
      expect(err.message).to.equal(`BOTVISOR_SANDBOX_SIM_PORT must be a port number from 0 to 65535 (0 = any free port), got "${bad}"`);
    }
    expect(thrown(() => sandboxSettings({ BOTVISOR_SANDBOX_HTTP_PORT: 'x' })).message).to.match(/^BOTVISOR_SANDBOX_HTTP_PORT must be/);
  });
});

describe('sandbox config', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('is valid for core: bridge polls and admits the sandbox user, alerts is send-only on the same token and reports to their chat', () => {
    const dir = temp.make();
    writeFileSync(path.join(dir, 'sandbox.token'), SANDBOX_TOKEN, { mode: 0o600 });
    const raw = sandboxConfig({ simUrl: 'http://127.0.0.1:8081', httpPort: 0, tokenFile: 'sandbox.token' });
    const c = resolveConfig(raw, { source: 'sandbox', baseDir: dir, env: {} });
    expect(c.warnings).to.deep.equal([]);
    expect(c.apiRoot).to.equal('http://127.0.0.1:8081');
    expect(c.dataDir).to.equal(path.join(dir, 'data'));
    expect(c.logDir).to.equal(path.join(dir, 'logs'));
    expect(c.http).to.deep.equal({ enabled: true, host: '127.0.0.1', port: 0 });
    const [bridge, alerts] = c.bots;
    expect(bridge).to.deep.include({ name: 'bridge', kind: 'bridge', polling: true, allow: [SANDBOX_USER.id], admins: [SANDBOX_USER.id], token: SANDBOX_TOKEN });
    expect(Object.keys(bridge?.commands ?? {})).to.deep.equal(['uptime', 'df', 'counter', 'bigoutput', 'sleep']);
    expect(bridge?.sessions.agent).to.deep.include({ protocol: 'stream-json', default: true });
    expect(alerts).to.deep.include({ name: 'alerts', kind: 'alerts', polling: false, chats: [SANDBOX_CHAT_ID], token: SANDBOX_TOKEN });
  });

  it('demo commands: argv only; bigoutput prints exactly 1 MiB; sleep takes 1-3 digits', async () => {
    const cmds = demoCommands();
    expect(cmds.df?.argv).to.deep.equal(['df', '-h']);
    const big = cmds.bigoutput?.argv as string[];
    const { stdout } = await run(big[0] as string, big.slice(1), { maxBuffer: 4 * 1024 * 1024 });
    expect(Buffer.byteLength(stdout)).to.equal(1024 * 1024);
    expect(stdout.split('\n')[0]).to.match(/^000001 botvisor sandbox demo output \.+$/);
    const secs = new RegExp(cmds.sleep?.args?.secs as string);
    expect(['5', '999'].every((s) => secs.test(s))).to.equal(true);
    expect(['', '1000', '5; rm -rf /', '-1'].some((s) => secs.test(s))).to.equal(false);
  });

  it('the demo agent speaks stream-json: it streams its reply, remembers the previous message and reports a cost', async () => {
    const argv = demoSessions().agent?.argv as string[];
    const input = ['first', 'second'].map((content) => JSON.stringify({ type: 'user', message: { role: 'user', content } })).join('\n');
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stdin.write(`${input}\n`);
    await waitFor(() => out.split('\n').filter((l) => l.includes('"type":"result"')).length === 2, { timeoutMs: 15_000, what: 'two result events' });
    child.kill();
    const events = out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; total_cost_usd?: number; message?: { content: Array<{ text: string }> } });
    const texts = events.filter((e) => e.type === 'assistant').map((e) => e.message?.content[0]?.text ?? '');
    expect(texts).to.include('Before that, you said: "first".');
    expect(events.filter((e) => e.type === 'result').map((e) => e.total_cost_usd)).to.deep.equal([0.01, 0.01]);
  });

  it('the counter counts 1, 2, 3 … (its first seconds)', async () => {
    const argv = demoCommands().counter?.argv as string[];
    // Cut after 2.5 s: whatever came out must be 1, 2, … in order (how many depends on the machine's load).
    const out = await run(argv[0] as string, argv.slice(1), { timeout: 2500 }).catch((e: { stdout: string }) => e);
    const lines = out.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).to.be.within(1, 4);
    expect(lines).to.deep.equal(lines.map((_, i) => String(i + 1)));
  });
});

describe('sandbox simulator: first update id', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('is 1 on a first start, else the highest offset a bot stored; an unreadable inbox counts as none', () => {
    const dataDir = path.join(temp.make('botvisor-sandbox-ids-'), 'data');
    expect(firstUpdateIdFor(dataDir)).to.equal(1);
    const inbox = (bot: string, content: string): void => {
      mkdirSync(path.join(dataDir, 'bots', bot), { recursive: true });
      writeFileSync(path.join(dataDir, 'bots', bot, 'inbox.json'), content);
    };
    inbox('alerts', JSON.stringify({ offset: 0, pending: [] }));
    expect(firstUpdateIdFor(dataDir)).to.equal(1);
    inbox('bridge', JSON.stringify({ botId: '1', offset: 35, pending: [] }));
    inbox('other', JSON.stringify({ offset: 7, pending: [] }));
    inbox('broken', '{"offset": 99');
    expect(firstUpdateIdFor(dataDir)).to.equal(35);
    // A bot killed before compacting its journal: the newest offset is in the journal, a torn line counts as none.
    const journal = path.join(dataDir, 'bots', 'other', 'inbox.json.journal.000000000001.jsonl');
    writeFileSync(journal, `${JSON.stringify({ n: 1, accepted: [], receivedAt: '', offset: 41 })}\n{"n":2,"settled":40}\n{"n":3,"accepted":[],"offset": 90`);
    expect(firstUpdateIdFor(dataDir)).to.equal(41);
  });
});

describe('sandbox info file and lookup', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('round-trips; a malformed one is one sentence saying to delete it; absent is undefined', () => {
    const dir = temp.make();
    const file = path.join(dir, 'sandbox.json');
    expect(readSandboxInfo(file)).to.equal(undefined);
    const info = { simUrl: 'http://127.0.0.1:1', token: SANDBOX_TOKEN, user: SANDBOX_USER, chatId: SANDBOX_CHAT_ID, bot: 'bridge', httpUrl: null, pid: 1, configFile: 'x' };
    writeSandboxInfo(file, info);
    expect(readSandboxInfo(file)).to.deep.equal(info);
    writeFileSync(file, '{"simUrl": 1');
    const err = thrown(() => readSandboxInfo(file));
    expect(err.message).to.equal(`${file} is not a sandbox info file; delete it and start the sandbox again with: npm start`);
    expect(err.exitCode).to.equal(EXIT.config);
  });

  it('the lookup finds the generated config only once it exists', () => {
    const cwd = temp.make();
    expect(existingSandboxConfig({}, cwd)).to.equal(undefined);
    mkdirSync(path.join(cwd, 'data', 'sandbox'), { recursive: true });
    writeFileSync(path.join(cwd, 'data', 'sandbox', 'botvisor.json'), '{}');
    expect(existingSandboxConfig({}, cwd)).to.equal(path.join(cwd, 'data', 'sandbox', 'botvisor.json'));
    expect(existingSandboxConfig({ BOTVISOR_SANDBOX_DIR: 'elsewhere' }, cwd)).to.equal(undefined);
  });

  it('chat target: flags win over the info file; missing pieces and bad values are one sentence each', () => {
    const cwd = temp.make();
    const none = thrown(() => resolveChatTarget({}, {}, cwd));
    expect(none.exitCode).to.equal(EXIT.notRunning);
    expect(none.message).to.equal(`no sandbox is running in ${path.join(cwd, 'data', 'sandbox')}: start it with npm start in this folder (or pass --sim URL --token TOKEN for another simulator)`);
    const partial = thrown(() => resolveChatTarget({ sim: 'http://127.0.0.1:9' }, {}, cwd));
    expect(partial.exitCode).to.equal(EXIT.usage);
    expect(partial.message).to.match(/to fill in --token: pass it too, or start the sandbox with npm start$/);
    // Any simulator without a sandbox: --user defaults to the simulator's default user.
    expect(resolveChatTarget({ sim: 'http://127.0.0.1:9', token: SANDBOX_TOKEN }, {}, cwd)).to.deep.equal({ simUrl: 'http://127.0.0.1:9', token: SANDBOX_TOKEN, user: { id: 100001, first_name: 'Test' }, chatId: 100001 });
    expect(thrown(() => resolveChatTarget({ sim: 'localhost:9', token: SANDBOX_TOKEN, user: 5 }, {}, cwd)).message).to.match(/^--sim must be the simulator's URL/);
    expect(thrown(() => resolveChatTarget({ sim: 'http://h', token: 'nope', user: 5 }, {}, cwd)).message).to.match(/^--token does not look like a bot token/);
    expect(thrown(() => resolveChatTarget({ sim: 'http://h', token: SANDBOX_TOKEN, user: 0 }, {}, cwd)).message).to.match(/^--user must be a positive/);
    mkdirSync(path.join(cwd, 'data', 'sandbox'), { recursive: true });
    writeSandboxInfo(path.join(cwd, 'data', 'sandbox', 'sandbox.json'), { simUrl: 'http://127.0.0.1:7/', token: SANDBOX_TOKEN, user: SANDBOX_USER, chatId: SANDBOX_CHAT_ID, bot: 'bridge', httpUrl: null, pid: 1, configFile: 'x' });
    expect(resolveChatTarget({}, {}, cwd)).to.deep.equal({ simUrl: 'http://127.0.0.1:7', token: SANDBOX_TOKEN, user: SANDBOX_USER, chatId: SANDBOX_USER.id });
    expect(resolveChatTarget({ user: 42 }, {}, cwd)).to.deep.include({ user: { id: 42, first_name: 'User 42' }, chatId: 42 });
  });
});

describe('chat: what a typed line means', () => {
  it('commands, messages, taps, quit, and the rest', () => {
    expect(parseChatLine('   ')).to.deep.equal({ kind: 'nothing' });
    expect(parseChatLine('/quit')).to.deep.equal({ kind: 'quit' });
    expect(parseChatLine('/help')).to.deep.equal({ kind: 'command', command: 'help', args: '' });
    expect(parseChatLine(' /sleep   30 ')).to.deep.equal({ kind: 'command', command: 'sleep', args: '30' });
    expect(parseChatLine('/stop@sim_1_bot all')).to.deep.equal({ kind: 'command', command: 'stop', args: 'all' });
    expect(parseChatLine('hello there')).to.deep.equal({ kind: 'message', text: 'hello there' });
    expect(parseChatLine('/not-a-command')).to.deep.equal({ kind: 'message', text: '/not-a-command' });
    expect(parseChatLine('/ spaced')).to.deep.equal({ kind: 'message', text: '/ spaced' });
    expect(parseChatLine(':2')).to.deep.equal({ kind: 'tap', button: 2 });
    expect(parseChatLine(':)')).to.deep.equal({ kind: 'message', text: ':)' });
    expect(parseChatLine(':0')).to.deep.include({ kind: 'invalid' });
    expect(parseChatLine('x'.repeat(4097))).to.deep.equal({ kind: 'invalid', reason: 'a Telegram message has at most 4096 characters; this one has 4097' });
  });
});

describe('chat: which button :N taps', () => {
  it('the message with buttons shown last; edits replace or remove a keyboard; deletions drop it; links are not taps', () => {
    const board = new ButtonBoard();
    expect(board.target(1)).to.deep.equal({ ok: false, reason: 'no message with buttons yet' });
    board.see(entry({ kind: 'sent', message_id: 1, reply_markup: keyboard([{ text: 'Retry', callback_data: 'r:1' }]) }));
    board.see(entry({ kind: 'sent', message_id: 2, reply_markup: keyboard([{ text: 'A', callback_data: 'a' }], [{ text: 'Docs', url: 'https://example.com' }]) }));
    board.see(entry({ kind: 'sent', message_id: 3, text: 'no buttons' }));
    expect(board.target(1)).to.deep.include({ ok: true, messageId: 2 });
    expect(board.target(2)).to.deep.equal({ ok: false, reason: '"Docs" is a link, not a button to tap: https://example.com' });
    expect(board.target(3)).to.deep.equal({ ok: false, reason: 'the latest message with buttons has 2 buttons (:1 to :2)' });
    board.see(entry({ kind: 'edited', message_id: 1, reply_markup: keyboard([{ text: 'Retry', callback_data: 'r:1' }]) }));
    expect(board.target(1)).to.deep.equal({ ok: true, messageId: 1, button: { label: 'Retry', data: 'r:1' } });
    board.see(entry({ kind: 'edited', message_id: 1, text: 'keyboard removed' }));
    expect(board.target(1)).to.deep.include({ ok: true, messageId: 2 });
    board.see(entry({ kind: 'deleted', message_id: 2 }));
    expect(board.target(1)).to.deep.equal({ ok: false, reason: 'no message with buttons yet' });
    board.see(entry({ kind: 'chat_action', action: 'typing' }));
    expect(board.target(1).ok).to.equal(false);
  });
});

describe('chat: how an entry is shown', () => {
  it('messages, edits, files, deletions, tap answers; typing is not shown', () => {
    expect(renderEntry(entry({ kind: 'sent', message_id: 4, text: 'one\ntwo' }), 'bot')).to.equal('bot> one\n     two');
    expect(renderEntry(entry({ kind: 'sent', message_id: 4, text: 'failed', reply_markup: keyboard([{ text: 'Retry', callback_data: 'r' }, { text: 'Docs', url: 'https://x' }]) }), 'bot')).to.equal(
      'bot> failed\n     [1] Retry  [2] Docs (link)   (type :N to tap)',
    );
    expect(renderEntry(entry({ kind: 'edited', message_id: 4, text: 'now' }), 'bot')).to.equal('bot (edited #4)> now');
    expect(renderEntry(entry({ kind: 'document', message_id: 5, text: 'done', document: { file_name: 'job-2.log', file_size: 1048576, mime_type: 'text/plain' } }), 'bot')).to.equal(
      'bot> [file] job-2.log (1.0mb, text/plain)\n     done',
    );
    expect(renderEntry(entry({ kind: 'deleted', message_id: 4 }), 'bot')).to.equal('bot deleted message #4');
    expect(renderEntry(entry({ kind: 'callback_answer', text: 'Stopping' }), 'bot')).to.equal('bot (answer to your tap)> Stopping');
    expect(renderEntry(entry({ kind: 'callback_answer', text: '' }), 'bot')).to.equal(undefined);
    expect(renderEntry(entry({ kind: 'chat_action', action: 'typing' }), 'bot')).to.equal(undefined);
  });

  it('a long message shows its head; a long edit its first line and its tail', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`);
    const sent = (renderEntry(entry({ kind: 'sent', text: lines.join('\n') }), 'bot') as string).split('\n');
    expect(sent).to.have.length(MAX_LINES + 1);
    expect(sent.at(-1)).to.equal(`     … ${100 - MAX_LINES} more lines`);
    const edited = (renderEntry(entry({ kind: 'edited', message_id: 9, text: lines.join('\n') }), 'bot') as string).split('\n');
    expect(edited[0]).to.equal('bot (edited #9)> line 1');
    expect(edited[1]?.trim()).to.equal(`… ${100 - 1 - EDIT_TAIL_LINES} lines`);
    expect(edited.at(-1)?.trim()).to.equal('line 100');
    expect(edited).to.have.length(EDIT_TAIL_LINES + 2);
  });
});
