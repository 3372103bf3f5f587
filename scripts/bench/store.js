// Benchmark of the durable store against lowdb's stock JSONFile adapter, on the same data in one run.
//
// Two workloads, each measured for both:
//   burst       N updates issued without awaiting each one, then one wait for everything to be written
//               (both coalesce: the stock adapter through steno's Writer, ours through the CoalescingWriter);
//   sequential  each write awaited before the next update (ours fsyncs the file and the folder every time,
//               the stock adapter does not fsync at all, so ours is expected to be slower here).
// Rates are updates per second (an update is one mutation of the state object). Run: `npm run bench:store`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '@botvisor/core';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

const BURST_UPDATES = Number(process.env.BENCH_BURST_UPDATES ?? 5000);
const SEQUENTIAL_WRITES = Number(process.env.BENCH_SEQUENTIAL_WRITES ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** A bot's state: 100 users with quotas and counters (about 20 KB of JSON). */
function makeState() {
  const users = {};
  for (let i = 0; i < 100; i++) {
    users[`u${100000 + i}`] = {
      name: `user ${i}`,
      messagesToday: 0,
      dailyLimit: 50,
      lastSeen: '2024-05-01T12:00:00.000Z',
      tags: ['free', i % 3 === 0 ? 'admin' : 'member'],
    };
  }
  return { version: 1, day: '2024-05-01', counters: { updates: 0, replies: 0, errors: 0 }, users };
}

/** The mutation both sides perform: a check-and-increment against a user's daily limit. */
function bump(state, i) {
  const user = state.users[`u${100000 + (i % 100)}`];
  state.counters.updates += 1;
  if (user.messagesToday < user.dailyLimit) user.messagesToday += 1;
  user.lastSeen = new Date(1714564800000 + i * 1000).toISOString();
}

async function stockBurst(file, n) {
  const db = new Low(new JSONFile(file), makeState());
  const start = performance.now();
  const writes = [];
  for (let i = 0; i < n; i++) writes.push(db.update((state) => bump(state, i)));
  await Promise.all(writes);
  return { ms: performance.now() - start, check: db.data.counters.updates };
}

async function oursBurst(file, n) {
  const store = await openStore({ file, defaults: makeState, backupIntervalMs: 0 });
  try {
    const start = performance.now();
    for (let i = 0; i < n; i++) store.update((state) => bump(state, i));
    await store.flush();
    return { ms: performance.now() - start, check: store.data.counters.updates };
  } finally {
    await store.close();
  }
}

async function stockSequential(file, n) {
  const db = new Low(new JSONFile(file), makeState());
  const start = performance.now();
  for (let i = 0; i < n; i++) await db.update((state) => bump(state, i));
  return { ms: performance.now() - start, check: db.data.counters.updates };
}

async function oursSequential(file, n) {
  const store = await openStore({ file, defaults: makeState, backupIntervalMs: 0 });
  try {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      store.update((state) => bump(state, i));
      await store.flush();
    }
    return { ms: performance.now() - start, check: store.data.counters.updates };
  } finally {
    await store.close();
  }
}

/** Runs one measurement on a fresh file; checks that the file on disk ends up with every update. */
async function measure(dir, label, run, n) {
  const file = path.join(dir, `${label}-${Math.random().toString(36).slice(2)}.json`);
  const { ms, check } = await run(file, n);
  const onDisk = JSON.parse(readFileSync(file, 'utf8')).counters.updates;
  if (check !== n || onDisk !== n) throw new Error(`${label}: expected ${n} updates, memory has ${check}, disk has ${onDisk}`);
  return (n / ms) * 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function fileSystemOf(dir) {
  try {
    const out = execFileSync('df', ['-PT', dir], { encoding: 'utf8' }).trim().split('\n');
    const cols = out[out.length - 1].split(/\s+/);
    return `${cols[1]} (${cols[0]} on ${cols[6]})`;
  } catch {
    return 'unknown';
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'botvisor-bench-store-'));
  try {
    const bytes = Buffer.byteLength(JSON.stringify(makeState(), null, 2));
    console.log('botvisor durable store vs lowdb JSONFile');
    console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}, ${os.platform()} ${os.release()}`);
    console.log(`tmpdir:  ${dir} on ${fileSystemOf(dir)}`);
    console.log(`data:    100 users, ${(bytes / 1024).toFixed(1)} KB of JSON; median of ${ROUNDS} rounds`);
    console.log('');

    const rows = [];
    for (const [workload, n, stock, ours] of [
      ['burst', BURST_UPDATES, stockBurst, oursBurst],
      ['sequential', SEQUENTIAL_WRITES, stockSequential, oursSequential],
    ]) {
      const stockRates = [];
      const ourRates = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate the order so neither side always runs on a warmer cache.
        if (round % 2 === 0) {
          stockRates.push(await measure(dir, `stock-${workload}`, stock, n));
          ourRates.push(await measure(dir, `ours-${workload}`, ours, n));
        } else {
          ourRates.push(await measure(dir, `ours-${workload}`, ours, n));
          stockRates.push(await measure(dir, `stock-${workload}`, stock, n));
        }
      }
      rows.push({ workload, n, stock: median(stockRates), ours: median(ourRates) });
    }

    const pad = (s, w) => String(s).padStart(w);
    console.log(`${'workload'.padEnd(12)}${pad('updates', 9)}${pad('stock JSONFile/s', 18)}${pad('ours durable/s', 16)}${pad('ours/stock', 12)}`);
    for (const row of rows) {
      const ratio = row.ours / row.stock;
      console.log(
        `${row.workload.padEnd(12)}${pad(row.n, 9)}${pad(row.stock.toFixed(0), 18)}${pad(row.ours.toFixed(0), 16)}${pad(`${ratio.toFixed(2)}x`, 12)}`,
      );
    }
    console.log('');
    console.log('ours: temp file + fdatasync + rename + folder fsync per write, writes coalesced, single-writer lock held.');
    console.log('stock: temp file + rename, no fsync (not durable across power loss), steno coalescing.');
    console.log('burst: stock JSONFile serializes the whole state on every update() call (steno only coalesces the');
    console.log('       file writes); ours serializes once per write, when the write starts. That is most of the gap.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
