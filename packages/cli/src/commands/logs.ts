/**
 * `botvisor logs [bot] [-f] [-n N]`: the JSON log lines of a bot (or the supervisor) as readable
 * lines — time, level, message, the interesting fields — optionally following the file as it
 * grows and across rotation (the `<name>.log` symlink moves to the new file).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ControlConfig } from '@botvisor/core';
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

export async function logsCommand(found: FoundConfig<ControlConfig>, bot: string | undefined, lines: number, follow: boolean, out: (s: string) => void): Promise<number> {
  const name = bot ?? 'supervisor';
  if (bot !== undefined && !found.config.bots.some((b) => b.name === bot)) throw new CliError(`no bot named "${bot}" in ${found.file}; bots: ${found.config.bots.map((b) => b.name).join(', ')}`, EXIT.usage);
  const file = path.join(found.config.logDir, `${name}.log`);
  if (!existsSync(file)) throw new CliError(`no log yet at ${file}`, EXIT.failed);
  const all = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  for (const l of all.slice(-lines)) out(prettyLine(l));
  if (!follow) return EXIT.ok;

  let current = realpathSync(file);
  let offset = statSync(current).size;
  let partial = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = existsSync(file) ? realpathSync(file) : current;
    if (now !== current) {
      current = now; // rotated: read the new file from its start
      offset = 0;
    }
    const size = statSync(current).size;
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const fd = openSync(current, 'r');
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    closeSync(fd);
    offset = size;
    const text = partial + buf.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) if (l !== '') out(prettyLine(l));
  }
}
