/**
 * `botvisor describe <bot> [--json]`: everything about one bot in one place, like `pm2 describe` —
 * its module and config (kind, polling, enabled, token source, commands), its log files, its state
 * now and its recent state changes with their reasons, restarts, the last exit and the tail of
 * what it printed (its output log: stderr is where a crash says why), its polling lock's holder,
 * its running jobs and their processes, and its problem. The runtime part comes from the
 * supervisor (`describe` on the control socket); the config and the logs are read here.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ControlBot, ControlConfig } from '@botvisor/core';
import { type BotDescription, botOutputLogName, describeExit } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { controlCall, requireBot } from '../control-call.js';
import { EXIT } from '../exit-codes.js';
import { duration } from '../format/human.js';

/** How many of the bot's last output lines `describe` shows. */
export const OUTPUT_TAIL_LINES = 15;

export interface OutputLine {
  at: string;
  stream: string;
  line: string;
}

/** `describe --json`: the supervisor's description plus the config and the log files. */
export interface DescribeReport extends BotDescription {
  config: {
    kind: ControlBot['kind'];
    module: string | null;
    enabled: boolean;
    /** Whether this bot polls its token (the supervisor's decision: the first enabled bot, or `"polling": true`). */
    polling: boolean;
    /** Where its token comes from: `tokenEnv NAME`, `tokenFile PATH` or `token (in the config file)`; never the token. */
    token: string;
    commands: Record<string, { argv: string[] }>;
    sessions: string[];
    allow: number[] | 'anyone';
  };
  logs: { log: string; output: string };
  /** The last lines of the output log (stdout and stderr), oldest first. */
  outputTail: OutputLine[];
}

function tokenSource(bot: ControlBot): string {
  if (bot.tokenSource.tokenEnv !== undefined) return `tokenEnv ${bot.tokenSource.tokenEnv}`;
  if (bot.tokenSource.tokenFile !== undefined) return `tokenFile ${bot.tokenSource.tokenFile}`;
  return 'token (in the config file)';
}

/** The last `n` lines of a bot's output log, parsed; a line that is not JSON is kept as it is. */
export function outputTail(file: string, n: number): OutputLine[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').slice(-n);
  return lines.map((l) => {
    try {
      const rec = JSON.parse(l) as { ts?: unknown; stream?: unknown; msg?: unknown };
      return { at: String(rec.ts ?? ''), stream: String(rec.stream ?? ''), line: String(rec.msg ?? '') };
    } catch {
      return { at: '', stream: '', line: l };
    }
  });
}

export async function describeReport(found: FoundConfig<ControlConfig>, name: string): Promise<DescribeReport> {
  requireBot(found, name);
  const d = await controlCall<BotDescription>(found, { cmd: 'describe', bot: name }, 10_000);
  const bot = found.config.bots.find((b) => b.name === name) as ControlBot;
  const logs = { log: path.join(found.config.logDir, `${name}.log`), output: path.join(found.config.logDir, `${botOutputLogName(name)}.log`) };
  return {
    ...d,
    config: {
      kind: bot.kind,
      module: bot.module ?? null,
      enabled: bot.enabled,
      polling: d.bot.polling,
      token: tokenSource(bot),
      commands: Object.fromEntries(Object.entries(bot.commands).map(([c, spec]) => [c, { argv: spec.argv }])),
      sessions: Object.keys(bot.sessions),
      allow: bot.allow ?? 'anyone',
    },
    logs,
    outputTail: outputTail(logs.output, OUTPUT_TAIL_LINES),
  };
}

export function renderDescription(r: DescribeReport): string {
  const b = r.bot;
  const c = r.config;
  const state = `${b.state}${b.stoppedByPerson ? ` (stopped by a person; start it with: botvisor start ${b.name})` : ''}`;
  const rows: Array<[string, string]> = [
    ['state', state],
    ['pid', b.pid === null ? '-' : String(b.pid)],
    ['uptime', duration(b.uptimeMs)],
    ['restarts', String(b.restarts)],
    ['problem', b.problem ?? 'none'],
    ['module', c.module ?? `built-in ${c.kind}`],
    ['config', `kind ${c.kind}, ${c.enabled ? 'enabled' : 'disabled'}, ${c.polling ? 'polls its token' : 'send-only'}, ${c.token}, allow ${c.allow === 'anyone' ? 'anyone' : c.allow.join(' ')}`],
    ['commands', Object.keys(c.commands).length === 0 ? 'none' : Object.entries(c.commands).map(([n, s]) => `/${n} → ${s.argv.join(' ')}`).join('; ')],
    ...(c.sessions.length > 0 ? [['sessions', c.sessions.join(', ')] as [string, string]] : []),
    ['log', r.logs.log],
    ['output log', r.logs.output],
    ['last exit', b.lastExit === null ? 'none' : `${describeExit(b.lastExit)} (${b.lastExit.cause}) at ${b.lastExit.at}`],
    [
      'lock',
      r.lock === null
        ? 'none (send-only: it never polls)'
        : `token ${r.lock.tokenHash} ${r.lock.state}, held by ${r.lock.owner === null ? 'nobody' : `${r.lock.owner.role} pid ${r.lock.owner.pid} since ${r.lock.owner.since}${r.lock.owner.config !== undefined ? ` (config ${r.lock.owner.config})` : ''}`}; ${r.lock.path}`,
    ],
    ['jobs', `${b.runningJobs === null ? '-' : b.runningJobs} running${b.children.length > 0 ? `; processes: ${b.children.map((p) => `${p.command}(${p.pid})`).join(', ')}` : ''}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`bot ${b.name}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  lines.push('', 'state history (oldest first):');
  for (const h of r.history) lines.push(`  ${h.at}  ${h.from} → ${h.to}  ${h.reason}`);
  lines.push('', `output (last ${r.outputTail.length === 1 ? 'line' : `${r.outputTail.length} lines`} of ${r.logs.output}):`);
  if (r.outputTail.length === 0) lines.push('  (nothing printed)');
  for (const o of r.outputTail) lines.push(`  ${o.at} ${o.stream.padEnd(6)} ${o.line}`);
  return lines.join('\n');
}

export async function describeCommand(found: FoundConfig<ControlConfig>, name: string, json: boolean, out: (s: string) => void): Promise<number> {
  const r = await describeReport(found, name);
  out(json ? JSON.stringify(r, null, 2) : renderDescription(r));
  return EXIT.ok;
}
