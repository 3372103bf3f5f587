// Dispatch benchmark (issue 4): botvisor's runtime side by side with grammY + @grammyjs/runner
// (sequentialize by chat) and plain node-telegram-bot-api v2 `startPolling()`, all against one
// bot-api-sim in one run, plus the sim's bare round trip (a framework-less getUpdates loop).
//
// Every contestant is a real process polling its own token; the sim runs in this process, which
// injects users' commands in-process (`sim.users`) and sees the replies on the chat transcripts,
// the same way for everyone. Per contestant, in order:
//   throughput  N `/fast` updates across C chats injected at once; updates/s until every reply is in
//   latency     10 chats kept busy with `/slow` (a 5 s handler, sent again as soon as it answers);
//               meanwhile `/fast` from fresh chats, one at a time (5 ms apart): inject → reply seen
//
// Run: `npm run bench:dispatch` (or `node scripts/bench/dispatch.js [--quick]` after `npm run build`).
import { setMaxListeners } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startSim } from '@botvisor/bot-api-sim';
import {
  BOT_BIN,
  cpuMs,
  FIXTURES,
  forkReady,
  loadAverage,
  machineFacts,
  median,
  ms,
  percentile,
  printTable,
  Run,
  ratio,
  rssMb,
  stopChild,
  tokenFor,
  waitFor,
  watchSimBot,
} from './lib/common.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    samples: { type: 'string' },
    updates: { type: 'string' },
    chats: { type: 'string' },
    only: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const ROUNDS = Number(opt.rounds ?? 3); // odd, so the goals' median ratio is one round's pair
const SAMPLES = Number(opt.samples ?? (opt.quick ? 30 : 100));
const UPDATES = Number(opt.updates ?? (opt.quick ? 1000 : 5000));
const CHATS = Number(opt.chats ?? 100);
const SLOW_CHATS = 10;
const SLOW_MS = 5000;
const SAMPLE_TIMEOUT_MS = 6000; // one slow handler plus a second: more means it waited behind one
const GIVE_UP_AFTER = 2; // time-outs in a row
const WARMUP = 20;
const THROUGHPUT_TIMEOUT_MS = 90_000;
/** After the warm-up, before the throughput run: the process's RSS when idle. */
const IDLE_SETTLE_MS = 1000;

// At default limits the outbox sends 30 messages/s at most (Telegram's bot-wide limit), so that row
// gets a smaller saturation run; 3 updates per chat also stay under the per-chat 1/s and 30/min.
const DEFAULTS_UPDATES = Math.min(UPDATES, opt.quick ? 150 : 300);
const SHM = '/dev/shm';

const CONTESTANTS = [
  { key: 'bare', label: 'bare getUpdates loop (no framework)', start: startFixture('bare-loop.js') },
  { key: 'botvisor', label: 'botvisor runtime (botvisor-bot)', start: startBotvisor() },
  { key: 'grammy', label: 'grammY 1.46 + runner 2.0 (sequentialize)', start: startFixture('grammy-runner.js') },
  { key: 'ntba', label: 'node-telegram-bot-api 2.1 startPolling', start: startFixture('ntba-polling.js') },
  { key: 'botvisor-shm', label: 'botvisor, data dir on tmpfs (fsync ≈ free)', start: startBotvisor({ base: SHM }), extra: true, when: () => existsSync(SHM) },
  {
    key: 'botvisor-defaults',
    label: 'botvisor, default limits (30 msg/s, 1/s per chat)',
    start: startBotvisor({ env: { BENCH_BOTVISOR_DEFAULTS: '1' } }),
    updates: DEFAULTS_UPDATES,
    extra: true,
  },
  {
    // The goal's denominator: the default-limits row's workload (same update count) with the limits lifted.
    key: 'botvisor-same',
    label: `botvisor, limits lifted, the same ${DEFAULTS_UPDATES} updates`,
    start: startBotvisor(),
    updates: DEFAULTS_UPDATES,
    latency: false,
    extra: true,
  },
];

function startFixture(file) {
  return (run, sim, token) =>
    forkReady(run, path.join(FIXTURES, file), [], { env: { BENCH_TOKEN: token, BENCH_API_ROOT: sim.url, BENCH_SLOW_MS: String(SLOW_MS) }, name: file });
}

/** As users run it: a botvisor.json in a temp dir and the runtime's botvisor-bot entry, forked with IPC. */
function startBotvisor({ base, env = {} } = {}) {
  return (run, sim, token) => startBotvisorIn(run, sim, token, base, env);
}

function startBotvisorIn(run, sim, token, base, env) {
  const dir = run.tempDir('botvisor-bench-dispatch-', base);
  const configFile = path.join(dir, 'botvisor.json');
  const config = {
    apiRoot: sim.url,
    dataDir: path.join(dir, 'data'),
    logDir: path.join(dir, 'logs'),
    bots: [{ name: 'bench', module: path.join(FIXTURES, 'botvisor-bot.js'), token }],
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return forkReady(run, BOT_BIN, ['--config', configFile, '--bot', 'bench'], { env: { BENCH_SLOW_MS: String(SLOW_MS), ...env }, name: 'botvisor-bot' });
}

function transcriptOf(watch, chatId) {
  return watch.state.chats.find(chatId).transcript;
}

/**
 * Injects `/command` as user `chatId` in their private chat; resolves with the reply's latency in
 * ms (and `botSide`: from the sim's getUpdates answer to the reply), or undefined on time-out.
 */
async function roundTrip(sim, watch, chatId, command, reply, timeoutMs, signal = new AbortController().signal) {
  const started = performance.now();
  const { cursor } = sim.users.sendCommand(watch.state.token, { command, user: { id: chatId } });
  const entry = await transcriptOf(watch, chatId).waitForMessage({ text: reply }, cursor, timeoutMs, signal);
  if (entry === undefined) return undefined;
  const now = performance.now();
  return { ms: now - started, botSide: now - (watch.firstDeliveryAfter(started) ?? Number.NaN) };
}

async function throughput(sim, watch, pid, updates) {
  const base = watch.sent;
  const cpu0 = cpuMs(pid);
  const started = performance.now();
  for (let i = 0; i < updates; i++) sim.users.sendCommand(watch.state.token, { command: 'fast', user: { id: 300_000 + (i % CHATS) } });
  const done = await watch.waitSent(base + updates, THROUGHPUT_TIMEOUT_MS);
  const end = done ?? performance.now();
  const replies = watch.sent - base;
  let perChatOk = true;
  for (let c = 0; c < CHATS; c++) {
    const want = Math.floor(updates / CHATS) + (c < updates % CHATS ? 1 : 0);
    const got = transcriptOf(watch, 300_000 + c)
      .read()
      .filter((e) => e.kind === 'sent' && e.text === 'fast').length;
    if (got !== want) perChatOk = false;
  }
  return { replies, seconds: (end - started) / 1000, complete: done !== undefined, perChatOk, cpuMs: cpuMs(pid) - cpu0 };
}

async function latencyUnderLoad(sim, watch) {
  const stop = new AbortController();
  setMaxListeners(SLOW_CHATS + 10, stop.signal);
  let slowAnswers = 0;
  const delivered0 = watch.state.stats.snapshot().updatesDelivered;
  const keepBusy = async (chatId) => {
    while (!stop.signal.aborted) {
      const took = await roundTrip(sim, watch, chatId, 'slow', 'slow done', 120_000, stop.signal);
      if (took !== undefined) slowAnswers++;
    }
  };
  const loops = Array.from({ length: SLOW_CHATS }, (_, i) => keepBusy(200_001 + i));
  await waitFor(() => watch.state.stats.snapshot().updatesDelivered >= delivered0 + SLOW_CHATS, { timeoutMs: 10_000, what: 'the /slow updates to be fetched' });
  await sleep(100); // let the handlers start
  const latencies = [];
  const botSide = [];
  let timeouts = 0;
  let inRow = 0;
  const started = performance.now();
  for (let k = 0; k < SAMPLES && inRow < GIVE_UP_AFTER; k++) {
    const took = await roundTrip(sim, watch, 400_000 + k, 'fast', 'fast', SAMPLE_TIMEOUT_MS, stop.signal);
    if (took === undefined) {
      timeouts++;
      inRow++;
    } else {
      latencies.push(took.ms);
      botSide.push(took.botSide);
      inRow = 0;
    }
    await sleep(5);
  }
  const seconds = (performance.now() - started) / 1000;
  stop.abort();
  await Promise.all(loops);
  return { latencies, botSide: botSide.filter(Number.isFinite), timeouts, seconds, slowAnswers };
}

async function measure(run, sim, contestant, id) {
  const token = tokenFor(id);
  const watch = watchSimBot(sim, token);
  const child = await contestant.start(run, sim, token);
  try {
    await waitFor(() => watch.pendingPollers >= 1, { timeoutMs: 10_000, what: `${contestant.key} to poll` });
    for (let k = 0; k < WARMUP; k++) {
      if ((await roundTrip(sim, watch, 500_000 + k, 'fast', 'fast', 10_000)) === undefined) throw new Error(`${contestant.key}: no answer to a warm-up /fast`);
    }
    await sleep(IDLE_SETTLE_MS);
    const idleRss = rssMb(child.pid); // warmed up (every code path of a /fast loaded), then idle
    const tp = await throughput(sim, watch, child.pid, contestant.updates ?? UPDATES);
    const lat = contestant.latency === false ? { latencies: [], botSide: [], timeouts: 0, seconds: 0, slowAnswers: 0 } : await latencyUnderLoad(sim, watch);
    return { tp, lat, idleRss };
  } finally {
    await stopChild(child);
  }
}

async function main() {
  const run = new Run();
  const sim = await startSim();
  const only = opt.only?.split(',');
  const contestants = CONTESTANTS.filter((c) => (only === undefined ? c.when?.() ?? true : only.includes(c.key)));
  console.log('dispatch: botvisor runtime vs grammY + runner vs node-telegram-bot-api v2, one bot-api-sim');
  console.log(`machine: ${machineFacts()}`);
  console.log(
    `workload (${ROUNDS} round${ROUNDS > 1 ? 's, pooled' : ''}): throughput ${UPDATES} /fast over ${CHATS} chats at once; latency ${SAMPLES} /fast one at a time (5 ms apart, ${SAMPLE_TIMEOUT_MS / 1000} s time-out) while ${SLOW_CHATS} chats keep a ${SLOW_MS / 1000} s /slow in flight`,
  );
  const rounds = Object.fromEntries(contestants.map((c) => [c.key, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Every other round in reverse order, so that drifting load on the machine hits everyone alike.
      const order = round % 2 === 0 ? contestants : [...contestants].reverse();
      for (const c of order) {
        process.stdout.write(`  round ${round + 1} ${c.key.padEnd(17)} load average before ${loadAverage()} … `);
        const r = await measure(run, sim, c, 7_000_001 + round * 100 + contestants.indexOf(c));
        rounds[c.key].push(r);
        console.log(`done (${r.tp.seconds.toFixed(1)} s + ${r.lat.seconds.toFixed(1)} s, ${r.lat.slowAnswers} /slow answered meanwhile)`);
      }
    }
  } finally {
    await run.cleanup();
    await sim.close();
  }
  report(contestants, Object.fromEntries(Object.entries(rounds).map(([key, list]) => [key, pool(list)])), rounds);
}

/** The rounds of one contestant as one result: latency samples pooled, throughput summed (with each round's rate). */
function pool(list) {
  const sum = (f) => list.reduce((n, r) => n + f(r), 0);
  return {
    idleRss: list.reduce((n, r) => n + r.idleRss, 0) / list.length,
    lat: {
      latencies: list.flatMap((r) => r.lat.latencies),
      botSide: list.flatMap((r) => r.lat.botSide),
      timeouts: sum((r) => r.lat.timeouts),
    },
    tp: {
      replies: sum((r) => r.tp.replies),
      seconds: sum((r) => r.tp.seconds),
      cpuMs: sum((r) => r.tp.cpuMs),
      complete: list.every((r) => r.tp.complete),
      perChatOk: list.every((r) => r.tp.perChatOk),
      rates: list.map((r) => r.tp.replies / r.tp.seconds),
    },
  };
}

/**
 * A goal's ratio as the median of its per-round ratios: each round measures botvisor and the peer
 * back to back (the order alternating), so a neighbour's burst skews one round's pair, not the verdict.
 */
function medianRatio(rounds, f) {
  const ratios = rounds.botvisor.map((r, i) => f(pool([r]), pool([rounds.grammy[i]])));
  return { value: median(ratios), each: ratios };
}

function report(contestants, results, rounds) {
  const ours = results.botvisor;
  const bare = results.bare;
  const p = (r, q) => percentile(r.lat.latencies, q);
  const timedOut = (r) => r.lat.timeouts > 0;
  const over = `> ${SAMPLE_TIMEOUT_MS} ms`;
  // Peers first, then botvisor's variants under a rule.
  const ordered = [...contestants.filter((c) => !c.extra), ...contestants.filter((c) => c.extra)];
  const rule = (rows) => {
    const extras = ordered.filter((c) => c.extra).length;
    if (extras > 0 && ordered.length > extras) rows.splice(rows.length - extras, 0, rows[0].map(() => ''));
  };

  console.log('');
  console.log(`/fast reply latency while ${SLOW_CHATS} × ${SLOW_MS / 1000} s handlers run (inject → reply on the transcript; ${SAMPLES} samples per round)`);
  const latRows = [['contestant', 'answered', 'p50', 'p99', 'max', 'bot side p50', 'p99 ÷ bare', 'botvisor p99 ÷ this']];
  for (const c of ordered) {
    const r = results[c.key];
    const t = timedOut(r);
    latRows.push([
      c.label,
      c.latency === false ? '— (not measured)' : `${r.lat.latencies.length}/${r.lat.latencies.length + r.lat.timeouts}`,
      t && r.lat.latencies.length === 0 ? over : ms(p(r, 50)),
      t ? over : ms(p(r, 99)),
      t ? over : ms(Math.max(...r.lat.latencies)),
      r.lat.botSide.length === 0 ? '—' : ms(percentile(r.lat.botSide, 50)),
      t || bare === undefined ? '—' : ratio(p(r, 99), p(bare, 99)),
      ours === undefined || c.key === 'botvisor' ? '' : t ? '< 0.01×' : ratio(p(ours, 99), p(r, 99)),
    ]);
  }
  rule(latRows);
  printTable(latRows, '  ');

  console.log('');
  console.log(`throughput at saturation: ${UPDATES} /fast over ${CHATS} chats injected at once per round, until every reply is in`);
  const tpRows = [['contestant', 'updates', 'seconds', 'updates/s', 'each round', 'CPU ms / 1000', 'botvisor ÷ this', 'idle RSS']];
  const rate = (r) => r.tp.replies / r.tp.seconds;
  for (const c of ordered) {
    const r = results[c.key];
    const want = c.updates ?? UPDATES;
    tpRows.push([
      c.label,
      `${r.tp.replies}${r.tp.complete ? '' : ` of ${want * r.tp.rates.length} (timed out)`}${r.tp.perChatOk ? '' : ' (per-chat count off!)'}`,
      r.tp.seconds.toFixed(2),
      rate(r).toFixed(0),
      r.tp.rates.map((x) => x.toFixed(0)).join(', '),
      ((r.tp.cpuMs / r.tp.replies) * 1000).toFixed(0),
      ours === undefined || c.key === 'botvisor' ? '' : ratio(rate(ours), rate(r)),
      `${r.idleRss.toFixed(1)} MB`,
    ]);
  }
  rule(tpRows);
  printTable(tpRows, '  ');

  console.log('');
  if (ours !== undefined && bare !== undefined) {
    const v = p(ours, 99) / p(bare, 99);
    console.log(`goal: botvisor p99 ≤ 2× the bare round trip: ${v.toFixed(2)}× ${v <= 2 ? 'met' : 'MISSED'}`);
  }
  const runner = results.grammy;
  const cpuPer1000 = (r) => (r.tp.cpuMs / r.tp.replies) * 1000;
  const goals = [];
  if (ours !== undefined && runner !== undefined) {
    const perRound = (f) => medianRatio(rounds, f);
    goals.push(['throughput ÷ grammY + runner', perRound((a, b) => rate(a) / rate(b)), '≥ 1.0×', (v) => v >= 1]);
    goals.push(['CPU per 1000 updates ÷ runner', perRound((a, b) => cpuPer1000(a) / cpuPer1000(b)), '≤ 1.0×', (v) => v <= 1]);
    if (!timedOut(ours)) {
      goals.push(['/fast p99 under load ÷ runner', perRound((a, b) => p(a, 99) / p(b, 99)), '≤ 1.5×', (v) => v <= 1.5]);
      goals.push(['/fast p50 under load ÷ runner', perRound((a, b) => p(a, 50) / p(b, 50)), '≤ 1.5×', (v) => v <= 1.5]);
    }
    goals.push(['idle RSS of one bot ÷ a grammY runner bot', perRound((a, b) => a.idleRss / b.idleRss), '≤ 1.0×', (v) => v <= 1]);
  }
  const defaults = results['botvisor-defaults'];
  const same = results['botvisor-same'];
  if (defaults !== undefined && same !== undefined) {
    // The goal: the same workload with the limits on and lifted; the two rows run back to back in each round.
    const ratios = rounds['botvisor-defaults'].map((r, i) => cpuPer1000(pool([r])) / cpuPer1000(pool([rounds['botvisor-same'][i]])));
    goals.push([`CPU per reply at default limits ÷ lifted, both ${DEFAULTS_UPDATES} updates`, { value: median(ratios), each: ratios }, '≤ 1.3×', (x) => x <= 1.3]);
  }
  if (ours !== undefined && defaults !== undefined) {
    // For reference: against the 5000-update lifted row, which also carries more warm-up (V8 optimises what 300 updates do not reach).
    const v = cpuPer1000(defaults) / cpuPer1000(ours);
    goals.push([`  (reference: ÷ lifted at ${UPDATES} updates, pooled)`, { value: v, each: [v] }, '', () => true]);
  }
  if (goals.length > 0) {
    console.log(`goals (issue 18): the median of the per-round ratios (botvisor and grammY + runner back to back in each of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}):`);
    printTable(
      [['goal', 'ratio', 'each round', 'target', ''], ...goals.map(([what, r, target, ok]) => [what, `${r.value.toFixed(2)}×`, r.each.map((x) => x.toFixed(2)).join(', '), target, target === '' ? '' : ok(r.value) ? 'PASS' : 'MISS'])],
      '  ',
    );
  }
  console.log('notes:');
  console.log('- idle RSS: VmRSS after the 20 warm-up round trips and 1 s idle, before the throughput run.');
  console.log(`- CPU per reply at default limits: the goal compares the same workload, ${DEFAULTS_UPDATES} /fast over ${CHATS} chats, with the`);
  console.log(`  outbox limits on (paced at 30/s over ~${Math.round(DEFAULTS_UPDATES / 30)} s) and lifted (the "limits lifted, the same" row, sent at once),`);
  console.log('  the median of the per-round ratios. The ratio against the 5000-update row is printed for reference only: 5000');
  console.log('  updates let V8 optimise code that 300 run cold, so it mixes warm-up into the pacing cost (BENCHMARKS.md,');
  console.log('  "Issue 18, CPU pass"). The paced row also carries ~9 s of the bot\'s per-second costs (timers, GC).');
  console.log("- bot side: from the sim's getUpdates answer carrying the /fast to the reply (the bot's own share of the latency).");
  console.log('- botvisor appends every fetched batch to its durable inbox journal (fdatasync) before the next getUpdates');
  console.log('  confirms the offset, and appends starts and settles without a sync; the peers keep nothing on disk');
  console.log('  (a crash loses what they fetched). The tmpfs row shows what is left when fsync costs nothing.');
  console.log('- the botvisor rows lift its outbox flood control and per-user incoming limit, which the peers do not have;');
  console.log(`  the default-limits row (${DEFAULTS_UPDATES} updates) shows them at work: replies paced at Telegram's 30 messages/s.`);
  console.log("- ntba v2 startPolling awaits each update's handlers before fetching on, so a /fast waits behind every queued");
  console.log(`  /slow; its latency samples time out after ${SAMPLE_TIMEOUT_MS / 1000} s by design (given up after ${GIVE_UP_AFTER} in a row).`);
}

await main();
