// The chaos soak: a supervisor (a real, separate process) with a bridge bot, an alerts bot and a
// second polling bot on an in-process bot-api-sim; 50 simulated users; and, at random moments,
// kill -9 of bots, CLI jobs and the supervisor, rogue pollers, 429 floods, network faults, corrupted
// state files and an exhausted quota. At the end it checks the invariants and prints them and the
// counts as tables. `runSoak()` is what the mocha spec calls; run by hand:
//   npm run build && node scripts/chaos/soak.js [--minutes N | --seconds N] [--seed S]
// Exit code 0 when every invariant holds, 1 otherwise.

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startSim } from '@botvisor/bot-api-sim';
import { killTree, refOf } from '@botvisor/core';
import { ChaosActions } from './lib/chaos-actions.js';
import { checkExactlyOnce, checkNoLeftovers, checkNoTokensInLogs, checkSinglePoller, checkStateFiles, countFromLogs, printTable, readLogLines, readRecords } from './lib/checks.js';
import { SupervisorProcess, soakProcesses, writeFleetConfig } from './lib/fleet.js';
import { SimulatedUsers } from './lib/users.js';

const USERS = 50;
const ADMIN = 100_001;
/** The bridge's queue limit per user in the soak (the job pool's default). The quota stays below it. */
const JOB_QUEUE_LIMIT = 10;

/** A small seeded PRNG (mulberry32), so a seed replays the same schedule of actions. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The key of `weights` that `u` (uniform in [0, 1)) falls on. */
function weightedPick(weights, u) {
  let left = u * Object.values(weights).reduce((a, b) => a + b, 0);
  for (const [key, w] of Object.entries(weights)) {
    left -= w;
    if (left < 0) return key;
  }
  return Object.keys(weights)[0];
}

// A fresh secret per run: the polling lock is machine-wide per token, so two soaks (or a soak and
// `npm test`'s short one) on one machine must not share tokens, or one waits for the other's lock.
const runTag = randomBytes(6).toString('hex');
const tokenFor = (id, tag) => `${id}:${`chaos_${tag}_${runTag}_`.padEnd(35, 'Z')}`;

/** Tracks pending getUpdates per token, ignoring arrivals while a rogue poller is active. */
function watchPollers(sim, tokens, rogueActive) {
  const max = {};
  for (const [bot, token] of Object.entries(tokens)) {
    max[bot] = 0;
    const stats = sim.simulator.bot(token).stats;
    const arrived = stats.pollerArrived.bind(stats);
    stats.pollerArrived = () => {
      arrived();
      if (!(rogueActive[bot] > 0)) max[bot] = Math.max(max[bot], stats.snapshot().pendingPollers);
    };
  }
  return max;
}

/**
 * Runs the soak for `durationMs` of chaos (plus start-up and a drain), then checks.
 * Returns { ok, invariants, counts, journal, elapsedMs }.
 */
export async function runSoak({ durationMs, seed = 1, meanGapMs = 8000, actionGapMs = [2000, 6000], quota = 5, log = console.log, keep = false }) {
  // At or over the queue limit, a full queue would answer before the quota does: not what is checked.
  if (quota >= JOB_QUEUE_LIMIT) throw new RangeError(`quota must stay below the job queue limit (${JOB_QUEUE_LIMIT}), got ${quota}`);
  const t0 = Date.now();
  const rng = seededRandom(seed);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'botvisor-chaos-'));
  const markers = { id: path.basename(dir), tmp: path.join(dir, 'tmp') };
  const recordDir = path.join(dir, 'records');
  mkdirSync(markers.tmp);
  mkdirSync(recordDir);
  const sim = await startSim();
  const tokens = { bridge: tokenFor(7_100_001, 'a'), second: tokenFor(7_100_002, 'b') };
  const userIds = Array.from({ length: USERS }, (_, i) => 200_001 + i);
  const abuserIds = Array.from({ length: 10 }, (_, i) => 300_001 + i);
  const fleet = writeFleetConfig({ dir, simUrl: sim.url, tokenA: tokens.bridge, tokenB: tokens.second, users: [ADMIN, ...userIds, ...abuserIds], admin: ADMIN });
  const supervisor = new SupervisorProcess({ configFile: fleet.file, dataDir: fleet.dataDir, logDir: fleet.logDir, markers, env: { CHAOS_RECORD_DIR: recordDir, CHAOS_DAILY_QUOTA: String(quota), CHAOS_QUEUE_LIMIT: String(JOB_QUEUE_LIMIT) } });
  const rogueActive = {};
  const maxPollers = watchPollers(sim, tokens, rogueActive);
  const accepted = [];
  const counts = { botKills: 0, jobKills: 0, supervisorKills: 0, supervisorStarts: 0, rogueEpisodes: 0, floodEpisodes: 0, networkFaults: 0, corruptions: 0, quotaUsers: 0, quotaRefusals: 0 };
  const journal = [];
  const lostToCorruption = new Set();
  const users = new SimulatedUsers({ sim, tokens, userIds, rng, meanGapMs, accepted });
  let abuserIndex = 0;
  const abusers = { admin: ADMIN, next: () => abuserIds[abuserIndex++] };
  const actions = new ChaosActions({ sim, supervisor, tokens, users, rng, markers, dataDir: fleet.dataDir, quota, abusers, counts, journal, rogueActive, lostToCorruption });
  const progress = (text) => log(`[chaos ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${text}`);

  let result;
  try {
    // The admin writes first, so the alerts bot's chat exists in the sim.
    users.send('bridge', ADMIN, { command: 'start' });
    await supervisor.start();
    counts.supervisorStarts++;
    progress(`fleet ready (supervisor pid ${supervisor.pid}), data in ${dir}`);
    users.start();

    // Every kind of action once (in a seeded order), then random ones until the time is up.
    const kinds = ['killBot', 'killJob', 'killSupervisor', 'roguePoller', 'flood', 'networkFault'];
    const weights = { killBot: 4, killJob: 3, killSupervisor: 2, roguePoller: 2, flood: 2, networkFault: 3 };
    const firstRound = [...kinds].sort(() => rng() - 0.5);
    const quotaRuns = [actions.exhaustQuota()];
    const chaosEnd = t0 + durationMs;
    let n = 0;
    while (Date.now() < chaosEnd || n < kinds.length) {
      let kind = firstRound[n];
      if (kind === undefined) {
        kind = weightedPick(weights, rng());
      }
      n++;
      if (kind === 'killSupervisor' && n > kinds.length && rng() < 0.5) quotaRuns.push(actions.exhaustQuota());
      try {
        await actions[kind]();
      } catch (err) {
        journal.push({ at: Date.now(), text: `${kind} failed: ${err.message}` });
        progress(`${kind} failed: ${err.message}`);
        if (!supervisor.running) {
          await supervisor.start();
          counts.supervisorStarts++;
        }
      }
      progress(journal.at(-1)?.text ?? kind);
      await sleep(actionGapMs[0] + rng() * (actionGapMs[1] - actionGapMs[0]));
    }

    // Drain: no more load or faults; wait for every accepted update to be confirmed and handled.
    await users.stop();
    await Promise.all(quotaRuns);
    await sim.client.clearFaults();
    await sim.client.setFlood('off');
    if (!supervisor.running) await supervisor.start();
    await supervisor.waitReady(60_000);
    progress(`chaos over; draining ${accepted.length} accepted updates`);
    const drainDeadline = Date.now() + 45_000;
    let pendingAtEnd = 0;
    for (;;) {
      pendingAtEnd = (await sim.client.pendingUpdates(tokens.bridge)).length + (await sim.client.pendingUpdates(tokens.second)).length;
      const handled = { bridge: readRecords(recordDir, 'bridge'), second: readRecords(recordDir, 'second') };
      const unhandled = accepted.filter((u) => !handled[u.bot].has(u.id) && !lostToCorruption.has(`${u.bot}:${u.id}`));
      if ((pendingAtEnd === 0 && unhandled.length === 0) || Date.now() > drainDeadline) break;
      await sleep(250);
    }

    // Processes: before the final stop, everything alive must be the current supervisor's tree.
    const treePids = new Set([supervisor.pid, ...supervisor.tree().map((p) => p.pid)]);
    const strayBeforeStop = soakProcesses(markers).filter((p) => !treePids.has(p.pid));
    const stopped = await supervisor.stop();
    await sleep(200);
    const aliveAfterStop = soakProcesses(markers);
    progress(`supervisor stopped (${JSON.stringify(stopped)})`);

    const logLines = readLogLines(fleet.logDir);
    const fromLogs = countFromLogs(logLines);
    const simStats = { bridge: (await sim.client.stats(tokens.bridge)), second: (await sim.client.stats(tokens.second)) };
    const invariants = [
      checkExactlyOnce({ accepted, recordDir, logLines, lostToCorruption, pendingAtEnd }),
      checkNoLeftovers({ strayBeforeStop, aliveAfterStop, currentTreeSize: treePids.size }),
      checkSinglePoller({ maxUnderSupervisor: maxPollers, simMax: { bridge: simStats.bridge.maxPendingPollers, second: simStats.second.maxPendingPollers } }),
      checkStateFiles({ dataDir: fleet.dataDir, corruptions: actions.corruptions, logLines }),
      checkNoTokensInLogs({ logDir: fleet.logDir, tokens: Object.values(tokens) }),
    ];
    const quotaOutcome = await actions.quotaOutcome();
    counts.quotaRefusals = quotaOutcome.refused.length;
    if (counts.quotaUsers > 0) {
      const { refused, notRefused, notExhausted, restoredMeanwhile, refusals } = quotaOutcome;
      const byKind = Object.entries(refusals).map(([kind, n]) => `${kind} ${n}`).join(', ');
      const detail =
        `${refused.length} of ${refused.length + notRefused.length} users refused after ${quota} jobs` +
        `${notExhausted.length > 0 ? `, ${notExhausted.length} kept within it by other refusals` : ''}` +
        `${restoredMeanwhile > 0 ? `, ${restoredMeanwhile} with jobs.json restored from a backup meanwhile` : ''}; refusals: ${byKind}`;
      invariants.push({ name: 'an exhausted quota is refused', ok: notRefused.length === 0, detail });
    }
    const allCounts = {
      'updates sent by users': users.sent,
      'bot kills (kill -9)': counts.botKills,
      'CLI job kills (kill -9)': counts.jobKills,
      'supervisor kills (kill -9)': counts.supervisorKills,
      'supervisor starts': counts.supervisorStarts,
      'bot restarts (supervisor events)': fromLogs.restarts,
      '409 Conflict answers (sim)': simStats.bridge.conflicts + simStats.second.conflicts,
      '429 Too Many Requests answers (sim)': simStats.bridge.tooManyRequests + simStats.second.tooManyRequests,
      'reaped orphans (previous runs)': fromLogs.reaped,
      'rogue poller episodes': counts.rogueEpisodes,
      '429 flood episodes': counts.floodEpisodes,
      'network faults injected': counts.networkFaults,
      'state files corrupted': counts.corruptions,
      'quota exhausted (users)': counts.quotaUsers,
    };
    result = { ok: invariants.every((i) => i.ok), invariants, counts: allCounts, journal, elapsedMs: Date.now() - t0, dir };
    printReport(result, log);
    return result;
  } finally {
    await users.stop().catch(() => undefined);
    // Whatever happened: the supervisor and every process of any run, by PID and by marker.
    if (supervisor.running) await supervisor.stop(10_000).catch(() => undefined);
    for (const p of soakProcesses(markers)) {
      const ref = refOf(p.pid);
      if (ref !== undefined) await killTree(ref, { graceMs: 200, deadlineMs: 3000 });
    }
    await sim.close();
    if (!keep || result?.ok) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir} for inspection`);
  }
}

export function printReport({ ok, invariants, counts, elapsedMs }, log = console.log) {
  log('');
  log(`Chaos soak: ${(elapsedMs / 60_000).toFixed(1)} minutes — ${ok ? 'every invariant held' : 'INVARIANT BROKEN'}`);
  printTable([['invariant', 'result', 'detail'], ...invariants.map((i) => [i.name, i.ok ? 'PASS' : 'FAIL', i.detail])], log);
  log('');
  printTable([['count', 'value'], ...Object.entries(counts).map(([k, v]) => [k, String(v)])], log);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, seconds: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'boolean', default: false }, json: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    console.log(`usage: node scripts/chaos/soak.js [options]   (after npm run build)
  --minutes N   minutes of chaos (default 1.5)
  --seconds N   seconds of chaos instead
  --seed S      replay the schedule of seed S (default: from the clock)
  --keep        keep the soak's folder when an invariant breaks
  --json FILE   also write the result as JSON
The daily job quota is 5, or ${JOB_QUEUE_LIMIT - 2} for runs over 5 minutes (always below the queue limit of ${JOB_QUEUE_LIMIT}).`);
    process.exit(0);
  }
  const seconds = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes ?? 1.5) * 60;
  const seed = Number(values.seed ?? Date.now() % 100_000);
  console.log(`chaos soak: ${seconds} s of chaos, seed ${seed}`);
  const quota = seconds > 300 ? JOB_QUEUE_LIMIT - 2 : 5;
  const result = await runSoak({ durationMs: seconds * 1000, seed, quota, keep: values.keep });
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ seed, seconds, ...result }, null, 2));
  process.exitCode = result.ok ? 0 : 1;
}
