// Reload benchmark (issue 19): `botvisor reload <bot>` side by side with `pm2 reload <app>` (fork
// mode, the same botvisor-bot entry and config) while updates arrive, against one in-process
// bot-api-sim. For each: a steady phase, then N reloads a second apart under the same traffic
// (`--rate` updates/s of `/fast` across `--chats` chats); then every chat's transcript is read:
//   - lost / duplicated: replies per chat vs messages sent to it;
//   - poll gap per reload: the longest time with no getUpdates open at the sim (nobody fetching),
//     from the reload command to 0.5 s after it returned; and the same in the steady phase (there
//     the gaps are the bot's own turnarounds: answer → store the batch → next poll);
//   - reply latency p50/p99 (message injected → its reply in the transcript), steady vs reloads;
//   - maxPendingPollers: the most getUpdates open at once on the token.
//
// Run: `npm run bench:reload` (or `node scripts/bench/reload.js [--quick] [--reloads N]` after `npm run build`).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startSim } from '@botvisor/bot-api-sim';
import { controlRequest, controlSocketPath } from '@botvisor/supervisor';
import { BOT_BIN, FIXTURES, loadAverage, machineFacts, median, ms, percentile, printTable, Run, ratio, rssMb, SUPERVISOR_BIN, tokenFor, waitFor } from './lib/common.js';
import { pm2 } from './lib/pm2.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reloads: { type: 'string' },
    rate: { type: 'string' },
    chats: { type: 'string' },
    only: { type: 'string' },
  },
});
const RELOADS = Number(opt.reloads ?? (opt.quick ? 5 : 20));
const RATE = Number(opt.rate ?? 50);
const CHATS = Number(opt.chats ?? 20);
const STEADY_MS = opt.quick ? 3000 : 8000;
const RELOAD_EVERY_MS = 1000;
const NAME = 'bench';

function writeConfig(dir, sim, token) {
  const file = path.join(dir, 'botvisor.json');
  const config = {
    apiRoot: sim.url,
    dataDir: path.join(dir, 'data'),
    logDir: path.join(dir, 'logs'),
    locksDir: path.join(dir, 'locks'),
    http: false,
    bots: [{ name: NAME, module: path.join(FIXTURES, 'botvisor-bot.js'), token }],
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, dataDir: config.dataDir };
}

async function startBotvisor(run, sim, token) {
  const dir = run.tempDir('botvisor-bench-reload-');
  const { file, dataDir } = writeConfig(dir, sim, token);
  const sup = run.tracker.spawn(process.execPath, [SUPERVISOR_BIN, '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => sup.once('exit', resolve));
  run.onCleanup(async () => {
    if (sup.exitCode !== null || sup.signalCode !== null) return;
    sup.kill('SIGTERM');
    await exited;
  });
  const socket = controlSocketPath(dataDir);
  return {
    key: 'botvisor',
    steps: () => handOverSteps(path.join(dir, 'logs')),
    reload: async () => {
      const r = await controlRequest(socket, { cmd: 'reload', bot: NAME }, 120_000);
      if (r.failed.length > 0) throw new Error(`botvisor reload failed: ${JSON.stringify(r.failed)}`);
    },
  };
}

/** Every JSON log line of the files in `logDir` whose message starts with `prefix`. */
function logLines(logDir, prefix) {
  const out = [];
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.log')).sort()) {
    for (const line of readFileSync(path.join(logDir, name), 'utf8').split('\n')) {
      if (!line.includes(prefix)) continue;
      try {
        const record = JSON.parse(line);
        if (String(record.msg).startsWith(prefix)) out.push(record);
      } catch {
        // a torn line
      }
    }
  }
  // A line can be in two files (the runtime's log and the copy a rotation leaves): once is enough.
  const seen = new Set();
  return out.filter((r) => !seen.has(`${r.pid}:${r.ts}:${r.msg}`) && seen.add(`${r.pid}:${r.ts}:${r.msg}`)).sort((a, b) => String(a.ts).localeCompare(String(b.ts)));
}

/**
 * The hand-over's steps per reload, from what the three processes log: the old process's poll
 * stop and inbox close, the supervisor's wait for `inbox-released` (those two plus the IPC), the
 * new process's inbox open and recovery, and its take-over to its first poll.
 */
function handOverSteps(logDir) {
  const old = logLines(logDir, 'handed the inbox over to the new process');
  const next = logLines(logDir, 'took the inbox over from the old process');
  const sup = logLines(logDir, 'bot bench handed over from pid');
  return old.map((o, i) => ({
    pollStop: o.pollStopMs,
    inboxClose: o.inboxCloseMs,
    released: sup[i]?.releasedMs ?? sup[i]?.data?.releasedMs,
    inboxOpen: next[i]?.inboxOpenMs,
    recover: next[i]?.recoverMs,
    takeOverToPoll: next[i]?.takeOverToPollMs,
  }));
}

async function startPm2(run, sim, token) {
  const dir = run.tempDir('botvisor-bench-reload-pm2-');
  const home = run.tempDir('botvisor-bench-reload-pm2-home-');
  writeFileSync(path.join(home, 'touch'), String(Date.now()));
  const env = { ...process.env, PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: 'true', PM2_DISCRETE_MODE: 'true' };
  const { file } = writeConfig(dir, sim, token);
  const ecosystem = path.join(dir, 'ecosystem.config.cjs');
  const apps = [{ name: NAME, script: BOT_BIN, interpreter: process.execPath, cwd: dir, exec_mode: 'fork', autorestart: true, pmx: false, env: { BOTVISOR_CONFIG: file, BOTVISOR_BOT: NAME } }];
  writeFileSync(ecosystem, `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`);
  const pidFile = path.join(home, 'pm2.pid');
  run.onCleanup(async () => {
    const daemon = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
    await pm2(run, env, ['kill'], 60_000).catch((err) => console.error(err.message));
    if (daemon !== undefined && rssMb(daemon) > 0) process.kill(daemon, 'SIGKILL');
  });
  await pm2(run, env, ['start', ecosystem], 60_000);
  return { key: 'pm2', reload: () => pm2(run, env, ['reload', NAME], 60_000) };
}

/** Sends `/fast` at RATE/s round-robin over CHATS chats until stopped; remembers when each was sent, per chat. */
function traffic(sim, token, firstChat) {
  const sentAt = new Map();
  let n = 0;
  const timer = setInterval(() => {
    const chat = firstChat + (n++ % CHATS);
    sim.users.sendCommand(token, { command: 'fast', user: { id: chat, first_name: 'U' } });
    sentAt.set(chat, [...(sentAt.get(chat) ?? []), Date.now()]);
  }, 1000 / RATE);
  return { sentAt, stop: () => clearInterval(timer) };
}

/** Every change of the number of open getUpdates on `token`: [time, open after it]. */
function watchPolls(sim, token) {
  const stats = sim.simulator.bot(token).stats;
  const changes = [];
  const arrived = stats.pollerArrived.bind(stats);
  const answered = stats.pollerAnswered.bind(stats);
  stats.pollerArrived = () => {
    arrived();
    changes.push([performance.now(), stats.snapshot().pendingPollers]);
  };
  stats.pollerAnswered = () => {
    answered();
    changes.push([performance.now(), stats.snapshot().pendingPollers]);
  };
  return {
    stats,
    get open() {
      return stats.snapshot().pendingPollers;
    },
    /** The longest stretch within [from, to] (performance.now()) with no getUpdates open. */
    longestGap(from, to) {
      let open = 0;
      let idleSince;
      let gap = 0;
      for (const [t, n] of changes) {
        if (t < from) {
          open = n;
          continue;
        }
        if (t > to) break;
        if (open === 0 && n > 0) gap = Math.max(gap, t - Math.max(idleSince ?? from, from));
        if (open > 0 && n === 0) idleSince = t;
        open = n;
      }
      if (open === 0) gap = Math.max(gap, to - Math.max(idleSince ?? from, from));
      return gap;
    },
  };
}

async function measure(run, sim, start, token, firstChat) {
  const watch = watchPolls(sim, token);
  const sys = await start(run, sim, token);
  await waitFor(() => watch.open >= 1, { timeoutMs: 30_000, intervalMs: 20, what: `${sys.key}'s bot to poll` });
  await sleep(500);
  const t = traffic(sim, token, firstChat);
  const steadyFrom = Date.now();
  const steadyFromPerf = performance.now();
  await sleep(STEADY_MS);
  const steadyTo = Date.now();
  const steadyGap = watch.longestGap(steadyFromPerf, performance.now());
  const windows = [];
  const gaps = [];
  for (let i = 0; i < RELOADS; i++) {
    const from = Date.now();
    const fromPerf = performance.now();
    await sys.reload();
    windows.push([from, Date.now() + 500]);
    await sleep(500);
    gaps.push(watch.longestGap(fromPerf, performance.now()));
    await sleep(RELOAD_EVERY_MS - 500);
  }
  t.stop();
  const steps = sys.steps?.().map((s, i) => ({ gap: gaps[i], ...s }));
  const total = [...t.sentAt.values()].reduce((a, l) => a + l.length, 0);
  const replies = async () => {
    const out = new Map();
    for (const chat of t.sentAt.keys()) out.set(chat, (await sim.client.transcript(token, chat)).entries.filter((e) => e.kind === 'sent'));
    return out;
  };
  await waitFor(async () => [...(await replies()).values()].reduce((a, l) => a + l.length, 0) >= total, { timeoutMs: 30_000, intervalMs: 200, what: 'every reply' }).catch(() => undefined);
  await sleep(1000);
  const got = await replies();
  let lost = 0;
  let duplicated = 0;
  const steadyLatency = [];
  const reloadLatency = [];
  const inReload = (at) => windows.some(([a, b]) => at >= a && at <= b + 1000);
  for (const [chat, sent] of t.sentAt) {
    const answers = got.get(chat) ?? [];
    lost += Math.max(0, sent.length - answers.length);
    duplicated += Math.max(0, answers.length - sent.length);
    sent.forEach((at, k) => {
      const reply = answers[k];
      if (reply === undefined) return;
      const latency = reply.timestamp - at;
      if (at >= steadyFrom && at <= steadyTo) steadyLatency.push(latency);
      else if (inReload(at)) reloadLatency.push(latency);
    });
  }
  return {
    key: sys.key,
    sent: total,
    lost,
    duplicated,
    maxPendingPollers: watch.stats.snapshot().maxPendingPollers,
    steadyGap,
    gapMedian: median(gaps),
    gapMax: Math.max(...gaps),
    steadyP50: median(steadyLatency),
    steadyP99: percentile(steadyLatency, 99),
    reloadP50: median(reloadLatency),
    reloadP99: percentile(reloadLatency, 99),
    steps,
  };
}

async function main() {
  const run = new Run();
  const sim = await startSim();
  console.log(`reload: botvisor reload vs pm2 reload (fork mode), the same botvisor-bot, one bot-api-sim`);
  console.log(`machine: ${machineFacts()}; load average: ${loadAverage()}`);
  console.log(`${RELOADS} reloads a second apart while ${RATE} updates/s arrive across ${CHATS} chats; ${STEADY_MS / 1000} s steady phase first`);
  const setups = [
    ['botvisor', startBotvisor, 8_400_001, 1_000],
    ['pm2', startPm2, 8_500_001, 2_000],
  ].filter(([key]) => opt.only === undefined || opt.only.split(',').includes(key));
  const results = {};
  try {
    for (const [key, start, botId, firstChat] of setups) results[key] = await measure(run, sim, start, tokenFor(botId), firstChat);
  } finally {
    await run.cleanup();
    await sim.close();
  }
  const ours = results.botvisor;
  const theirs = results.pm2;
  const row = (label, f, fmt = (v) => ms(v)) => [label, ours !== undefined ? fmt(f(ours)) : '-', theirs !== undefined ? fmt(f(theirs)) : '-', ours !== undefined && theirs !== undefined ? ratio(f(ours), f(theirs)) : '-'];
  const count = (v) => String(v);
  printTable([
    ['', 'botvisor reload', 'pm2 reload', 'ratio'],
    row('updates sent', (r) => r.sent, count),
    row('lost', (r) => r.lost, count),
    row('duplicated', (r) => r.duplicated, count),
    row('maxPendingPollers', (r) => r.maxPendingPollers, count),
    row('poll gap per reload, median', (r) => r.gapMedian),
    row('poll gap per reload, max', (r) => r.gapMax),
    row('longest poll gap, steady', (r) => r.steadyGap),
    row('reply latency p50, steady', (r) => r.steadyP50),
    row('reply latency p99, steady', (r) => r.steadyP99),
    row('reply latency p50, during reloads', (r) => r.reloadP50),
    row('reply latency p99, during reloads', (r) => r.reloadP99),
  ]);
  if (ours?.steps !== undefined && ours.steps.length > 0) {
    const keys = Object.keys(ours.steps[0]);
    console.log('\nbotvisor hand-over steps per reload (ms; gap: at the sim; released: the supervisor from hand-over to inbox-released)');
    printTable([['', ...keys], ...ours.steps.map((s, i) => [String(i + 1), ...keys.map((k) => (typeof s[k] === 'number' ? s[k].toFixed(0) : '-'))])]);
  }
  const failed = ours !== undefined && (ours.lost > 0 || ours.duplicated > 0 || ours.maxPendingPollers > 1);
  if (failed) {
    console.error('botvisor lost, repeated or overlapped an update');
    process.exitCode = 1;
  }
}

await main();
