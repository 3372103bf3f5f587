import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, type DurableStore, isAlive, openStore, type ProcessRef, refOf } from '@botvisor/core';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import type { Api } from 'node-telegram-bot-api';
import type { JobHandle, JobResult, JobSpec } from '../src/index.js';
import { JobBook, QUOTA_LEDGER_FILE } from '../src/jobs/pool/job-book.js';
import { JobPool, type JobPoolOptions } from '../src/jobs/pool/job-pool.js';
import { emptyJobsFile, type JobsFile, jobsFileSchema } from '../src/jobs/pool/job-record.js';

/** Records what the pool says; answers like the Bot API would. */
class FakeApi {
  readonly calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  private nextId = 1;
  /** What the chat saw said or changed, in order: sent messages and edits of their text. */
  texts(chatId?: number): string[] {
    return this.calls.filter((c) => (c.method === 'sendMessage' || c.method === 'editMessageText') && (chatId === undefined || c.params.chat_id === chatId)).map((c) => String(c.params.text));
  }
  sends(chatId?: number): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.method === 'sendMessage' && (chatId === undefined || c.params.chat_id === chatId)).map((c) => c.params);
  }
  /** Every edit of message `messageId`, in order. */
  edits(messageId: number): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.method === 'editMessageText' && c.params.message_id === messageId).map((c) => c.params);
  }
  private record(method: string, params: Record<string, unknown>): void {
    this.calls.push({ method, params });
  }
  sendMessage = async (params: Record<string, unknown>) => {
    const message_id = this.nextId++;
    this.record('sendMessage', { ...params, message_id });
    return { message_id };
  };
  editMessageText = async (params: Record<string, unknown>) => void this.record('editMessageText', params);
  editMessageReplyMarkup = async (params: Record<string, unknown>) => void this.record('editMessageReplyMarkup', params);
  sendChatAction = async (params: Record<string, unknown>) => {
    this.record('sendChatAction', params);
    return true;
  };
  sendDocument = async (params: Record<string, unknown>) => void this.record('sendDocument', params);
}

/** A runner whose jobs end when the test says so. */
class FakeRunner {
  readonly started: Array<{ spec: JobSpec; finish: (ok?: boolean) => Promise<void>; killed: () => Promise<void>; cancelledWith?: number | undefined }> = [];
  readonly run = (spec: JobSpec): JobHandle => {
    let settle!: (r: JobResult) => void;
    const result = new Promise<JobResult>((resolve) => {
      settle = resolve;
    });
    let done = false;
    const end = async (fields: Partial<JobResult>): Promise<void> => {
      if (done) return;
      done = true;
      const r: JobResult = { id: spec.id ?? '?', argv: [...spec.argv], code: 0, signal: null, durationMs: 5, outputBytes: 0, timedOut: false, cancelled: false, ok: true, tail: '', stderrTail: '', survivors: 0, ...fields };
      await spec.onEnded?.(r, undefined);
      settle(r);
    };
    const entry: FakeRunner['started'][number] = {
      spec,
      finish: (ok = true) => end(ok ? {} : { ok: false, code: 1, failure: '`x` failed (exit code 1): boom' }),
      killed: () => end({ ok: false, code: null, signal: 'SIGTERM', failure: '`x` was killed by SIGTERM.' }),
    };
    spec.onSpawn?.({ pid: 40_000 + this.started.length, startTime: 1 }, 'm');
    this.started.push(entry);
    return {
      id: spec.id ?? '?',
      marker: 'm',
      result,
      process: undefined,
      outputBytes: 0,
      tail: () => '',
      cancel: (options) => {
        entry.cancelledWith = options?.graceMs;
        void end({ cancelled: true, ok: false, code: null, signal: 'SIGTERM' });
      },
    };
  };
  argvs(): string[] {
    return this.started.map((s) => s.spec.argv.join(' '));
  }
}

type Commands = Readonly<Record<string, { argv: string[]; args?: Record<string, string>; admin?: boolean; takes?: string; example?: string }>>;

const COMMANDS: Commands = {
  echo: { argv: ['echo', '{text}'], args: { text: '^[a-z0-9 ]{1,20}$' } },
  admin: { argv: ['reboot'], admin: true },
  sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,3}$' }, takes: 'a number of seconds, 1–999', example: '30' },
};

describe('job pool (in process, with a scripted runner)', () => {
  const temp = new TempDirs();
  let store: DurableStore<JobsFile>;
  let api: FakeApi;
  let runner: FakeRunner;
  let dir: string;
  const logger = createLogger({ proc: 'pool-test', console: 'never' });

  async function openBook(): Promise<JobBook> {
    store = await openStore<JobsFile>({ file: path.join(dir, 'jobs.json'), defaults: emptyJobsFile, schema: jobsFileSchema, backupIntervalMs: 0, logger });
    return new JobBook(store);
  }

  /** `node`: cluster mode, as this node. */
  async function makePool(options: JobPoolOptions = {}, admins: number[] = [], commands: Commands = COMMANDS, node?: string): Promise<JobPool> {
    const pool = new JobPool({ book: await openBook(), api: api as unknown as Api, commands, admins, spoolDir: path.join(dir, 'tmp'), logger, run: runner.run, ...(node !== undefined ? { node } : {}) }, options);
    await pool.start();
    return pool;
  }

  const ask = (pool: JobPool, userId: number, text: string, updateId?: number) =>
    pool.submit({ command: 'echo', args: text, userId, chatId: userId, ...(updateId !== undefined ? { updateId } : {}) });

  beforeEach(() => {
    dir = temp.make('botvisor-pool-');
    api = new FakeApi();
    runner = new FakeRunner();
  });
  afterEach(async () => {
    await store.close();
    temp.removeAll();
  });

  it('runs at most `concurrency` jobs, one per user at a time, in the order each user asked', async () => {
    const pool = await makePool({ concurrency: 2 });
    await ask(pool, 1, 'a1');
    await ask(pool, 1, 'a2');
    await ask(pool, 2, 'b1');
    await ask(pool, 3, 'c1');
    expect(runner.argvs()).to.deep.equal(['echo a1', 'echo b1']);
    expect(api.texts(1)).to.include('⏳ Job #2 (/echo a2) is queued, 1 ahead of it.');
    expect(api.sends(1).find((m) => m.text === '⏳ Job #2 (/echo a2) is queued, 1 ahead of it.')?.reply_markup, 'a queued card has its Stop button').to.deep.equal({
      inline_keyboard: [[{ text: '⏹ Stop #2', callback_data: 'job:stop:2' }]],
    });
    await ask(pool, 1, 'a3');
    await runner.started[0]?.finish();
    await waitFor(() => runner.started.length === 3, { what: 'the next job' });
    expect(runner.argvs()[2]).to.equal('echo a2'); // user 1 asked for a2 before user 3 asked for c1
    await runner.started[1]?.finish();
    await waitFor(() => runner.started.length === 4, { what: 'the next job' });
    expect(runner.argvs()[3]).to.equal('echo c1'); // not a3: after a2 started, user 1 went to the back
    expect(pool.list(1).map((j) => j.status)).to.deep.equal(['done', 'running', 'queued']);
  });

  it('refuses a job beyond the user\'s queue limit, naming the command it refused', async () => {
    const pool = await makePool({ queueLimit: 2 });
    for (const t of ['x', 'y', 'z']) expect((await ask(pool, 1, t)).accepted).to.equal(true);
    const refused = await ask(pool, 1, 'w');
    expect(refused).to.include({ accepted: false, reason: 'queue-full' });
    expect(api.texts(1).at(-1)).to.equal('/echo w not queued: your queue is full (2 waiting). Send it again when some have finished.');
  });

  it('one message per job: the queued card is edited to running, then to its end, and loses its Stop button', async () => {
    const pool = await makePool({ live: { intervalMs: 20 } });
    await ask(pool, 1, 'a');
    await ask(pool, 1, 'b');
    const card = api.sends(1).find((m) => String(m.text).startsWith('⏳ Job #2'));
    expect(card, 'the queued card').to.not.equal(undefined);
    await runner.started[0]?.finish();
    await waitFor(() => runner.started.length === 2, { what: 'job 2 to start' });
    await waitFor(() => api.edits(card?.message_id as number).some((e) => String(e.text).startsWith('▶ Job #2: /echo b')), { what: 'the card to show job 2 running' });
    const running = api.edits(card?.message_id as number).find((e) => String(e.text).startsWith('▶ Job #2'));
    expect(running?.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '⏹ Stop #2', callback_data: 'job:stop:2' }]] });
    await runner.started[1]?.finish();
    await waitFor(() => pool.get(2)?.status === 'done', { what: 'job 2 done' });
    const last = api.edits(card?.message_id as number).at(-1);
    expect(last?.text).to.match(/^✅ Job #2 \(\/echo b\) done in .*\n\(no output\)$/);
    expect(last?.reply_markup, 'no stale Stop button').to.equal(undefined);
    expect(api.sends(1).filter((m) => String(m.text).includes('Job #2')), 'job 2 cost one message').to.have.length(1);
    expect(pool.get(2)?.messageId).to.equal(card?.message_id);
  });

  it('the Stop button: the owner takes a queued job off the queue, an admin stops another\'s running job, anyone else is refused', async () => {
    const pool = await makePool({}, [9]);
    await ask(pool, 1, 'a');
    await ask(pool, 1, 'b');
    expect(pool.stopJob(1, 2)).to.deep.equal({ ok: false, message: 'Job #1 is not yours.' });
    expect(pool.stopJob(2, 1)).to.deep.equal({ ok: true, message: 'Job #2 taken off the queue.' });
    expect(pool.get(2)?.status).to.equal('cancelled');
    await waitFor(() => api.texts(1).includes('⏹ Job #2 (/echo b) was taken off the queue before it started.'), { what: 'the card of job 2 to say so' });
    expect(pool.stopJob(1, 9)).to.deep.equal({ ok: true, message: 'Stopping job #1.' });
    await waitFor(() => pool.get(1)?.status === 'cancelled', { what: 'job 1 stopped' });
    expect(pool.get(1)?.outcome?.stoppedBy).to.equal('admin');
    expect(api.texts(1).at(-1)).to.match(/^⏹ Job #1 \(\/echo a\) stopped by an admin after /);
    expect(pool.stopJob(1, 1)).to.deep.equal({ ok: false, message: 'Job #1 is cancelled: nothing to stop.' });
  });

  it('a job whose process the operator stopped (the dashboard) reads as stopped by the operator, not killed by SIGTERM', async () => {
    const pool = await makePool();
    await ask(pool, 1, 'a');
    expect(pool.stoppedByOperator(12345), 'not a job process').to.equal(false);
    expect(pool.stoppedByOperator(40_000)).to.equal(true);
    await runner.started[0]?.killed();
    await waitFor(() => pool.get(1)?.status === 'cancelled', { what: 'job 1 stopped' });
    expect(api.texts(1).at(-1)).to.match(/^⏹ Job #1 \(\/echo a\) stopped by the operator after /).and.not.include('SIGTERM');
    expect(pool.get(1)?.outcome).to.include({ stoppedBy: 'operator', signal: 'SIGTERM' });
  });

  it('arguments that do not fit are explained once, in the config\'s words with its example', async () => {
    const pool = await makePool();
    expect(await pool.submit({ command: 'sleep', args: 'soon', userId: 1, chatId: 1 })).to.include({ reason: 'bad-arguments' });
    expect(api.texts(1).at(-1)).to.equal('/sleep takes a number of seconds, 1–999, e.g. /sleep 30 (not "soon").');
    await pool.submit({ command: 'sleep', userId: 1, chatId: 1 });
    expect(api.texts(1).at(-1)).to.equal('/sleep takes a number of seconds, 1–999, e.g. /sleep 30.');
  });

  it('daily quota: two asks in the same tick with one job left — exactly one passes; admins have no quota', async () => {
    const pool = await makePool({ dailyQuota: 1 }, [9]);
    const [a, b] = await Promise.all([ask(pool, 1, 'one'), ask(pool, 1, 'two')]);
    expect([a.accepted, b.accepted].sort()).to.deep.equal([false, true]);
    expect([a, b].find((r) => !r.accepted)).to.include({ reason: 'quota-exceeded' });
    for (const t of ['p', 'q', 'r']) expect((await ask(pool, 9, t)).accepted).to.equal(true);
    expect(store.data.quota.used).to.deep.equal({ 1: 1, 9: 3 });
  });

  it('an update handed out again after a crash finds its job instead of starting a second one', async () => {
    const pool = await makePool();
    const first = await ask(pool, 1, 'once', 555);
    const again = await ask(pool, 1, 'once', 555);
    expect(again).to.deep.include({ accepted: true, duplicate: true });
    expect(again.accepted && first.accepted && again.job.id === first.job.id).to.equal(true);
    expect(runner.started).to.have.length(1);
  });

  it('says why a command is refused: unknown, admins only, an argument that does not match its pattern', async () => {
    const pool = await makePool({}, [9]);
    expect(await pool.submit({ command: 'nope', userId: 1, chatId: 1 })).to.include({ reason: 'unknown-command' });
    expect(await pool.submit({ command: 'admin', userId: 1, chatId: 1 })).to.include({ reason: 'admin-only' });
    expect((await pool.submit({ command: 'admin', userId: 9, chatId: 9 })).accepted).to.equal(true);
    const bad = await ask(pool, 1, '$(reboot)');
    expect(bad).to.include({ reason: 'bad-arguments' });
    expect(api.texts(1).at(-1)).to.equal('/echo takes <text> (^[a-z0-9 ]{1,20}$) (not "$(reboot)").');
    expect(runner.argvs()).to.deep.equal(['reboot']);
  });

  it('after a restart: a running job becomes interrupted, its owner gets a Retry button, queued jobs resume; Retry runs it once', async () => {
    let pool = await makePool();
    await ask(pool, 1, 'long');
    await ask(pool, 1, 'next');
    await store.close(); // the bot dies here: nothing of this pool runs on
    runner = new FakeRunner();
    pool = await makePool();
    expect(pool.get(1)?.status).to.equal('interrupted');
    // The queued job resumes once its `running` record is on disk.
    await waitFor(() => runner.argvs().length === 1, { what: 'the queued job to resume' });
    expect(runner.argvs()).to.deep.equal(['echo next']);
    await waitFor(() => api.calls.some((c) => /interrupted/.test(String(c.params.text))), { what: 'the interrupted notice' });
    const notice = api.calls.find((c) => /interrupted/.test(String(c.params.text)));
    expect(notice?.params.text).to.match(/Job #1 \(\/echo long\) was interrupted/);
    expect(notice?.params.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '🔁 Retry', callback_data: 'job:retry:1' }]] });
    await waitFor(() => pool.get(1)?.notified === true, { what: 'the notice to be recorded' });

    expect(await pool.retry(1, 2)).to.include({ accepted: false, reason: 'not-yours' });
    const [r1, r2] = await Promise.all([pool.retry(1, 1), pool.retry(1, 1)]);
    expect([r1.accepted, r2.accepted].sort()).to.deep.equal([false, true]);
    expect([r1, r2].find((r) => !r.accepted)).to.include({ reason: 'already-retried' });
    await runner.started[0]?.finish();
    await waitFor(() => runner.started.length === 2, { what: 'the retried job' });
    expect(pool.get(3)).to.include({ retryOf: 1, status: 'running' });
  });

  it('/stop stops the running job (cancelled); with "all" the queue is dropped too', async () => {
    const pool = await makePool();
    await ask(pool, 1, 'a');
    await ask(pool, 1, 'b');
    expect(pool.cancel(1, { all: true })).to.deep.equal({ stopped: 1, dropped: 1 });
    await waitFor(() => pool.get(1)?.status === 'cancelled', { what: 'job 1 cancelled' });
    expect(pool.get(2)?.status).to.equal('cancelled');
    expect(runner.started).to.have.length(1);
    await waitFor(() => api.texts(1).some((t) => /^⏹ Job #1 \(\/echo a\) stopped after/.test(t)), { what: 'the card of job 1 to say it stopped' });
    await waitFor(() => api.texts(1).includes('⏹ Job #2 (/echo b) was taken off the queue before it started.'), { what: 'the card of job 2 to say it was dropped' });
  });

  it('shutdown: running jobs are stopped with a short grace and become interrupted with a Retry button; queued ones stay queued', async () => {
    const pool = await makePool({ killGraceMs: 3000 });
    await ask(pool, 1, 'a');
    await ask(pool, 1, 'b');
    await pool.stop(2000);
    expect(runner.started[0]?.cancelledWith).to.equal(500);
    expect(pool.get(1)).to.include({ status: 'interrupted', notified: true });
    expect(pool.get(2)?.status).to.equal('queued');
    // Its card (the running message, never shown before the stop: sent now) says so, with Retry.
    const last = api.calls.filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText').filter((c) => /Job #1/.test(String(c.params.text))).at(-1);
    expect(last?.params.text).to.match(/^⚠️ Job #1 .*interrupted.*the bot is stopping/);
    expect(last?.params.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '🔁 Retry', callback_data: 'job:retry:1' }]] });
    expect((await ask(pool, 1, 'c')).accepted).to.equal(false);
  });

  it('a failed job\'s summary carries the failure sentence', async () => {
    const pool = await makePool();
    await ask(pool, 1, 'a');
    await runner.started[0]?.finish(false);
    await waitFor(() => pool.get(1)?.status === 'failed', { what: 'job 1 failed' });
    expect(api.texts(1).at(-1)).to.match(/^❌ Job #1 \(\/echo a\), after .*: `x` failed \(exit code 1\): boom\n\(no output\)$/);
    expect(pool.get(1)?.outcome).to.include({ code: 1, failure: '`x` failed (exit code 1): boom' });
  });

  describe('cluster mode: a running job\'s record names the node its process runs on', () => {
    const spawned: ChildProcess[] = [];
    afterEach(() => {
      for (const child of spawned.splice(0)) {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });

    /**
     * Node host-a's bot runs job 1 and dies with it recorded as running; its pid is made to name a
     * live process here (what another host's pid may well be). The bot then starts on `takenBy`.
     */
    async function takenOverBy(takenBy: string): Promise<{ pool: JobPool; ref: ProcessRef }> {
      await ask(await makePool({}, [], COMMANDS, 'host-a'), 1, 'long');
      expect(store.data.jobs[0]?.process).to.deep.include({ node: 'host-a' });
      const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
      spawned.push(child);
      const ref = await waitFor(() => refOf(child.pid as number), { what: 'the stand-in process to appear' });
      store.update((f) => {
        const job = f.jobs[0];
        if (job !== undefined) job.process = { pid: ref.pid, startTime: ref.startTime, marker: 'job-of-host-a', node: 'host-a' };
      });
      await store.close(); // host-a is gone
      runner = new FakeRunner();
      api = new FakeApi();
      return { pool: await makePool({}, [], COMMANDS, takenBy), ref };
    }

    it('another node\'s running job is marked interrupted and its owner told as for a restart; its pid is never signalled here', async () => {
      const { pool, ref } = await takenOverBy('host-b');
      expect(pool.get(1)?.status).to.equal('interrupted');
      await waitFor(() => api.texts(1).some((t) => /^⚠️ Job #1 \(\/echo long\) was interrupted: the bot restarted while it ran/.test(t)), { what: 'the owner to be told' });
      expect(isAlive(ref), 'the process that pid names on this host is untouched').to.equal(true);
    });

    it('the same node\'s own leftover is stopped at start, as on one machine', async () => {
      const { pool, ref } = await takenOverBy('host-a');
      expect(pool.get(1)?.status).to.equal('interrupted');
      await waitFor(() => !isAlive(ref), { what: "this node's orphaned job process to be stopped" });
    });
  });

  /** A pool whose first job (`/echo <text>` by user 1) was running when the bot died: job 1 is interrupted. */
  async function afterCrash(commands: Commands, admins: number[] = [], text = 'long'): Promise<JobPool> {
    await ask(await makePool(), 1, text);
    await store.close(); // the bot dies here
    runner = new FakeRunner();
    api = new FakeApi();
    const pool = await makePool({}, admins, commands);
    expect(pool.get(1)?.status).to.equal('interrupted');
    return pool;
  }
  describe('Retry is checked against the current config', () => {
    it('a command made admin-only since is refused to its non-admin owner', async () => {
      const pool = await afterCrash({ ...COMMANDS, echo: { ...(COMMANDS.echo as Commands[string]), admin: true } });
      expect(await pool.retry(1, 1)).to.include({ accepted: false, reason: 'admin-only' });
      expect(await ask(pool, 1, 'fresh')).to.include({ accepted: false, reason: 'admin-only' });
      expect(runner.started).to.have.length(0);
    });

    it('a command removed from the config since is refused; so is a value its pattern no longer allows', async () => {
      let pool = await afterCrash({ admin: COMMANDS.admin as Commands[string] });
      expect(await pool.retry(1, 1)).to.include({ accepted: false, reason: 'unknown-command' });
      await store.close();
      pool = await makePool({}, [], { ...COMMANDS, echo: { argv: ['echo', '{text}'], args: { text: '^[0-9]+$' } } });
      const refused = await pool.retry(1, 1);
      expect(refused).to.include({ accepted: false, reason: 'bad-arguments' });
      expect(!refused.accepted && refused.message).to.equal('Job #1 cannot run again: /echo takes <text> (^[0-9]+$) (not "long").');
      expect(runner.started).to.have.length(0);
    });

    it('the argv is filled again from the current template, and the retry gets no Retry button of its own', async () => {
      const pool = await afterCrash({ ...COMMANDS, echo: { argv: ['printf', '%s\\n', '{text}'], args: { text: '^[a-z]+$' } } });
      const retried = await pool.retry(1, 1);
      expect(retried.accepted).to.equal(true);
      expect(runner.argvs()).to.deep.equal(['printf %s\\n long']);
      await pool.stop(2000); // the retry is interrupted in turn
      const last = api.calls.filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText').at(-1);
      expect(last?.params.text).to.match(/^⚠️ Job #2 .*interrupted.*Send the command again to run it again\.\n/);
      expect(last?.params.reply_markup).to.equal(undefined);
      expect(await pool.retry(2, 1)).to.include({ accepted: false, reason: 'not-retryable' });
    });

    it('only an interrupted job: a forged job:retry of a finished job is refused', async () => {
      const pool = await makePool();
      await ask(pool, 1, 'a');
      await runner.started[0]?.finish();
      await waitFor(() => pool.get(1)?.status === 'done', { what: 'job 1 done' });
      expect(await pool.retry(1, 1)).to.include({ accepted: false, reason: 'not-interrupted' });
      await ask(pool, 1, 'b');
      pool.cancel(1);
      await waitFor(() => pool.get(2)?.status === 'cancelled', { what: 'job 2 cancelled' });
      expect(await pool.retry(2, 1)).to.include({ accepted: false, reason: 'not-interrupted' });
      expect(runner.started).to.have.length(2);
    });

    it('a record without its values (an older version, an inline job) is not retried and gets no Retry button', async () => {
      let pool = await makePool();
      await pool.submit({ command: 'inline', spec: { argv: ['true'] }, userId: 1, chatId: 1 });
      await store.close();
      runner = new FakeRunner();
      api = new FakeApi();
      pool = await makePool();
      await waitFor(() => api.texts(1).length === 1, { what: 'the interrupted notice' });
      expect(api.texts(1)[0]).to.match(/Job #1 .*interrupted.*Send the command again/);
      expect(api.calls[0]?.params.reply_markup).to.equal(undefined);
      expect(await pool.retry(1, 1)).to.include({ accepted: false, reason: 'not-retryable' });
    });
  });

  describe('argument filling', () => {
    it('a NUL byte in a value is refused with the reason, before anything runs', async () => {
      const pool = await makePool({}, [], { nul: { argv: ['echo', '{text}'], args: { text: '^[\\s\\S]{1,20}$' } } });
      const refused = await pool.submit({ command: 'nul', args: 'a\u0000b', userId: 1, chatId: 1 });
      expect(refused).to.include({ accepted: false, reason: 'bad-arguments' });
      expect(api.texts(1).at(-1)).to.equal('/nul takes <text> (^[\\s\\S]{1,20}$) (not "a\\u0000b").');
      expect(runner.started).to.have.length(0);
    });

    it('a placeholder named like an Object.prototype member is never filled from the prototype', async () => {
      const pool = await makePool({}, [], { proto: { argv: ['echo', '{constructor}'] }, tostr: { argv: ['echo', '{text}'], args: { text: '^.*$' } } });
      expect(await pool.submit({ command: 'proto', userId: 1, chatId: 1 })).to.include({ accepted: false, reason: 'bad-arguments' });
      expect(api.texts(1).at(-1)).to.include('{constructor} has a reserved name');
      expect(await pool.submit({ command: 'constructor', userId: 1, chatId: 1 })).to.include({ accepted: false, reason: 'unknown-command' });
      expect(await pool.submit({ command: 'tostr', args: { toString: 'x' }, userId: 1, chatId: 1 })).to.include({ accepted: false, reason: 'bad-arguments' });
      expect(runner.argvs().join('\n')).to.not.include('function');
    });
  });

  it('quota: a jobs file restored from an older backup does not give users back jobs they used (the quota ledger)', async () => {
    let pool = await makePool({ dailyQuota: 3 });
    await store.backupNow(); // taken before any job: restoring it would forget them all
    for (const t of ['a', 'b']) expect((await ask(pool, 1, t)).accepted).to.equal(true);
    await store.close(); // the bot dies…
    writeFileSync(path.join(dir, 'jobs.json'), '{"version": 1, "nextId": 3, "jo'); // …and its jobs file is found cut short
    runner = new FakeRunner();
    pool = await makePool({ dailyQuota: 3 });
    expect(store.loaded.source).to.equal('backup');
    expect(store.data.quota.used).to.deep.include({ 1: 2 });
    expect((await ask(pool, 1, 'c')).accepted).to.equal(true);
    expect(await ask(pool, 1, 'd')).to.include({ accepted: false, reason: 'quota-exceeded' });
    await pool.stop(1000);
    expect(readFileSync(path.join(dir, QUOTA_LEDGER_FILE), 'utf8').trim().split('\n')).to.have.length(3);
  });
});
