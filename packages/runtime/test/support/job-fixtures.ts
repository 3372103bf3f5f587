/**
 * The job-running test fixtures: the job bot's module path, the test CLI tools, and a `commands`
 * config block that exposes them as chat commands (node tools run with `process.execPath`).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findByCookie } from '@botvisor/core';

export const JOB_BOT = fileURLToPath(new URL('../fixtures/job-bot.js', import.meta.url));
export const JOB_TOOLS = fileURLToPath(new URL('../fixtures/jobs/', import.meta.url));

export function tool(name: string): string {
  return path.join(JOB_TOOLS, `${name}.js`);
}

/** The commands block of a config for the job bot. */
export function jobCommands(): Record<string, unknown> {
  const node = process.execPath;
  return {
    flood: { argv: [node, tool('flood'), '{mb}', '{hold}'], args: { mb: '^[0-9]{1,4}$', hold: '^[0-9]{1,5}$' }, timeoutSec: 120 },
    stubborn: { argv: [node, tool('stubborn')], timeoutSec: 120 },
    lines: { argv: [node, tool('lines'), '{count}', '{every}'], args: { count: '^[0-9]{1,7}$', every: '^[0-9]{1,5}$' }, timeoutSec: 120 },
    sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,3}$' }, timeoutSec: 120 },
    fail: { argv: [node, tool('fail')] },
    args: { argv: [node, tool('print-args'), '{text}'], args: { text: '^[\\s\\S]{1,300}$' } },
  };
}

/** Processes carrying `cookie` other than `except` (the bot itself). */
export function cookieProcesses(cookie: string, except: number[]): number[] {
  return findByCookie(cookie)
    .filter((p) => !except.includes(p.pid) && p.state !== 'Z')
    .map((p) => p.pid);
}

/** Files in a folder (empty when it does not exist). */
export function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The bot's peak resident memory (VmHWM), in bytes; Linux only. */
export async function peakRss(pid: number): Promise<number | undefined> {
  const { readFileSync } = await import('node:fs');
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
