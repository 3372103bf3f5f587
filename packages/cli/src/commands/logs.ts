/**
 * `botvisor logs [bot] [--bot NAME…] [-f] [-n N]`: the JSON log lines of the installation as
 * readable lines — time, level, process, message, the interesting fields — merged by time,
 * optionally following the files as they grow and across rotation (the `<name>.log` symlink moves
 * to the new file). With no bot: the supervisor and every bot. With bots: each one's runtime log
 * (`<bot>.log`), its stdout and stderr (`<bot>.output.log`, written by the supervisor: what a bot
 * printed before its logger existed is there too) and the supervisor's lines about it.
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

/** Which lines `logs` shows: every bot's and the supervisor's, or those of the named bots. */
export interface LogSelection {
  /** The bots to show (their runtime log, their output, the supervisor's lines about them); empty = everything. */
  bots: string[];
}

/** A line with what merging and filtering need, parsed once. */
interface Parsed {
  line: string;
  ts: string;
  bot: string;
}

function parse(line: string): Parsed {
  try {
    const rec = JSON.parse(line) as { ts?: unknown; bot?: unknown };
    return { line, ts: String(rec.ts ?? ''), bot: String(rec.bot ?? '') };
  } catch {
    return { line, ts: '', bot: '' };
  }
}

/** The files a selection reads and the filter on the supervisor's lines (which are about many bots). */
function sources(found: FoundConfig<ControlConfig>, sel: LogSelection): { files: string[]; keep: (file: string, line: Parsed) => boolean } {
  const names = sel.bots.length > 0 ? sel.bots : found.config.bots.map((b) => b.name);
  const file = (name: string): string => path.join(found.config.logDir, `${name}.log`);
  const supervisorLog = file('supervisor');
  const files = [supervisorLog, ...names.flatMap((n) => [file(n), file(botOutputLogName(n))])];
  if (sel.bots.length === 0) return { files, keep: () => true };
  const wanted = new Set(sel.bots);
  // From the supervisor's log, only its lines about these bots (their state changes, crashes, problems).
  return { files, keep: (f, line) => f !== supervisorLog || wanted.has(line.bot) };
}

/** The lines of `file` that `keep` keeps, parsed. */
function linesOf(file: string, text: string[], keep: (file: string, line: Parsed) => boolean): Parsed[] {
  return text.filter((l) => l !== '').map(parse).filter((p) => keep(file, p));
}

const byTime = (a: Parsed, b: Parsed): number => a.ts.localeCompare(b.ts);

export async function logsCommand(found: FoundConfig<ControlConfig>, sel: LogSelection, lines: number, follow: boolean, out: (s: string) => void): Promise<number> {
  for (const bot of sel.bots) {
    if (!found.config.bots.some((b) => b.name === bot)) throw new CliError(`no bot named "${bot}" in ${found.file}; bots: ${found.config.bots.map((b) => b.name).join(', ')}`, EXIT.usage);
  }
  const { files, keep } = sources(found, sel);
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) throw new CliError(`no log yet in ${found.config.logDir} (looked for ${files.map((f) => path.basename(f)).join(', ')})`, EXIT.failed);
  // Merged by time; the sort is stable, so each file's own order is kept.
  const all = present.flatMap((f) => linesOf(f, readFileSync(f, 'utf8').split('\n'), keep));
  all.sort(byTime);
  for (const p of all.slice(-lines)) out(prettyLine(p.line));
  if (!follow) return EXIT.ok;

  const followed = files.map((f) => ({ file: f, tail: new FollowedFile(f) }));
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    for (const p of followed.flatMap(({ file, tail }) => linesOf(file, tail.read(), keep)).sort(byTime)) out(prettyLine(p.line));
  }
}
