// Tree-kill benchmark (issue 10): botvisor's `killTree` (@botvisor/core) side by side with the npm
// `tree-kill` package alone (1.2.2), on the same real trees built fresh for every kill:
//   nested   a cooperative tree of 16 processes (sh → sh → sleep);
//   hostile  nested + a setsid'd subtree, two SIGTERM-ignoring node processes (one in its own
//            session) and a double-forked daemon that init adopted (23 processes).
// For each method and tree: the time from the call to every process of the tree dead (zombies
// count as dead), and how many are still alive 3 s later (then killed by their cookie, untimed).
// Contestants: killTree (grace 500 ms, with the tree cookie — what the supervisor passes),
// tree-kill with SIGTERM (its default) and tree-kill with SIGKILL.
// Run: `npm run bench:treekill` (or `node scripts/bench/treekill.js [--quick] [--rounds N]` after `npm run build`).
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { isAlive, killByCookie, killTree, refOf } from '@botvisor/core';
import { FIXTURES, loadAverage, machineFacts, median, ms, printTable, Run, waitFor } from './lib/common.js';

const treeKill = createRequire(import.meta.url)('tree-kill');
const { values: opt } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' } } });
const ROUNDS = Number(opt.rounds ?? (opt.quick ? 3 : 7));
const SETTLE_MS = 3000;
const GRACE_MS = 500;

const METHODS = {
  'botvisor killTree': (root, cookie) => killTree(root, { graceMs: GRACE_MS, deadlineMs: GRACE_MS + 2500, cookie }),
  'tree-kill SIGTERM': (root) => new Promise((resolve) => treeKill(root.pid, 'SIGTERM', () => resolve())),
  'tree-kill SIGKILL': (root) => new Promise((resolve) => treeKill(root.pid, 'SIGKILL', () => resolve())),
};

/** Builds one tree (its root in its own process group, as botvisor spawns jobs); resolves with its refs. */
async function buildTree(run, shape) {
  const child = run.tracker.fork(path.join(FIXTURES, 'hostile-tree.js'), [shape], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const pids = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${shape} tree did not come up within 15 s (exit: ${child.exitCode ?? child.signalCode})`)), 15_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m.pids);
    });
  });
  child.disconnect();
  const refs = pids.map(refOf).filter((r) => r !== undefined);
  return { root: refOf(child.pid), refs };
}

async function measure(run, method, shape) {
  const { root, refs } = await buildTree(run, shape);
  const t0 = performance.now();
  // Not awaited here (the clock stops when the tree is dead), but before the next tree is built:
  // a killTree still rescanning by cookie would otherwise find the next tree.
  const done = METHODS[method](root, run.tracker.cookie);
  let deadAt;
  const until = t0 + SETTLE_MS;
  while (performance.now() < until) {
    if (refs.every((r) => !isAlive(r))) {
      deadAt = performance.now();
      break;
    }
    await sleep(2);
  }
  const survivors = refs.filter((r) => isAlive(r));
  await done;
  // Whatever the contestant left: killed by the tree cookie (not timed), before the next round.
  await killByCookie(run.tracker.cookie, { graceMs: 0, deadlineMs: 3000 });
  await waitFor(() => refs.every((r) => !isAlive(r)), { timeoutMs: 5000, what: 'the leftovers to die' });
  return { processes: refs.length, ms: deadAt === undefined ? Number.NaN : deadAt - t0, survivors: survivors.length };
}

async function main() {
  console.log('Tree kill: botvisor killTree vs npm tree-kill 1.2.2 alone');
  console.log(`machine: ${machineFacts()}; load average before: ${loadAverage()}`);
  console.log(`${ROUNDS} rounds per method and tree; a fresh tree every round; "all dead" = every process of the tree dead or a zombie`);
  const run = new Run();
  const rows = [['tree', 'method', 'processes', 'all dead (median)', 'rounds all dead', 'left alive after 3 s (median)']];
  try {
    for (const shape of (process.env.TK_SHAPES ?? 'nested,hostile').split(',')) {
      for (const method of Object.keys(METHODS)) {
        const results = [];
        for (let i = 0; i < ROUNDS; i++) results.push(await measure(run, method, shape));
        const dead = results.filter((r) => Number.isFinite(r.ms));
        rows.push([
          shape,
          method,
          String(results[0].processes),
          dead.length > 0 ? ms(median(dead.map((r) => r.ms))) : 'never',
          `${dead.length}/${results.length}`,
          String(median(results.map((r) => r.survivors))),
        ]);
      }
    }
    printTable(rows);
    console.log('');
    console.log(`killTree's time on the hostile tree is bounded below by its grace (${GRACE_MS} ms): the SIGTERM-ignoring processes get SIGKILL only after it.`);
    console.log('tree-kill walks `ps --ppid` from the root, so it cannot see a setsid + double-forked daemon adopted by init, and with SIGTERM it never escalates.');
  } finally {
    await run.cleanup();
  }
}

await main();
