import { readdirSync } from 'node:fs';
import path from 'node:path';
import { type DurableStore, isDeadState, openStore, readProcess, sessionSchema } from '@botvisor/core';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import type { Api } from 'node-telegram-bot-api';
import { emptySessionsFile, LinesProtocol, SessionManager, type SessionManagerDeps, type SessionsFile, StreamJsonProtocol, sessionsFileSchema } from '../src/sessions/index.js';
import { RecordingLogger } from './support/recording-logger.js';
import { agentSpec, ChatRecorder, ManualClock, memoryStore } from './support/session-fixtures.js';

const CHAT = 501;
const USER = 77;

/** Alive and not a zombie (an orphan waits to be reaped by init for a moment after it died). */
function alive(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && !isDeadState(info.state);
}

describe('sessions: protocols', () => {
  it('stream-json: assistant text across split chunks, the result ends the turn with cost and summed tokens; junk lines are skipped', () => {
    const p = new StreamJsonProtocol();
    const texts: string[] = [];
    const ends: unknown[] = [];
    p.beginTurn({ text: (t) => texts.push(t), end: (u) => ends.push(u) });
    const lines = [
      'not json at all',
      JSON.stringify({ type: 'system', subtype: 'init' }),
      JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'Hello' }, { type: 'tool_use', name: 'x' }] } }),
      JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'wörld' }] } }),
      JSON.stringify({ type: 'result', is_error: false, total_cost_usd: 0.25, usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, service_tier: 'standard' } }),
    ].join('\n');
    const bytes = Buffer.from(`${lines}\n`);
    for (let i = 0; i < bytes.length; i += 7) p.output(bytes.subarray(i, i + 7), 'stdout'); // splits lines and a multi-byte character
    expect(texts).to.deep.equal(['Hello', '\n\nwörld']);
    expect(ends).to.deep.equal([{ costUsd: 0.25, tokens: 115 }]);
    expect(p.encode('hi\nthere')).to.equal('{"type":"user","message":{"role":"user","content":"hi\\nthere"}}\n');
  });

  it('stream-json: an error result is shown; a result without assistant text shows its result text', () => {
    const p = new StreamJsonProtocol();
    const texts: string[] = [];
    p.beginTurn({ text: (t) => texts.push(t), end: () => undefined });
    p.output(Buffer.from(`${JSON.stringify({ type: 'result', is_error: true, subtype: 'error_max_turns' })}\n`), 'stdout');
    p.beginTurn({ text: (t) => texts.push(t), end: () => undefined });
    p.output(Buffer.from(`${JSON.stringify({ type: 'result', result: 'only here' })}\n`), 'stdout');
    expect(texts).to.deep.equal(['⚠️ The agent reported an error: error_max_turns', 'only here']);
  });

  it('lines: one line per message; the turn ends after turnIdleMs of quiet, stdout and stderr both shown', async () => {
    const p = new LinesProtocol(80);
    expect(p.encode('a\nb\r\nc')).to.equal('a b c\n');
    const texts: string[] = [];
    let ended = false;
    p.output(Buffer.from('before the turn\n'), 'stdout'); // dropped
    p.beginTurn({ text: (t) => texts.push(t), end: () => (ended = true) });
    p.output(Buffer.from('out\n'), 'stdout');
    p.output(Buffer.from('err\n'), 'stderr');
    await new Promise((r) => setTimeout(r, 30));
    expect(ended).to.equal(false);
    await waitFor(() => ended, { timeoutMs: 2000, what: 'the quiet period to end the turn' });
    expect(texts).to.deep.equal(['out\n', 'err\n']);
    p.close();
  });
});

describe('sessions: config', () => {
  it('the schema is strict and says what is wrong', () => {
    expect(sessionSchema.safeParse({ argv: ['claude'], protocol: 'stream-json' }).success).to.equal(true);
    const bad = sessionSchema.safeParse({ argv: [], protocol: 'xml', idleTimeout: 5 });
    expect(bad.success).to.equal(false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n') ?? '';
    expect(messages).to.include('argv: expected at least the program name').and.include('protocol: expected "lines" or "stream-json"').and.include('idleTimeout');
  });
});

describe('sessions: a manager with real fake-agent processes', function () {
  this.timeout(60_000);
  const temp = new TempDirs();
  const managers: SessionManager[] = [];
  const stores: Array<DurableStore<SessionsFile>> = [];
  let chat: ChatRecorder;
  let logger: RecordingLogger;

  function manager(deps: Partial<SessionManagerDeps> & Pick<SessionManagerDeps, 'specs'>): SessionManager {
    const m = new SessionManager({ api: chat as unknown as Api, store: memoryStore(), logger, spoolDir: temp.make('sessions-spool-'), live: { intervalMs: 40 }, killGraceMs: 500, ...deps });
    managers.push(m);
    return m;
  }

  beforeEach(() => {
    chat = new ChatRecorder();
    logger = new RecordingLogger();
  });

  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop(2000);
    for (const s of stores.splice(0)) await s.close();
    temp.removeAll();
  });

  async function replyMatching(pattern: RegExp, chatId = CHAT, timeoutMs = 15_000): Promise<string> {
    return waitFor(() => chat.texts(chatId).find((t) => pattern.test(t)), { timeoutMs, what: `a message matching ${pattern} (seen: ${JSON.stringify(chat.texts(chatId).slice(-5))})` });
  }

  async function idle(m: SessionManager, chatId = CHAT): Promise<void> {
    await waitFor(() => m.list(chatId)[0]?.state === 'idle' && m.list(chatId)[0]?.pending === 0, { timeoutMs: 15_000, what: `the session of chat ${chatId} to be idle (${JSON.stringify(m.list(chatId))})` });
  }

  for (const protocol of ['stream-json', 'lines'] as const) {
    it(`${protocol}: two turns go to one process, which keeps its state`, async () => {
      const m = manager({ specs: { agent: agentSpec(protocol) } });
      expect(await m.send({ chatId: CHAT, userId: USER, text: 'hello' })).to.include({ accepted: true, started: true, name: 'agent' });
      await replyMatching(/turn 1: you said hello/);
      await idle(m);
      expect(await m.send({ chatId: CHAT, userId: USER, text: 'again' })).to.include({ accepted: true, started: false });
      await replyMatching(/turn 2: you said again \(before: hello\)/);
      expect(m.runningCount).to.equal(1);
      expect(chat.actions.length, 'typing… while it works').to.be.at.least(1);
    });
  }

  it('/new ends the process; the next message starts a fresh one', async () => {
    const m = manager({ specs: { agent: agentSpec('stream-json') } });
    await m.send({ chatId: CHAT, userId: USER, text: 'pid' });
    const first = Number((await replyMatching(/^pid \d+/)).split(' ')[1]);
    await idle(m);
    expect(await m.end(CHAT, 'new')).to.deep.equal({ ended: ['agent'], dropped: 0 });
    expect(alive(first)).to.equal(false);
    await m.send({ chatId: CHAT, userId: USER, text: 'fresh start' });
    await replyMatching(/^turn 1: you said fresh start$/);
  });

  it('/stop mid-turn kills the whole tree (the agent and its child), ends the reply with a note, drops what waited', async () => {
    const m = manager({ specs: { agent: agentSpec('stream-json') } });
    await m.send({ chatId: CHAT, userId: USER, text: 'child' });
    const child = Number((await replyMatching(/^child \d+/)).split(' ')[1]);
    await idle(m);
    const agentPid = m.list(CHAT)[0]?.pid as number;
    await m.send({ chatId: CHAT, userId: USER, text: 'slow 20000' });
    await m.send({ chatId: CHAT, userId: USER, text: 'waiting one' });
    await replyMatching(/working…/);
    expect(alive(child) && alive(agentPid)).to.equal(true);
    expect(await m.end(CHAT, 'stop')).to.deep.equal({ ended: ['agent'], dropped: 1 });
    expect(alive(agentPid), 'the agent').to.equal(false);
    expect(alive(child), "the agent's child").to.equal(false);
    await replyMatching(/⏹ Stopped\./);
    expect(m.list(CHAT)).to.have.length(0);
  });

  it('100 messages at once from one user: answered one turn at a time, in order', async () => {
    const m = manager({ specs: { agent: agentSpec('stream-json', { queueLimit: 100 }) } });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => m.send({ chatId: CHAT, userId: USER, text: `m${i + 1}` })));
    expect(results.every((r) => r.accepted)).to.equal(true);
    await replyMatching(/^turn 100: you said m100 \(before: m99\)$/, CHAT, 45_000);
    const turns = chat.texts(CHAT).filter((t) => t.startsWith('turn '));
    expect(turns).to.deep.equal(Array.from({ length: 100 }, (_, i) => `turn ${i + 1}: you said m${i + 1}${i > 0 ? ` (before: m${i})` : ''}`));
  });

  it('past the queue bound a message is refused, and the refusal names it', async () => {
    const m = manager({ specs: { agent: agentSpec('stream-json', { queueLimit: 2 }) } });
    await m.send({ chatId: CHAT, userId: USER, text: 'slow 1500' });
    await m.send({ chatId: CHAT, userId: USER, text: 'one' });
    await m.send({ chatId: CHAT, userId: USER, text: 'two' });
    const r = await m.send({ chatId: CHAT, userId: USER, text: 'three is too many' });
    expect(r).to.include({ accepted: false, reason: 'queue-full' });
    expect(chat.texts(CHAT)).to.include('Not sent to agent: “three is too many” — 2 messages already wait for it (the limit). Wait for the replies, or /stop.');
    await replyMatching(/^turn 3: you said two/);
  });

  it('10 MB in one turn: drained without a deadlock, streamed then sent whole as a document; the next turn works', async () => {
    const spool = temp.make('sessions-big-');
    const big = manager({ specs: { agent: agentSpec('stream-json') }, spoolDir: spool });
    const started = Date.now();
    await big.send({ chatId: CHAT, userId: USER, text: `big ${10 * 1024 * 1024}` });
    await waitFor(() => chat.documents.length > 0, { timeoutMs: 45_000, what: 'the reply as a document' });
    expect(chat.documents[0]?.caption).to.equal('Full output: 10.0 MB');
    expect(chat.texts(CHAT).join('\n')).to.include('of output so far; the whole log comes as a file at the end.');
    await idle(big);
    await big.send({ chatId: CHAT, userId: USER, text: 'after' });
    await replyMatching(/^turn 2: you said after/);
    expect(readdirSync(spool), 'the turn log is removed').to.deep.equal([]);
    expect(Date.now() - started).to.be.below(45_000);
  });

  it('the agent exits mid-turn: the reply says why (with its stderr); the next message starts a new process', async () => {
    const m = manager({ specs: { agent: agentSpec('stream-json') } });
    await m.send({ chatId: CHAT, userId: USER, text: 'exit 3' });
    const note = await replyMatching(/agent ended/);
    expect(note).to.include('exit code 3').and.include('fake agent: exiting with 3');
    expect(m.list(CHAT)).to.have.length(0);
    await m.send({ chatId: CHAT, userId: USER, text: 'still there?' });
    await replyMatching(/^turn 1: you said still there\?$/);
  });

  it('maxSessions: one more chat than the limit is refused with the limit', async () => {
    const m = manager({ specs: { agent: agentSpec('stream-json', { maxSessions: 2 }) } });
    await m.send({ chatId: 1, userId: USER, text: 'a' });
    await m.send({ chatId: 2, userId: USER, text: 'b' });
    const r = await m.send({ chatId: 3, userId: USER, text: 'c' });
    expect(r).to.include({ accepted: false, reason: 'too-many' });
    expect(chat.texts(3)[0]).to.equal('Not sent to agent: “c” — 2 agent sessions already run (the limit). Try again later, or ask the others to /new.');
  });

  describe('the idle timeout without the race', () => {
    const IDLE_SEC = 10;

    /**
     * One round: a turn, quiet until one second before the idle timeout, then a message and the
     * clock moving past the timeout in every order that can happen on one thread.
     */
    async function round(chatId: number, variant: number, jitterMs: number): Promise<'same' | 'fresh'> {
      const clock = new ManualClock(); // one per round: rounds run side by side
      const m = manager({ specs: { agent: agentSpec('stream-json', { idleTimeoutSec: IDLE_SEC }) }, clock });
      await m.send({ chatId, userId: USER, text: `first ${chatId}` });
      await replyMatching(new RegExp(`^turn 1: you said first ${chatId}$`), chatId);
      await idle(m, chatId);
      const pid = m.list(chatId)[0]?.pid as number;
      clock.advance(IDLE_SEC * 1000 - 1000);
      let expected: 'same' | 'fresh';
      const send = () => void m.send({ chatId, userId: USER, text: `second ${chatId}` });
      switch (variant) {
        case 0: // the message at T − 1 s, then the timer's moment passes while its turn runs
          send();
          clock.advance(1000 + jitterMs);
          expected = 'same';
          break;
        case 1: // the message a hair before the timer, in the same tick
          clock.advance(999);
          send();
          clock.advance(1 + jitterMs);
          expected = 'same';
          break;
        case 2: // the timer first, the message in the same tick right after
          clock.advance(1000 + jitterMs);
          send();
          expected = 'fresh';
          break;
        default: // the message at T − 1 s, then much later than the timeout while the turn runs
          send();
          clock.advance(5 * IDLE_SEC * 1000);
          expected = 'same';
      }
      const reply = await replyMatching(new RegExp(`you said second ${chatId}`), chatId);
      if (expected === 'same') {
        expect(reply, `variant ${variant}`).to.equal(`turn 2: you said second ${chatId} (before: first ${chatId})`);
        await idle(m, chatId);
        expect(m.list(chatId)[0]?.pid, 'the same process, still alive after its turn').to.equal(pid);
      } else {
        expect(reply, `variant ${variant}`).to.equal(`turn 1: you said second ${chatId}`);
        expect(chat.texts(chatId)).to.include(`💤 agent ended after ${IDLE_SEC} s without a message; your next message starts a new session.`);
        await waitFor(() => !alive(pid), { timeoutMs: 5000, what: 'the idle process to be gone' });
        await idle(m, chatId);
        expect(m.list(chatId)[0]?.pid).to.not.equal(pid);
      }
      expect(chat.texts(chatId).filter((t) => /ended:|Not sent/.test(t)), 'no failure, no refusal').to.deep.equal([]);
      await m.end(chatId, 'stop');
      return expected;
    }

    it('a message at idleTimeout − 1 s is answered by the same process or a fresh one, never lost (60 rounds, every order)', async function () {
      this.timeout(240_000);
      const outcomes: string[] = [];
      // Four rounds at a time, each variant once per batch, with the overshoot varied.
      for (let batch = 0; batch < 15; batch++) {
        const rounds = [0, 1, 2, 3].map((v) => round(1000 + batch * 4 + v, (batch + v) % 4, (batch * 37 + v * 11) % 1000));
        outcomes.push(...(await Promise.all(rounds)));
      }
      expect(outcomes.filter((o) => o === 'fresh')).to.have.length(15);
      expect(logger.at('error')).to.deep.equal([]);
    });

    it('after a turn the idle timer counts from the end of the turn, not from before it', async () => {
      const clock = new ManualClock();
      const m = manager({ specs: { agent: agentSpec('stream-json', { idleTimeoutSec: IDLE_SEC }) }, clock });
      await m.send({ chatId: CHAT, userId: USER, text: 'slow 300' });
      clock.advance(IDLE_SEC * 1000 * 3); // the whole timeout passes during the turn
      await replyMatching(/^working…\n\ndone$/);
      await idle(m);
      clock.advance(IDLE_SEC * 1000 - 1);
      expect(m.list(CHAT)).to.have.length(1);
      clock.advance(1);
      expect(m.list(CHAT)).to.have.length(0);
      await replyMatching(/💤 agent ended after 10 s/);
    });
  });

  describe('the budget', () => {
    async function durable(dir: string): Promise<DurableStore<SessionsFile>> {
      const store = await openStore<SessionsFile>({ file: path.join(dir, 'state.json'), defaults: emptySessionsFile, schema: sessionsFileSchema, logger, backupDir: path.join(dir, 'backups'), role: 'bot' });
      stores.push(store);
      return store;
    }
    const slice = (store: DurableStore<SessionsFile>) => ({ read: () => store.data as SessionsFile, update: <R>(fn: (f: SessionsFile) => R) => store.update(fn), flush: () => store.flush() });

    it('usage is summed per user per UTC day; over budget a message is refused with the figures and no session starts; it survives a restart', async () => {
      const dir = temp.make('sessions-budget-');
      const now = () => new Date('2026-03-01T18:30:00Z');
      const spec = agentSpec('stream-json', { budget: { dailyCostUsd: 0.025, dailyTokens: 1_000_000 } }, ['--cost', '0.01', '--tokens', '1200']);
      let store = await durable(dir);
      const m = manager({ specs: { agent: spec }, store: slice(store), now });
      for (const text of ['one', 'two', 'three']) {
        expect(await m.send({ chatId: CHAT, userId: USER, text })).to.include({ accepted: true });
        await replyMatching(new RegExp(`you said ${text}`));
        await idle(m);
      }
      const refusal = 'Not sent to agent: “four” — your daily budget is used up ($0.0300 of $0.0250, 3,600 of 1,000,000 tokens today). It resets at 00:00 UTC, in 6 hours.';
      expect(await m.send({ chatId: CHAT, userId: USER, text: 'four' })).to.include({ accepted: false, reason: 'over-budget' });
      expect(chat.texts(CHAT)).to.include(refusal);
      expect(await m.send({ chatId: CHAT, userId: 78, text: 'another user' })).to.include({ accepted: true });

      // A restart: the ledger is read back from disk.
      await m.stop(2000);
      await store.close();
      store = await durable(dir);
      const again = manager({ specs: { agent: spec }, store: slice(store), now });
      await again.start();
      const before = chat.texts(CHAT).length;
      expect(await again.send({ chatId: CHAT, userId: USER, text: 'four' })).to.include({ accepted: false, reason: 'over-budget' });
      expect(chat.texts(CHAT).slice(before)).to.include(refusal);
      expect(again.runningCount, 'the session is not started').to.equal(0);

      // The next UTC day starts from zero.
      const tomorrow = manager({ specs: { agent: spec }, store: slice(store), now: () => new Date('2026-03-02T00:00:01Z') });
      expect(await tomorrow.send({ chatId: CHAT, userId: USER, text: 'new day' })).to.include({ accepted: true });
      await replyMatching(/you said new day/);
    });

    it('a message that waited while earlier turns used up the budget is refused when its turn comes', async () => {
      const spec = agentSpec('stream-json', { budget: { dailyTokens: 1500 } }, ['--tokens', '1000']);
      const m = manager({ specs: { agent: spec } });
      await m.send({ chatId: CHAT, userId: USER, text: 'slow 300' });
      await m.send({ chatId: CHAT, userId: USER, text: 'second' });
      await m.send({ chatId: CHAT, userId: USER, text: 'third' });
      await replyMatching(/^Not sent to agent: “third” — your daily budget is used up \(2,000 of 1,500 tokens today\)/);
      await replyMatching(/you said second/);
    });
  });

  it('restart honesty: the next start stops what is left of the previous run and tells the chat once', async () => {
    const dir = temp.make('sessions-restart-');
    const store = await openStore<SessionsFile>({ file: path.join(dir, 'state.json'), defaults: emptySessionsFile, schema: sessionsFileSchema, logger, backupDir: path.join(dir, 'backups'), role: 'bot' });
    stores.push(store);
    const slice = { read: () => store.data as SessionsFile, update: <R>(fn: (f: SessionsFile) => R) => store.update(fn), flush: () => store.flush() };
    const previousRun = new ChatRecorder(); // the run that "crashed": its own last words are not this test's business
    const old = new SessionManager({ api: previousRun as unknown as Api, specs: { agent: agentSpec('stream-json') }, store: slice, logger, spoolDir: temp.make('spool-'), killGraceMs: 500 });
    await old.send({ chatId: CHAT, userId: USER, text: 'child' });
    const child = Number((await waitFor(() => previousRun.texts(CHAT).find((t) => /^child \d+$/.test(t)), { what: 'the child' })).split(' ')[1]);
    await old.send({ chatId: CHAT, userId: USER, text: 'slow 30000' });
    await old.send({ chatId: CHAT, userId: USER, text: 'left waiting' });
    const agent = old.list(CHAT)[0]?.pid as number;
    await waitFor(() => store.data.live[0]?.pending === 2, { what: 'the record to count the two messages' });

    const next = manager({ specs: { agent: agentSpec('stream-json') }, store: slice });
    await next.start();
    expect(alive(agent) || alive(child), 'the orphaned agent and its child are stopped').to.equal(false);
    await replyMatching(/session ended by a restart/);
    expect(chat.texts(CHAT)).to.deep.equal(['🔄 agent: session ended by a restart (2 messages were not answered); your next message starts a new one.']);
    expect(store.data.live).to.deep.equal([]);
    await managers[managers.length - 1]?.stop(1000);
    const again = manager({ specs: { agent: agentSpec('stream-json') }, store: slice });
    await again.start();
    expect(chat.texts(CHAT), 'told once').to.have.length(1);
    await old.stop(1000);
  });
});
