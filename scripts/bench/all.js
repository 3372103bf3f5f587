// `npm run bench`: every side-by-side benchmark in sequence, each in its own Node process (so one
// benchmark's heap and handles never skew the next), with their output as they print it. `--quick`
// asks each for its short version (smaller counts; the same comparisons). Exit code 1 if any failed.
//   node scripts/bench/all.js [--quick] [--only store,sim,...]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage, machineFacts } from './lib/common.js';

const { values: opt } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });

/** Each benchmark with its arguments for a full and a quick run. */
const BENCHES = [
  { name: 'dispatch', what: 'dispatch latency and throughput vs grammY runner and node-telegram-bot-api v2', full: [], quick: ['--quick'] },
  { name: 'supervisor', what: 'restart latency and idle memory vs PM2', full: [], quick: ['--quick'] },
  { name: 'fleet', what: 'idle RSS of the supervisor and a fleet of 10 bots vs PM2 + 10 grammY runner bots', full: [], quick: ['--quick'] },
  { name: 'reload', what: 'botvisor reload vs pm2 reload under traffic: lost, duplicated, poll gap, reply latency', full: [], quick: ['--quick'] },
  { name: 'failover', what: 'cluster failover time vs leaseMs after kill -9 of the active node; steady-state overhead of cluster mode', full: [], quick: ['--quick'] },
  { name: 'treekill', what: 'tree kill vs tree-kill alone', full: [], quick: ['--quick'] },
  { name: 'store', what: 'durable store vs lowdb stock JSONFile adapter', full: [], quick: [], quickEnv: { BENCH_BURST_UPDATES: '2000', BENCH_SEQUENTIAL_WRITES: '100', BENCH_ROUNDS: '2' } },
  { name: 'jobs', what: 'CLI output throughput vs exec; outbox delivery vs the theoretical 30/s', full: [], quick: ['--sizes', '1,10,100', '--rounds', '2'] },
  { name: 'sessions', what: '20 concurrent agent sessions: first-token latency p50/p99, RSS per session', full: [], quick: ['--rounds', '1'] },
  { name: 'sim', what: 'bot-api-sim requests/s and round trips/s', full: [], quick: ['--seconds', '2'] },
];

const only = opt.only?.split(',');
const selected = BENCHES.filter((b) => only === undefined || only.includes(b.name));
console.log(`botvisor benchmarks${opt.quick ? ' (quick)' : ''}: ${selected.map((b) => b.name).join(', ')}`);
console.log(`machine: ${machineFacts()}; load average at start: ${loadAverage()}`);
const failed = [];
const goalRows = [];
for (const b of selected) {
  console.log(`\n=== ${b.name}: ${b.what} ===`);
  const args = opt.quick ? b.quick : b.full;
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(import.meta.dirname, `${b.name}.js`), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(opt.quick ? b.quickEnv : {}) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = r.stdout?.toString() ?? '';
  process.stdout.write(out);
  goalRows.push(...out.split('\n').filter((line) => / (PASS|MISS)$/.test(line)).map((line) => `  ${b.name.padEnd(10)} ${line.trim()}`));
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  if (r.status !== 0) failed.push(b.name);
  console.log(`=== ${b.name}: ${r.status === 0 ? 'done' : `FAILED (${r.status ?? r.signal})`} in ${secs} s ===`);
}
// Every issue-18 goal row the benchmarks printed, gathered in one table at the end.
if (goalRows.length > 0) {
  console.log('\n=== issue 18 goals, each a ratio from its benchmark in this run ===');
  for (const row of goalRows) console.log(row);
}
if (failed.length > 0) {
  console.log(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
