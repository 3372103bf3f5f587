// Supervisor benchmark (issue 6): botvisor's supervisor side by side with PM2 (npm `pm2`, its home
// in a temp dir) running the same bot — the runtime's `botvisor-bot` entry with the same config —
// against one in-process bot-api-sim, in one run:
//   (a) restart latency: kill -9 of the polling bot of token 1 → the sim sees the new process's
//       first getUpdates (median and p90 over N kills), split into kill → new process forked and
//       forked → first getUpdates (bot start-up);
//   (b) idle RSS of the supervisor process with three bots vs PM2's daemon ("God") with the same
//       three, and an empty Node process (`setInterval`) as the floor.
//
// Run: `npm run bench:supervisor` (or `node scripts/bench/supervisor.js [--quick] [--restarts N]`
// after `npm run build`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startSim } from '@botvisor/bot-api-sim';
import {
  BOT_BIN,
  FIXTURES,
  findBotPids,
  loadAverage,
  machineFacts,
  median,
  ms,
  percentile,
  printTable,
  RSS_SAMPLES,
  Run,
  ratio,
  rssMb,
  SUPERVISOR_BIN,
  startTimeMs,
  steadyRss,
  tokenFor,
  waitFor,
  watchSimBot,
} from './lib/common.js';
import { pm2 } from './lib/pm2.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    restarts: { type: 'string' },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const RESTARTS = Number(opt.restarts ?? (opt.quick ? 4 : 10));
const BOTS = ['bench1', 'bench2', 'bench3'];
/** Up this long before each kill: past backoffResetAfterMs, so every kill is a first crash. */
const STABLE_MS = 1500;
// Idle RSS is read at steady state, as in fleet.js: V8 gives the start-up's memory back some 9 s after
// a process settles (PM2's daemon and ours alike), and a supervisor spends its life past that point.
const RSS_SETTLE_MS = opt.quick ? 15_000 : 20_000;
/** The supervisor section: the production backoff, reset quickly and a budget big enough for N kills. */
const SUPERVISOR_SETTINGS = { backoffInitialMs: 250, backoffResetAfterMs: 1000, crashBudget: 1000 };

function writeConfig(dir, sim, tokens, extra = {}) {
  const file = path.join(dir, 'botvisor.json');
  const config = {
    apiRoot: sim.url,
    dataDir: path.join(dir, 'data'),
    logDir: path.join(dir, 'logs'),
    http: { host: '127.0.0.1', port: 0 },
    ...extra,
    bots: BOTS.map((name, i) => ({ name, module: path.join(FIXTURES, 'botvisor-bot.js'), token: tokens[i] })),
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, logDir: config.logDir };
}

async function emptyNodeRss(run) {
  const child = run.tracker.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(1500);
  const [rss] = await steadyRss([child.pid]);
  child.kill('SIGKILL');
  return rss;
}

/** Log records (JSON lines) of `<logDir>/<proc>.log`. */
function logRecords(logDir, proc) {
  const file = path.join(logDir, `${proc}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

/**
 * One kill -9 of `sys`'s bench1: waits until the bot has been up STABLE_MS with its long poll held
 * (so nothing of the old process is in flight and the backoff has reset), kills it, and waits for
 * the next getUpdates the sim sees on its token.
 */
async function killOnce(sys) {
  const { rootPid, watch } = sys;
  const pid = await waitFor(
    () => {
      const pids = findBotPids(rootPid, 'bench1');
      return pids.length === 1 ? pids[0] : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 20, what: `one bench1 process under pid ${rootPid} (${sys.key})` },
  );
  await waitFor(
    () => {
      const last = watch.arrivals.at(-1);
      return watch.pendingPollers === 1 && last !== undefined && Date.now() - last >= 50 && Date.now() - startTimeMs(pid) >= STABLE_MS;
    },
    { timeoutMs: 20_000, intervalMs: 10, what: `bench1 to poll steadily (${sys.key})` },
  );
  const seen = watch.arrivals.length;
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  await waitFor(() => watch.arrivals.length > seen, { timeoutMs: 20_000, intervalMs: 1, what: `bench1's next getUpdates after kill -9 (${sys.key})` });
  const polledAt = watch.arrivals[seen];
  const next = findBotPids(rootPid, 'bench1').find((p) => p !== pid);
  const forkedAt = next === undefined ? Number.NaN : startTimeMs(next);
  return { killedAt, polledAt, total: polledAt - killedAt, toFork: forkedAt - killedAt, startup: polledAt - forkedAt };
}

/** After the kills: what the logs say about each restart (the bot's 'polling' line; our supervisor's events). */
function annotate(sys, samples) {
  const bot = logRecords(sys.logDir, 'bench1');
  const sup = sys.supervised ? logRecords(sys.logDir, 'supervisor') : [];
  const within = (r, s) => Date.parse(r.ts) >= s.killedAt && Date.parse(r.ts) <= s.polledAt + 5;
  for (const s of samples) {
    const polling = bot.find((r) => r.msg === 'polling' && within(r, s));
    s.toPollingLine = polling === undefined ? Number.NaN : Date.parse(polling.ts) - s.killedAt;
    if (!sys.supervised) continue;
    const crashed = sup.find((r) => r.event === 'crashed' && r.bot === 'bench1' && within(r, s));
    const restarted = sup.find((r) => r.event === 'restarted' && r.bot === 'bench1' && within(r, s));
    s.toCrashEvent = crashed === undefined ? Number.NaN : Date.parse(crashed.ts) - s.killedAt;
    s.backoff = crashed?.delayMs ?? Number.NaN;
    if (restarted !== undefined) {
      s.toFork = Date.parse(restarted.ts) - s.killedAt; // ms resolution, better than /proc's 10 ms
      s.startup = s.polledAt - Date.parse(restarted.ts);
    }
  }
  for (const s of samples) {
    s.forkToPolling = s.toPollingLine - s.toFork;
    s.pollingToPoll = s.total - s.toPollingLine;
  }
  if (opt.verbose) {
    const last = samples.at(-1);
    console.log(`\n  ${sys.key}: bench1's log around the last kill (ms after kill -9; first getUpdates at ${last.total} ms):`);
    for (const r of bot.filter((x) => Date.parse(x.ts) >= last.killedAt && Date.parse(x.ts) <= last.polledAt + 1000)) {
      console.log(`    ${String(Date.parse(r.ts) - last.killedAt).padStart(6)}  ${r.level} ${r.msg}`);
    }
  }
}

async function waitPolling(watches, what) {
  await waitFor(() => watches.every((w) => w.pendingPollers >= 1), { timeoutMs: 30_000, intervalMs: 20, what });
}

/** Our daemon with three bots; resolves once all three poll. */
async function startBotvisor(run, sim, key, settings, firstBotId) {
  const dir = run.tempDir('botvisor-bench-sup-');
  const tokens = BOTS.map((_, i) => tokenFor(firstBotId + i));
  const watches = tokens.map((t) => watchSimBot(sim, t));
  const { file, logDir } = writeConfig(dir, sim, tokens, { supervisor: settings });
  const sup = run.tracker.spawn(process.execPath, [SUPERVISOR_BIN, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  sup.stderr.on('data', (c) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => sup.once('exit', resolve));
  const stop = async () => {
    if (sup.exitCode !== null || sup.signalCode !== null) return;
    sup.kill('SIGTERM');
    const timer = setTimeout(() => sup.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  run.onCleanup(stop);
  await Promise.race([
    waitPolling(watches, `the three bots of ${key} to poll`),
    exited.then(() => {
      throw new Error(`the supervisor exited: ${stderr}`);
    }),
  ]);
  return { key, supervised: true, rootPid: sup.pid, watch: watches[0], logDir, stop };
}


/** PM2 (its own PM2_HOME) running the same botvisor-bot three times; resolves once all three poll. */
async function startPm2(run, sim, key, firstBotId) {
  const dir = run.tempDir('botvisor-bench-pm2-');
  const home = run.tempDir('botvisor-bench-pm2-home-');
  // Local only: no version check (a network call), no banner; PM2_HOME keeps the daemon ours alone.
  writeFileSync(path.join(home, 'touch'), String(Date.now()));
  const env = { ...process.env, PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: 'true', PM2_DISCRETE_MODE: 'true' };
  const tokens = BOTS.map((_, i) => tokenFor(firstBotId + i));
  const watches = tokens.map((t) => watchSimBot(sim, t));
  const { file, logDir } = writeConfig(dir, sim, tokens);
  const ecosystem = path.join(dir, 'ecosystem.config.cjs');
  const apps = BOTS.map((name) => ({
    name,
    script: BOT_BIN,
    interpreter: process.execPath,
    cwd: dir,
    exec_mode: 'fork',
    autorestart: true,
    pmx: false, // no @pm2/io instrumentation in the bot
    env: { BOTVISOR_CONFIG: file, BOTVISOR_BOT: name },
  }));
  writeFileSync(ecosystem, `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`);
  const pidFile = path.join(home, 'pm2.pid');
  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      const daemon = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
      await pm2(run, env, ['kill']).catch((err) => console.error(err.message));
      if (daemon !== undefined && rssMb(daemon) > 0) process.kill(daemon, 'SIGKILL'); // only if `pm2 kill` left it
    })();
    return stopped;
  };
  run.onCleanup(stop);
  await pm2(run, env, ['start', ecosystem]);
  await waitPolling(watches, 'the three bots under PM2 to poll');
  return { key, supervised: false, rootPid: Number(readFileSync(pidFile, 'utf8')), watch: watches[0], logDir, stop };
}

async function main() {
  const run = new Run();
  const sim = await startSim();
  const only = opt.only?.split(',');
  console.log('supervisor: botvisor supervisor vs PM2, the same botvisor-bot ×3 each, one bot-api-sim');
  console.log(`machine: ${machineFacts()}`);
  console.log(
    `restart: ${RESTARTS} rounds, each one kill -9 of bench1 per setup in turn (up ≥ ${STABLE_MS / 1000} s, long poll held) → its next getUpdates at the sim`,
  );
  console.log(`RSS: median of ${RSS_SAMPLES} reads of VmRSS, ${RSS_SETTLE_MS / 1000} s after every bot polls`);
  const setups = [
    ['botvisor', (r, s) => startBotvisor(r, s, 'botvisor', SUPERVISOR_SETTINGS, 8_100_001)],
    ['pm2', (r, s) => startPm2(r, s, 'pm2', 8_200_001)],
    // The same supervisor without the crash backoff: what is left of the gap to PM2.
    ['botvisor-nobackoff', (r, s) => startBotvisor(r, s, 'botvisor-nobackoff', { ...SUPERVISOR_SETTINGS, backoffInitialMs: 0 }, 8_300_001)],
  ].filter(([key]) => only === undefined || only.includes(key));
  const results = {};
  try {
    console.log(`  load average before: ${loadAverage()}`);
    results.empty = { rss: await emptyNodeRss(run) };
    const systems = [];
    for (const [, start] of setups) systems.push(await start(run, sim));
    await sleep(RSS_SETTLE_MS);
    for (const sys of systems) {
      const botPids = BOTS.map((b) => findBotPids(sys.rootPid, b)[0]);
      const [rss, ...botRss] = await steadyRss([sys.rootPid, ...botPids]);
      results[sys.key] = { rss, botRss: median(botRss), restarts: [] };
    }
    console.log(`  load average after start-up: ${loadAverage()}`);
    for (let round = 0; round < RESTARTS; round++) {
      // Rotate who goes first, so no setup always follows the same one.
      for (let k = 0; k < systems.length; k++) {
        const sys = systems[(round + k) % systems.length];
        results[sys.key].restarts.push(await killOnce(sys));
      }
    }
    for (const sys of systems) {
      annotate(sys, results[sys.key].restarts);
      [results[sys.key].rssAfter] = await steadyRss([sys.rootPid]);
    }
    console.log(`  load average after the kills: ${loadAverage()}`);
    for (const sys of systems) await sys.stop();
  } finally {
    await run.cleanup();
    await sim.close();
  }
  report(results);
}

function report(results) {
  const ours = results.botvisor;
  const theirs = results.pm2;
  const zero = results['botvisor-nobackoff'];
  const pick = (r, key, q) => (r === undefined ? Number.NaN : percentile(r.restarts.map((s) => s[key]).filter(Number.isFinite), q));

  console.log('');
  console.log(`(a) restart latency: kill -9 → first getUpdates of the new process (${RESTARTS} kills each)`);
  const rows = [['', 'botvisor (backoff 250)', 'PM2 7.0', 'ours ÷ PM2', 'botvisor (backoff 0)', 'ours ÷ PM2']];
  const cell = (r, key, q) => ms(pick(r, key, q), 0);
  const line = (label, key, q) =>
    rows.push([label, cell(ours, key, q), cell(theirs, key, q), ratio(pick(ours, key, q), pick(theirs, key, q)), cell(zero, key, q), ratio(pick(zero, key, q), pick(theirs, key, q))]);
  line('total, median', 'total', 50);
  line('total, p90', 'total', 90);
  line('  kill → new process forked, median', 'toFork', 50);
  line('    ours: kill → "crashed" event', 'toCrashEvent', 50);
  line('    ours: backoff drawn', 'backoff', 50);
  line('  forked → first getUpdates (bot start-up), median', 'startup', 50);
  line('    forked → log "polling" (node, imports, stores, lock)', 'forkToPolling', 50);
  line('    "polling" → getUpdates (setup, deleteWebhook, getMe)', 'pollingToPoll', 50);
  printTable(
    rows.map((r) => r.map((c) => (c === '—' && r[0].includes('ours:') ? '' : c))),
    '  ',
  );

  console.log('');
  console.log('(b) idle RSS with three bots');
  const mb = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} MB` : '—');
  const rss = [['process', 'RSS', 'vs empty node', 'after the kills']];
  rss.push(['empty node (setInterval)', mb(results.empty.rss), '1.00×', '']);
  if (ours !== undefined) rss.push(['botvisor supervisor', mb(ours.rss), ratio(ours.rss, results.empty.rss), mb(ours.rssAfter)]);
  if (theirs !== undefined) rss.push(['PM2 daemon (God)', mb(theirs.rss), ratio(theirs.rss, results.empty.rss), mb(theirs.rssAfter)]);
  if (ours !== undefined && theirs !== undefined) rss.push(['supervisor ÷ PM2 daemon', ratio(ours.rss, theirs.rss), '', ratio(ours.rssAfter, theirs.rssAfter)]);
  if (ours !== undefined) rss.push(['a botvisor-bot under the supervisor, median', mb(ours.botRss), '', '']);
  if (theirs !== undefined) rss.push(['a botvisor-bot under PM2, median', mb(theirs.botRss), '', '']);
  printTable(rss, '  ');

  console.log('');
  if (ours !== undefined && theirs !== undefined) {
    const v = pick(ours, 'total', 50) / pick(theirs, 'total', 50);
    console.log(`goal: restart no slower than PM2 (≤ 1.0×): ${v.toFixed(2)}× ${v <= 1 ? 'met' : 'MISSED'} (median, backoff 250 ms)`);
  }
  if (ours !== undefined && theirs !== undefined) {
    const v = ours.rss / theirs.rss;
    console.log('goals (issue 18), each a ratio from this run:');
    printTable([['goal', 'ratio', 'target', ''], ['supervisor idle RSS, 3 bots ÷ PM2 daemon', `${v.toFixed(2)}×`, '≤ 1.0×', v <= 1 ? 'PASS' : 'MISS']], '  ');
  }
  if (ours !== undefined) console.log(`goal: supervisor RSS ≤ 48 MB: ${ours.rss.toFixed(1)} MB ${ours.rss <= 48 ? 'met' : 'MISSED'}`);
  console.log('notes:');
  console.log(`- ours: supervisor ${JSON.stringify(SUPERVISOR_SETTINGS)} (250 ms is the production default; the`);
  console.log('  reset and budget only let N kills in a row each count as a first crash). The supervisor holds the polling');
  console.log('  lock across the restart; under PM2 the bot takes it itself (a dead owner\'s lock is reclaimed at once).');
  console.log('- PM2: fork mode, autorestart, restart_delay 0 (its default), pmx off, PM2_HOME in a temp dir, no version check.');
  console.log('- "forked → first getUpdates" is the bot\'s start-up, identical code under both: node + module load, stores');
  console.log('  opened (inbox, state, jobs), lock handshake, bot setup, deleteWebhook, getMe. Fork times come from the');
  console.log('  supervisor log (ms) for ours and /proc start times (10 ms) for PM2. The runtime polls before it reports');
  console.log('  ready (ready waits for services), so the supervisor\'s ready gate does not delay the first getUpdates.');
}

await main();
