// Shared helpers of the side-by-side benchmarks (dispatch.js, supervisor.js): machine facts,
// percentiles, a compact table, temp dirs, the processes a run starts (tracked and tree-killed by
// PID at the end, whatever happened) and hooks into the in-process bot-api-sim.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { descendants, isDeadState } from '@botvisor/core';
import { ProcessTracker } from '@botvisor/testkit';

export const REPO = path.resolve(import.meta.dirname, '../../..');
// The shipped entries (the bundles of scripts/build/bundle.js), as the packages export them.
export const BOT_BIN = fileURLToPath(import.meta.resolve('@botvisor/runtime/bot-entry'));
export const SUPERVISOR_BIN = fileURLToPath(import.meta.resolve('@botvisor/supervisor/daemon'));
export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

export function machineFacts() {
  const cpus = os.cpus();
  const gb = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpus.length} cores (${cpus[0]?.model?.trim() ?? 'unknown cpu'}), ${gb} GB, node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function loadAverage() {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** A Telegram-shaped token the sim accepts; bot ids from `id`. */
export function tokenFor(id) {
  return `${id}:${`bench_${id}_`.padEnd(35, 'x')}`;
}

/** Nearest-rank percentile of numbers (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export const median = (values) => percentile(values, 50);

export function ms(value, digits = 1) {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(digits)} ms`;
}

export function ratio(value, reference) {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return '—';
  return `${(value / reference).toFixed(2)}×`;
}

/** Prints rows (the first is the header) as aligned columns; numbers-looking cells align right. */
export function printTable(rows, indent = '') {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const right = (cell, c) => c > 0 && /^[<>≥~]?\s?[\d.—-]/.test(cell);
  for (const [i, row] of rows.entries()) {
    const line = row.map((cell, c) => {
      const s = String(cell ?? '');
      return i > 0 && right(s, c) ? s.padStart(widths[c]) : s.padEnd(widths[c]);
    });
    console.log(indent + line.join('  ').trimEnd());
  }
}

/** Waits until `cond()` is truthy; throws, saying what was awaited, after `timeoutMs`. */
export async function waitFor(cond, { timeoutMs = 10_000, intervalMs = 5, what = 'a condition' } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resident set size of a process in MB (VmRSS), or NaN when it is gone. */
export function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** How many reads of VmRSS steadyRss takes per process, 300 ms apart. */
export const RSS_SAMPLES = 5;

/** Median RSS (MB) of each pid over RSS_SAMPLES reads 300 ms apart, in the order given. */
export async function steadyRss(pids) {
  const reads = pids.map(() => []);
  for (let i = 0; i < RSS_SAMPLES; i++) {
    for (const [k, p] of pids.entries()) reads[k].push(rssMb(p));
    await sleep(300);
  }
  return reads.map(median);
}

/** CPU time (user + system) a process has used, in ms (Linux; clock ticks of 10 ms). */
export function cpuMs(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

let bootMs;
/** Boot time in ms since the epoch, to 10 ms (from /proc/uptime; /proc/stat's btime is whole seconds). */
function bootTimeMs() {
  bootMs ??= Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  return bootMs;
}

/** The process's start time in ms since the epoch (10 ms resolution), from /proc. */
export function startTimeMs(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
    return bootTimeMs() + ticks * 10;
  } catch {
    return Number.NaN;
  }
}

function readZeroSeparated(file) {
  try {
    return readFileSync(file, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Live descendants of `rootPid` that are botvisor-bot `name` (by `--bot name` or BOTVISOR_BOT=name). */
export function findBotPids(rootPid, name) {
  return descendants(rootPid)
    .filter((p) => !isDeadState(p.state))
    .filter((p) => {
      const argv = readZeroSeparated(`/proc/${p.pid}/cmdline`);
      const i = argv.indexOf('--bot');
      if (i >= 0 && argv[i + 1] === name) return true;
      return readZeroSeparated(`/proc/${p.pid}/environ`).includes(`BOTVISOR_BOT=${name}`);
    })
    .map((p) => p.pid);
}

/**
 * The run's resources: temp dirs and processes. Every process goes through one testkit
 * ProcessTracker (tree cookie + PID refs), so `cleanup()` tree-kills all of them by PID, and
 * anything that escaped the tree (PM2's daemon) by its cookie. Also runs on SIGINT/SIGTERM.
 */
export class Run {
  constructor() {
    this.tracker = new ProcessTracker();
    this.dirs = [];
    this.cleanups = [];
    this.cleaned = undefined;
    const onSignal = (signal) => {
      console.error(`\n${signal}: cleaning up`);
      void this.cleanup().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  tempDir(prefix, base = os.tmpdir()) {
    const dir = mkdtempSync(path.join(base, prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** Runs before processes are killed (e.g. `pm2 kill`), in reverse order of registration. */
  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  cleanup() {
    this.cleaned ??= (async () => {
      for (const fn of this.cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          console.error(`cleanup step failed: ${err?.message ?? err}`);
        }
      }
      await this.tracker.killAll();
      const left = () => descendants(process.pid).filter((p) => !isDeadState(p.state));
      try {
        await waitFor(() => left().length === 0, { timeoutMs: 5000, intervalMs: 50, what: 'no processes left' });
      } catch {
        console.error(`left alive: ${left().map((p) => `${p.pid} (${p.command})`).join(', ')}`);
      }
      for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    })();
    return this.cleaned;
  }
}

/** `BENCH_CPU_PROF_DIR=dir`: every forked contestant writes a V8 CPU profile there when it exits (for profiling, not timing). */
const PROFILE_ARGS = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];

/** Forks a fixture (or bot entry) with an IPC channel and waits for its `{ type: 'ready' }`. */
export async function forkReady(run, modulePath, args, { env = {}, timeoutMs = 20_000, name = path.basename(modulePath) } = {}) {
  const child = run.tracker.fork(modulePath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [...process.execArgv, ...PROFILE_ARGS] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.on('message', (m) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before ready: ${stderr}`));
    });
  });
  child.stderrTail = () => stderr;
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs` (longer when profiling: a killed process writes no profile); resolves once the child has exited. */
export async function stopChild(child, graceMs = PROFILE_ARGS.length > 0 ? 15_000 : 1000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
  if (child.connected) child.disconnect();
}

/**
 * Hooks one token of the in-process simulator: the time (Date.now()) of every getUpdates arrival,
 * the time (performance.now()) of every getUpdates answer that carried updates, and a count of the
 * messages the bot sent, with a waiter for a target count.
 */
export function watchSimBot(sim, token) {
  const state = sim.simulator.bot(token);
  const arrivals = [];
  const deliveries = [];
  let sent = 0;
  let sentWaiter;
  const stats = state.stats;
  const arrived = stats.pollerArrived.bind(stats);
  const messageSent = stats.messageSent.bind(stats);
  const delivered = stats.delivered.bind(stats);
  stats.delivered = (count) => {
    if (count > 0) deliveries.push(performance.now());
    delivered(count);
  };
  stats.pollerArrived = () => {
    arrivals.push(Date.now());
    arrived();
  };
  stats.messageSent = () => {
    sent++;
    if (sentWaiter !== undefined && sent >= sentWaiter.target) {
      const w = sentWaiter;
      sentWaiter = undefined;
      w.resolve(performance.now());
    }
    messageSent();
  };
  return {
    state,
    arrivals,
    get sent() {
      return sent;
    },
    get pendingPollers() {
      return stats.snapshot().pendingPollers;
    },
    /** performance.now() of the first getUpdates answer with updates at or after `t`, if any. */
    firstDeliveryAfter(t) {
      let found;
      for (let i = deliveries.length - 1; i >= 0 && deliveries[i] >= t; i--) found = deliveries[i];
      return found;
    },
    /** Resolves with performance.now() when the bot has sent `target` messages in all; undefined on time-out. */
    waitSent(target, timeoutMs) {
      if (sent >= target) return Promise.resolve(performance.now());
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          sentWaiter = undefined;
          resolve(undefined);
        }, timeoutMs);
        sentWaiter = {
          target,
          resolve: (t) => {
            clearTimeout(timer);
            resolve(t);
          },
        };
      });
    },
  };
}
