/**
 * Reads the process table: one snapshot of every process with its parent, group, state and
 * start time. The only module that parses `/proc` (Linux) or `ps` (macOS).
 *
 * Start times are milliseconds since the epoch, derived on Linux from `/proc/<pid>/stat`
 * field 22 (clock ticks since boot) plus the boot time; they are stable for the life of a
 * process, so `(pid, startTime)` names one process and never a later one that reuses the PID.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readProcFile } from './proc-file.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** One-letter kernel state: R, S, D, Z (zombie), T, X (dead), … */
  state: string;
  /** Milliseconds since the epoch; equal for the same process on every read. */
  startTime: number;
  /** Short command name (`comm`). */
  command: string;
}

let bootTimeMs: number | undefined;
let clockTicks: number | undefined;

function linuxBootTimeMs(): number {
  if (bootTimeMs === undefined) {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('btime '));
    if (line === undefined) throw new Error('cannot read boot time: /proc/stat has no btime line');
    bootTimeMs = Number(line.slice(6).trim()) * 1000;
  }
  return bootTimeMs;
}

function linuxClockTicks(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100; // the value on every mainstream Linux build
    }
  }
  return clockTicks;
}

/** Parses one `/proc/<pid>/stat` line. `comm` may hold spaces and parentheses, so fields are counted after the last `)`. */
export function parseProcStat(pid: number, text: string): ProcessInfo | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const startTicks = Number(rest[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return {
    pid,
    ppid,
    pgid,
    state,
    startTime: linuxBootTimeMs() + Math.round((startTicks * 1000) / linuxClockTicks()),
    command: text.slice(open + 1, close),
  };
}

function readLinux(pid: number): ProcessInfo | undefined {
  try {
    return parseProcStat(pid, readProcFile(`/proc/${pid}/stat`).toString('utf8'));
  } catch {
    return undefined; // exited between readdir and read, or not ours to read
  }
}

function snapshotLinux(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const info = readLinux(pid);
    if (info !== undefined) out.push(info);
  }
  return out;
}

/** macOS: one `ps` call. `lstart` has one-second resolution, which is enough to tell a reused PID apart. */
function snapshotPs(pids?: number[]): ProcessInfo[] {
  const args = ['-o', 'pid=,ppid=,pgid=,state=,lstart=,comm='];
  if (pids === undefined) args.unshift('-A');
  else args.unshift('-p', pids.join(','));
  let text: string;
  try {
    text = execFileSync('ps', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return [];
  }
  const out: ProcessInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\w{3}\s+\w{3}\s+\d+\s+[\d:]+\s+\d{4})\s+(.*)$/.exec(line);
    if (m === null) continue;
    out.push({
      pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]),
      state: (m[4] ?? '?').charAt(0), startTime: Date.parse(m[5] ?? ''), command: m[6] ?? '',
    });
  }
  return out;
}

/** Every process visible to this user, read once. */
export function snapshotProcesses(): ProcessInfo[] {
  return process.platform === 'linux' ? snapshotLinux() : snapshotPs();
}

/** One process, or undefined if there is no process with that PID. */
export function readProcess(pid: number): ProcessInfo | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return process.platform === 'linux' ? readLinux(pid) : snapshotPs([pid])[0];
}
