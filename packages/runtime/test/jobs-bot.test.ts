import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CONFIG } from '@botvisor/core';
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { install, newToken, startBot } from './support/bot-harness.js';
import { cookieProcesses, filesIn, JOB_BOT, jobCommands, peakRss } from './support/job-fixtures.js';

const USER = { id: 1001, first_name: 'Ada' };
const ADMIN = { id: 1002, first_name: 'Root' };

/**
 * Every folder and file under `root` that is open to group or others (symlinks skipped). The bot
 * is still running, so a temp file listed a moment ago may have been renamed over its target since:
 * it is skipped (the target is listed and checked itself).
 */
function notPrivate(root: string): string[] {
  const open: string[] = [];
  for (const name of readdirSync(root)) {
    const p = path.join(root, name);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined || st.isSymbolicLink()) continue;
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777) !== want) open.push(`${path.relative(root, p)} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) open.push(...notPrivate(p).map((q) => `${name}/${q}`));
  }
  return open;
}

describe('jobs in a real bot process (job bot against the simulator)', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  function jobBot(extra: Record<string, unknown> = {}) {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token, module: JOB_BOT, commands: jobCommands(), allow: [USER.id], ...extra });
    return { token, inst };
  }

  it('a job printing 100 MB completes without deadlock, the bot stays under 200 MB RSS and answers /ping meanwhile', async () => {
    const { token, inst } = jobBot();
    const bot = startBot(bed.tracker, inst);
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'flood', args: '100 1500' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /^▶ Job #1/, timeoutMs: 10_000 });
    const ping = bed.sim.users.sendCommand(token, { user: USER, command: 'ping' });
    const pong = await bed.sim.client.waitForMessage(token, USER.id, { after: ping.cursor, text: 'pong', timeoutMs: 5000 });
    const done = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /^Full output: 100\.0 MB/, timeoutMs: 60_000 });
    expect(pong.seq, 'pong arrived while the job ran').to.be.below(done.seq);
    expect(done.kind).to.equal('document');
    expect(done.document?.file_name).to.equal('job-1.log.gz');
    // Then the job's card says how it ended, above the tail of its output.
    const card = await bed.sim.client.waitForMessage(token, USER.id, { after: done.seq, pattern: /^✅ Job #1 \(\/flood 100 1500\) done/, timeoutMs: 10_000 });
    expect(card.text).to.include('of output; the whole log is in the file below.');
    const rss = await peakRss(bot.pid);
    if (rss !== undefined) expect(rss, 'peak RSS of the bot').to.be.below(200 * 1024 * 1024);
    await waitFor(() => filesIn(path.join(inst.dataDir, 'bots', 'main', 'tmp')).length === 0, { what: 'the job temp files to be removed' });
  });

  it('/stop ends a job that ignores SIGTERM and forks grandchildren (one via setsid, one escaped to init) within grace + 2 s', async () => {
    const { token, inst } = jobBot();
    const bot = startBot(bed.tracker, inst, { env: { JOB_BOT_KILL_GRACE_MS: '1000' } });
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'stubborn' });
    // The tool, its two children and the escaped one: every one carries the tree cookie.
    await waitFor(() => cookieProcesses(bed.tracker.cookie, [bot.pid]).length >= 4, { timeoutMs: 10_000, what: 'the stubborn job and its three grandchildren' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /stubborn ready/, timeoutMs: 10_000 });
    const spawned = bot.messages.filter((m) => m.type === 'child-spawned');
    expect(spawned, 'child-spawned reported over IPC').to.have.length(1);
    bot.child.send({ type: 'ping', seq: 1 });
    const pong = await waitFor(() => bot.messages.find((m) => m.type === 'pong'), { what: 'a pong' });
    expect(pong).to.include({ runningJobs: 1 });

    const stoppedAt = Date.now();
    bed.sim.users.sendCommand(token, { user: USER, command: 'stop' });
    await waitFor(() => cookieProcesses(bed.tracker.cookie, [bot.pid]).length === 0, { timeoutMs: 1000 + 2000, intervalMs: 50, what: 'no process of the job left' });
    const tookMs = Date.now() - stoppedAt;
    const summary = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /Job #1 .*stopped/, timeoutMs: 10_000 });
    expect(summary.text).to.match(/^⏹ Job #1 \(\/stubborn\) stopped after/);
    const exited = await waitFor(() => bot.messages.find((m) => m.type === 'child-exited'), { what: 'child-exited over IPC' });
    expect(exited).to.deep.include({ child: { pid: (spawned[0] as { child: { pid: number } }).child.pid, startTime: (spawned[0] as { child: { startTime: number } }).child.startTime } });
    expect(tookMs).to.be.below(3000);
  });

  it('10,000 characters of output arrive as three or more messages, none over 4096; 1 MB arrives as a document', async () => {
    const { token, inst } = jobBot();
    const bot = startBot(bed.tracker, inst);
    await bot.ready();
    const small = bed.sim.users.sendCommand(token, { user: USER, command: 'lines', args: '100 0' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: small.cursor, pattern: /^✅ Job #1 .*done/, timeoutMs: 20_000 });
    const entries = (await bed.sim.client.transcript(token, USER.id)).entries.filter((e) => e.kind === 'sent' || e.kind === 'edited');
    for (const e of entries) expect(e.text?.length ?? 0, `message ${e.message_id}`).to.be.at.most(4096);
    // The latest text of each message, in order: together they are the whole output.
    const latest = new Map<number, string>();
    for (const e of entries) latest.set(e.message_id as number, e.text ?? '');
    const outputMessages = [...latest.values()].filter((t) => t.includes('line '));
    expect(outputMessages.length, JSON.stringify(entries.map((e) => [e.kind, e.message_id, e.text?.length, e.text?.slice(0, 60)]))).to.be.at.least(3);
    const shown = outputMessages.join('\n').split('\n').filter((l) => l.startsWith('line '));
    expect(shown).to.have.length(100);
    expect(shown.map((l) => Number(l.split(' ')[1]))).to.deep.equal(Array.from({ length: 100 }, (_, i) => i + 1));

    const big = bed.sim.users.sendCommand(token, { user: USER, command: 'lines', args: '10486 0' });
    const doc = await bed.sim.client.waitForMessage(token, USER.id, { after: big.cursor, pattern: /^Full output/, timeoutMs: 30_000 });
    expect(doc.kind).to.equal('document');
    expect(doc.document).to.deep.include({ file_name: 'job-2.log', file_size: 10486 * 100 });
    const during = (await bed.sim.client.transcript(token, USER.id, big.cursor)).entries.filter((e) => e.kind === 'sent');
    expect(during.length, 'a 1 MB output is not streamed as a wall of messages').to.be.at.most(4);
    await waitFor(() => filesIn(path.join(inst.dataDir, 'bots', 'main', 'tmp')).length === 0, { what: 'the job temp files to be removed' });
  });

  it('a bad argument is refused with the pattern; a hostile one reaches the tool literally, never through a shell', async () => {
    const { token, inst } = jobBot();
    const bot = startBot(bed.tracker, inst);
    await bot.ready();
    const bad = bed.sim.users.sendCommand(token, { user: USER, command: 'sleep', args: '--help' });
    const refusal = await bed.sim.client.waitForMessage(token, USER.id, { after: bad.cursor });
    expect(refusal.text, 'the pattern said once, with what was sent').to.equal('/sleep takes <secs> (^[0-9]{1,3}$) (not "--help").');
    const hostile = '; touch /tmp/botvisor-pwned $(id) `id` && echo $HOME';
    const ok = bed.sim.users.sendCommand(token, { user: USER, command: 'args', args: hostile });
    await bed.sim.client.waitForMessage(token, USER.id, { after: ok.cursor, pattern: /Job #1 .*done/, timeoutMs: 10_000 });
    const entries = (await bed.sim.client.transcript(token, USER.id, ok.cursor)).entries;
    expect(entries.some((e) => e.text?.includes(JSON.stringify([hostile])))).to.equal(true);
    expect(filesIn('/tmp')).to.not.include('botvisor-pwned');

    // A plain ctx.reply goes through the outbox too: 9000 characters arrive as three messages.
    const long = bed.sim.users.sendCommand(token, { user: USER, command: 'long', args: '9000' });
    await waitFor(async () => (await bed.sim.client.transcript(token, USER.id, long.cursor)).entries.filter((e) => e.kind === 'sent').length === 3, { what: 'three parts' });
    const parts = (await bed.sim.client.transcript(token, USER.id, long.cursor)).entries.filter((e) => e.kind === 'sent');
    for (const p of parts) expect(p.text?.length).to.be.at.most(4096);
    expect(parts.map((p) => p.text?.length ?? 0).reduce((a, b) => a + b, 0)).to.be.within(8900, 9000);
  });

  it('two jobs queued, the bot killed with SIGKILL while the first runs: after a restart the first is interrupted (with a working Retry button) and the second runs', async () => {
    const { token, inst } = jobBot();
    const first = startBot(bed.tracker, inst);
    await first.ready();
    const a = bed.sim.users.sendCommand(token, { user: USER, command: 'sleep', args: '30' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: a.cursor, pattern: /^▶ Job #1/, timeoutMs: 10_000 });
    const b = bed.sim.users.sendCommand(token, { user: USER, command: 'lines', args: '3 0' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: b.cursor, pattern: /^⏳ Job #2 .*queued, 1 ahead/, timeoutMs: 10_000 });
    first.child.kill('SIGKILL');
    await first.exited();
    const tmp = path.join(inst.dataDir, 'bots', 'main', 'tmp');
    expect(filesIn(tmp), 'the killed run left its job log behind').to.have.length(1);

    const second = startBot(bed.tracker, inst);
    await second.ready();
    const notice = await bed.sim.client.waitForMessage(token, USER.id, { after: b.cursor, pattern: /Job #1 .*was interrupted/, timeoutMs: 10_000 });
    expect(notice.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '🔁 Retry', callback_data: 'job:retry:1' }]] });
    await bed.sim.client.waitForMessage(token, USER.id, { after: b.cursor, pattern: /^✅ Job #2 .*done/, timeoutMs: 10_000 });
    // The orphaned `sleep 30` of the killed bot is gone too, and so is its temp file.
    await waitFor(() => cookieProcesses(bed.tracker.cookie, [second.pid, first.pid]).length === 0, { what: 'the orphaned job process to be stopped' });
    await waitFor(() => filesIn(tmp).length === 0, { what: 'the leftover job log to be removed' });

    const tap = bed.sim.users.tapButton(token, { user: USER, message_id: notice.message_id as number, data: 'job:retry:1' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: tap.cursor, pattern: /^▶ Job #3: \/sleep 30/, timeoutMs: 10_000 });
    const answers = (await bed.sim.client.transcript(token, USER.id, tap.cursor)).entries.filter((e) => e.kind === 'callback_answer');
    expect(answers.map((e) => e.text)).to.deep.equal(['Running it again as job #3.']);
    const stop = bed.sim.users.sendCommand(token, { user: USER, command: 'stop' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: stop.cursor, pattern: /^⏹ Job #3/, timeoutMs: 10_000 });

    const file = path.join(inst.dataDir, 'bots', 'main', 'jobs.json');
    const jobs = await waitFor(
      () => {
        const list = (JSON.parse(readFileSync(file, 'utf8')) as { jobs: Array<{ id: number; status: string; retriedAs?: number }> }).jobs;
        return list.find((j) => j.id === 3)?.status === 'cancelled' ? list : undefined;
      },
      { what: 'the job records on disk' },
    );
    expect(jobs.map((j) => [j.id, j.status])).to.deep.equal([
      [1, 'interrupted'],
      [2, 'done'],
      [3, 'cancelled'],
    ]);
    expect(jobs[0]?.retriedAs).to.equal(3);
  });

  it('SIGTERM while a job runs: the job is stopped, its owner told (with Retry), the bot exits 0, and a restart does not tell them twice', async () => {
    const { token, inst } = jobBot();
    const bot = startBot(bed.tracker, inst);
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'sleep', args: '30' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /^▶ Job #1/, timeoutMs: 10_000 });
    bot.child.kill('SIGTERM');
    expect(await bot.exited()).to.equal(0);
    const notice = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /^⚠️ Job #1 .*interrupted.*the bot is stopping/, timeoutMs: 1000 });
    expect(notice.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '🔁 Retry', callback_data: 'job:retry:1' }]] });
    expect(cookieProcesses(bed.tracker.cookie, [bot.pid])).to.deep.equal([]);

    const again = startBot(bed.tracker, inst);
    await again.ready();
    const ping = bed.sim.users.sendCommand(token, { user: USER, command: 'ping' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: ping.cursor, text: 'pong' });
    const notices = (await bed.sim.client.transcript(token, USER.id)).entries.filter((e) => /interrupted/.test(e.text ?? ''));
    expect(notices).to.have.length(1);
  });

  // (A forged job:retry of a finished job is refused in jobs-pool.test.ts: the simulator only lets users tap real buttons.)
  it('Retry after a restart is checked against the config of the day: a command made admin-only since is refused to its owner', async () => {
    const { token, inst } = jobBot({ allow: [USER.id, ADMIN.id], admins: [ADMIN.id] });
    const first = startBot(bed.tracker, inst);
    await first.ready();
    const done = bed.sim.users.sendCommand(token, { user: USER, command: 'lines', args: '1 0' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: done.cursor, pattern: /^✅ Job #1 .*done/, timeoutMs: 10_000 });
    const a = bed.sim.users.sendCommand(token, { user: USER, command: 'sleep', args: '30' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: a.cursor, pattern: /^▶ Job #2/, timeoutMs: 10_000 });
    first.child.kill('SIGKILL');
    await first.exited();

    // The operator makes `sleep` admin-only while the bot is down.
    const config = JSON.parse(readFileSync(inst.configFile, 'utf8')) as { bots: Array<{ commands: Record<string, { admin?: boolean }> }> };
    (config.bots[0]?.commands.sleep as { admin?: boolean }).admin = true;
    writeFileSync(inst.configFile, JSON.stringify(config, null, 2));
    const second = startBot(bed.tracker, inst);
    await second.ready();
    const notice = await bed.sim.client.waitForMessage(token, USER.id, { after: a.cursor, pattern: /Job #2 .*was interrupted/, timeoutMs: 10_000 });

    const tap = bed.sim.users.tapButton(token, { user: USER, message_id: notice.message_id as number, data: 'job:retry:2' });
    await waitFor(async () => (await bed.sim.client.transcript(token, USER.id, tap.cursor)).entries.some((e) => e.kind === 'callback_answer'), { what: 'the tap answered' });
    const answers = (await bed.sim.client.transcript(token, USER.id, tap.cursor)).entries.filter((e) => e.kind === 'callback_answer').map((e) => e.text);
    expect(answers).to.deep.equal(['Job #2 cannot run again: /sleep is for admins only.']);
    const fresh = bed.sim.users.sendCommand(token, { user: USER, command: 'sleep', args: '5' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: fresh.cursor, text: '/sleep is for admins only.', timeoutMs: 10_000 });
    const jobs = (JSON.parse(readFileSync(path.join(inst.dataDir, 'bots', 'main', 'jobs.json'), 'utf8')) as { jobs: Array<{ id: number; status: string }> }).jobs;
    expect(jobs.map((j) => [j.id, j.status])).to.deep.equal([
      [1, 'done'],
      [2, 'interrupted'],
    ]);
  });

  it('a bot with commands and no allow list refuses to start (exit 78), naming bots[0].allow', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token, module: JOB_BOT, commands: jobCommands() });
    const bot = startBot(bed.tracker, inst);
    expect(await bot.exited()).to.equal(EXIT_CONFIG);
    expect(bot.stderr).to.include('bots[0].allow').and.include('"allow": "anyone"');
  });

  it('under umask 000, every file the bot writes (state, inbox, jobs, backups, locks, job spools, logs) is 0600 and every folder 0700', async () => {
    const { token, inst } = jobBot();
    const previous = process.umask(0); // inherited by the bot and by its jobs
    let bot: ReturnType<typeof startBot>;
    try {
      bot = startBot(bed.tracker, inst);
    } finally {
      process.umask(previous);
    }
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'sleep', args: '2' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /^▶ Job #1/, timeoutMs: 10_000 });
    const whileRunning = [...notPrivate(inst.dataDir), ...notPrivate(inst.logDir).map((p) => `logs/${p}`)];
    expect(filesIn(path.join(inst.dataDir, 'bots', 'main', 'tmp')), 'the job spool exists while the job runs').to.have.length(1);
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: /Job #1 .*done/, timeoutMs: 10_000 });
    bot.child.kill('SIGTERM');
    expect(await bot.exited()).to.equal(0);
    expect(whileRunning, 'open to others while the job ran').to.deep.equal([]);
    expect([...notPrivate(inst.dataDir), ...notPrivate(inst.logDir).map((p) => `logs/${p}`)], 'open to others after the stop').to.deep.equal([]);
    expect(readdirSync(path.join(inst.dataDir, 'bots', 'main'))).to.include.members(['jobs.json', 'inbox.json', 'state.json', 'quota-ledger.txt']);
  });
});
