/**
 * `botvisor status [--json]`: the fleet at a glance, like `pm2 ls` — name, state, pid, uptime,
 * restarts, CPU and memory of each bot's whole tree, running jobs, polling, last exit — then each
 * bot's problem, the sentence that says why it cannot do its job, and the polling locks. `--json` prints the StatusReport contract. Not running → exit 3, said plainly.
 */

import type { ControlConfig } from '@botvisor/core';
import { controlRequest, controlSocketPath, NotRunningError, type StatusReport } from '@botvisor/supervisor';
import { configDrift } from '../config-drift.js';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';
import { bytes, duration, table } from '../format/human.js';

export async function fetchStatus(found: FoundConfig<ControlConfig>): Promise<StatusReport> {
  try {
    return await controlRequest<StatusReport>(controlSocketPath(found.config.dataDir), { cmd: 'status' }, 10_000);
  } catch (err) {
    if (err instanceof NotRunningError) throw new CliError(`botvisor is not running for ${found.config.dataDir} (config ${found.file}); start it with: botvisor start -c ${found.file}`, EXIT.notRunning);
    throw err;
  }
}

function lastExit(e: StatusReport['bots'][number]['lastExit']): string {
  if (e === null) return '-';
  if (e.cause === 'hung' || e.cause === 'start-timeout') return e.cause;
  return e.signal ?? `code ${e.code}`;
}

export function renderStatus(s: StatusReport): string {
  const rows = [['name', 'state', 'pid', 'uptime', 'restarts', 'cpu', 'memory', 'jobs', 'polling', 'last exit']];
  for (const b of s.bots) {
    // A bot with no process has no cpu or memory to show (not 0%, not 0b).
    const running = b.pid !== null;
    rows.push([b.name, b.state, running ? String(b.pid) : '-', duration(b.uptimeMs), String(b.restarts), running ? `${b.cpu}%` : '-', running ? bytes(b.memoryBytes) : '-', b.runningJobs === null ? '-' : String(b.runningJobs), b.polling ? 'yes' : 'no', lastExit(b.lastExit)]);
  }
  const lines = [`supervisor pid ${s.supervisor.pid}, up ${duration(s.supervisor.uptimeMs)}, data ${s.supervisor.dataDir}${s.supervisor.httpUrl !== null ? `, http ${s.supervisor.httpUrl}` : ''}`, '', table(rows)];
  const held = s.bots.filter((b) => b.stoppedByPerson);
  if (held.length > 0) lines.push('', 'stopped by a person (they stay stopped):', ...held.map((b) => `  ${b.name}: start it with: botvisor start ${b.name}`));
  const troubled = s.bots.filter((b) => b.problem !== null);
  if (troubled.length > 0) {
    lines.push('', 'problems:');
    for (const b of troubled) lines.push(`  ${b.name}: ${b.problem}`);
  }
  const withChildren = s.bots.filter((b) => b.children.length > 0);
  if (withChildren.length > 0) {
    lines.push('', 'children:');
    for (const b of withChildren) lines.push(`  ${b.name}: ${b.children.map((c) => `${c.command}(${c.pid})`).join(', ')}`);
  }
  lines.push('', 'polling locks:');
  if (s.supervisor.locks.length === 0) lines.push('  (none)');
  for (const l of s.supervisor.locks) {
    lines.push(`  token ${l.tokenHash} → bot ${l.bot}, held by ${l.owner === null ? 'nobody' : `${l.owner.role} pid ${l.owner.pid} since ${l.owner.since}`}`);
    const c = l.cluster;
    if (c !== null) {
      const expires = c.leaseExpiresInMs === null ? '' : `, lease ends in ${(c.leaseExpiresInMs / 1000).toFixed(1)} s unless renewed`;
      lines.push(`    cluster: node ${c.node} is ${c.role}${c.role === 'standby' ? ` (active: ${c.holder ?? 'nobody'})` : ''}, epoch ${c.epoch ?? '?'}${expires}${c.error !== null ? `; ${c.error}` : ''}`);
    }
  }
  return lines.join('\n');
}

export async function statusCommand(found: FoundConfig<ControlConfig>, json: boolean, out: (s: string) => void): Promise<number> {
  const s = await fetchStatus(found);
  out(json ? JSON.stringify(s, null, 2) : renderStatus(s));
  const drift = json ? undefined : configDrift(found, s);
  if (drift !== undefined) out(`\nwarning: ${drift}`);
  return EXIT.ok;
}
