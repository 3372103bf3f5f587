/**
 * `botvisor logs [bot] [-f] [-n N]`: the JSON log lines of a bot (or the supervisor) as readable
 * lines — time, level, message, the interesting fields — optionally following the files as they
 * grow and across rotation (the `<name>.log` symlink moves to the new file). A bot's lines are
 * those of its runtime (`<bot>.log`) and of its stdout and stderr (`<bot>.output.log`, written by
 * the supervisor), merged by time: what a bot printed before its logger existed is there too.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ControlConfig } from '@botvisor/core';
import { botOutputLogName } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';

const HIDDEN = new Set(['ts', 'level', 'msg', 'proc', 'pid']);

export function prettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const extra = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const time = String(rec.ts ?? '').replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return `${time} ${String(rec.level ?? '').toUpperCase().padEnd(7)} ${String(rec.proc ?? '')}: ${String(rec.msg ?? '')}${extra === '' ? '' : `  ${extra}`}`;
}

/** The time of a JSON log line, for merging two files; '' for a line that is not one. */
function timeOf(line: string): string {
  try {
    return String((JSON.parse(line) as { ts?: unknown }).ts ?? '');
  } catch {
    return '';
  }
}

/** One log file followed as it grows, across rotation. */
class FollowedFile {
  private current: string | undefined;
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {
    if (existsSync(file)) {
      this.current = realpathSync(file);
      this.offset = statSync(this.current).size;
    }
  }

  /** The complete lines written since the last call. */
  read(): string[] {
    const now = existsSync(this.file) ? realpathSync(this.file) : this.current;
    if (now === undefined) return [];
    if (now !== this.current) {
      this.current = now; // rotated (or created): read the new file from its start
      this.offset = 0;
    }
    const size = statSync(now).size;
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return [];
    const fd = openSync(now, 'r');
    const buf = Buffer.alloc(size - this.offset);
    readSync(fd, buf, 0, buf.length, this.offset);
    closeSync(fd);
    this.offset = size;
    const parts = (this.partial + buf.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    return parts.filter((l) => l !== '');
  }
}

export async function logsCommand(found: FoundConfig<ControlConfig>, bot: string | undefined, lines: number, follow: boolean, out: (s: string) => void): Promise<number> {
  if (bot !== undefined && !found.config.bots.some((b) => b.name === bot)) throw new CliError(`no bot named "${bot}" in ${found.file}; bots: ${found.config.bots.map((b) => b.name).join(', ')}`, EXIT.usage);
  const files = (bot === undefined ? ['supervisor'] : [bot, botOutputLogName(bot)]).map((name) => path.join(found.config.logDir, `${name}.log`));
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) throw new CliError(`no log yet at ${files.join(' or ')}`, EXIT.failed);
  const all = present.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== ''));
  if (present.length > 1) all.sort((a, b) => timeOf(a).localeCompare(timeOf(b))); // stable: a file's own order is kept
  for (const l of all.slice(-lines)) out(prettyLine(l));
  if (!follow) return EXIT.ok;

  const followed = files.map((f) => new FollowedFile(f));
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    for (const l of followed.flatMap((f) => f.read()).sort((a, b) => timeOf(a).localeCompare(timeOf(b)))) out(prettyLine(l));
  }
}
