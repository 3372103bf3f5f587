/**
 * The last lines of a bot's log (`<logDir>/<bot>.log`, the symlink to the live rotated file),
 * read from the end of the file so a large log costs no more than a small one. Each JSON record
 * becomes `{ ts, level, msg, detail }`, its other fields as `key=value` pairs the way
 * `botvisor logs` prints them (a readable line, not a JSON blob); everything passes through `redact()` again, although the
 * logger already redacted it, because this text leaves the machine's files for a browser.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { redact } from '@botvisor/core';
import type { LogLine, LogTail } from './dashboard-types.js';

/** How far back from the end to look: enough for the longest tail asked for with typical lines. */
const WINDOW_BYTES = 256 * 1024;
const MAX_LINE_CHARS = 2000;
const LEFT_OUT = new Set(['ts', 'level', 'msg', 'proc', 'pid', 'bot']);

export async function readLogTail(logDir: string, bot: string, lines: number): Promise<LogTail> {
  const file = path.join(logDir, `${bot}.log`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { bot, exists: false, lines: [] };
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - WINDOW_BYTES);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const raw = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    if (start > 0) raw.shift(); // the first line was cut by the window
    const picked = raw.filter((l) => l.trim() !== '').slice(-lines);
    return { bot, exists: true, lines: picked.map(parseLine) };
  } finally {
    await handle.close();
  }
}

export function parseLine(line: string): LogLine {
  const text = redact(line);
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return { ts: null, level: null, msg: clip(text), detail: null };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { ts: null, level: null, msg: clip(text), detail: null };
  const r = record as Record<string, unknown>;
  const rest = Object.fromEntries(Object.entries(r).filter(([k]) => !LEFT_OUT.has(k)));
  return {
    ts: typeof r.ts === 'string' ? r.ts : null,
    level: typeof r.level === 'string' ? r.level : null,
    msg: clip(typeof r.msg === 'string' ? r.msg : ''),
    detail: Object.keys(rest).length > 0 ? clip(pairs(rest)) : null,
  };
}

/** `key=value key2=value2`: strings as they are, anything else as compact JSON. */
function pairs(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** A stack trace or a big payload must not blow up the page. */
function clip(text: string): string {
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text;
}
