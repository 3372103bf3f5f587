/**
 * `botvisor doctor`: checks an installation before (or while) it runs and says what to fix:
 * config valid, token files private, who may run each bot's CLI commands, data and log folders
 * private, stale polling locks, orphans left by a previous run, a webhook set on a polling token
 * (getWebhookInfo), data dir writable, free disk. Exit 1 if any check failed; warnings alone exit 0.
 */
import { readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, makePrivateDirSync, readLockOwner } from '@botvisor/core';
import { instanceLockPath } from '@botvisor/supervisor';
import { type FoundConfig, loadFoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';
import { platformChecks } from './doctor-platform.js';

type Verdict = 'ok' | 'warn' | 'fail';
interface Check {
  verdict: Verdict;
  what: string;
}

const MARK: Record<Verdict, string> = { ok: '✓', warn: '!', fail: '✗' };
const MIN_FREE_BYTES = 500 * 1024 * 1024;

function checkTokens(found: FoundConfig): Check[] {
  const raw = JSON.parse(readFileSync(found.file, 'utf8')) as { bots?: Array<{ name?: string; tokenFile?: string; token?: string }> };
  return (raw.bots ?? []).map((b) => {
    if (b.tokenFile !== undefined) {
      const file = path.resolve(path.dirname(found.file), b.tokenFile);
      const mode = statSync(file).mode & 0o777;
      return { verdict: 'ok' as const, what: `bot ${b.name}: token file ${file} is private (mode ${mode.toString(8).padStart(4, '0')})` };
    }
    if (b.token !== undefined) return { verdict: 'warn' as const, what: `bot ${b.name}: the token is written in the config file; move it to tokenFile (chmod 600) or tokenEnv` };
    return { verdict: 'ok' as const, what: `bot ${b.name}: token from the environment` };
  });
}

/** Commands run programs on this machine: who may start them. (A bot with commands and no allow list is a config error.) */
function checkAccess(found: FoundConfig): Check[] {
  return found.config.bots
    .filter((b) => b.enabled && Object.keys(b.commands).length > 0)
    .map((b) =>
      b.allow === undefined
        ? { verdict: 'warn' as const, what: `bot ${b.name}: anyone on Telegram may run its CLI commands ("allow": "anyone"); list user ids in bots[${b.index}].allow to restrict them` }
        : { verdict: 'ok' as const, what: `bot ${b.name}: its CLI commands are allowed to ${b.allow.length} user(s)` },
    );
}

/** Folders created by an older version (or by hand) may still be readable by others. */
function checkFolderModes(found: FoundConfig): Check[] {
  return [found.config.dataDir, found.config.logDir].map((dir) => {
    const mode = statSync(dir).mode & 0o777;
    const octal = mode.toString(8).padStart(4, '0');
    return (mode & 0o077) === 0
      ? { verdict: 'ok' as const, what: `${dir} is private (mode ${octal})` }
      : { verdict: 'warn' as const, what: `${dir} is open to other users (mode ${octal}); it holds users' arguments, messages and logs: run chmod -R go-rwx ${dir}` };
  });
}

function checkLocksAndOrphans(found: FoundConfig): Check[] {
  const checks: Check[] = [];
  const dataDir = found.config.dataDir;
  const supervisor = readLockOwner(instanceLockPath(dataDir));
  const running = supervisor !== undefined && isAlive(supervisor);
  checks.push({ verdict: 'ok', what: running ? `a supervisor is running (pid ${supervisor.pid}, since ${supervisor.since})` : 'no supervisor is running for this data dir' });
  let lockFiles: string[] = [];
  try {
    lockFiles = readdirSync(path.join(dataDir, 'locks')).filter((f) => f.endsWith('.lock'));
  } catch {
    // no locks yet
  }
  for (const f of lockFiles) {
    const owner = readLockOwner(path.join(dataDir, 'locks', f));
    if (owner === undefined) checks.push({ verdict: 'warn', what: `polling lock ${f} has no owner record; botvisor start removes it if it is abandoned` });
    else if (!isAlive(owner)) checks.push({ verdict: 'warn', what: `stale polling lock ${f}: its owner (${owner.role} pid ${owner.pid}) is dead; botvisor start removes it` });
    else checks.push({ verdict: 'ok', what: `polling lock ${f} held by ${owner.role} pid ${owner.pid}` });
  }
  if (!running) {
    try {
      const registry = JSON.parse(readFileSync(path.join(dataDir, 'supervisor', 'registry.json'), 'utf8')) as { bots?: Record<string, { process: { pid: number; startTime: number; command: string } | null; children: Array<{ pid: number; startTime: number; command: string }> }> };
      const orphans = Object.values(registry.bots ?? {}).flatMap((b) => [b.process, ...b.children]).filter((p): p is { pid: number; startTime: number; command: string } => p !== null && isAlive(p));
      checks.push(
        orphans.length === 0
          ? { verdict: 'ok', what: 'no orphans of a previous run' }
          : { verdict: 'warn', what: `orphans of a previous run still alive: ${orphans.map((o) => `${o.command}(${o.pid})`).join(', ')}; botvisor start kills them` },
      );
    } catch {
      checks.push({ verdict: 'ok', what: 'no registry of a previous run' });
    }
  }
  return checks;
}

async function checkWebhooks(found: FoundConfig): Promise<Check[]> {
  const checks: Check[] = [];
  for (const bot of found.config.bots.filter((b) => b.enabled && b.polling)) {
    try {
      const res = await fetch(`${found.config.apiRoot}/bot${bot.token}/getWebhookInfo`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { ok: boolean; result?: { url?: string }; description?: string };
      if (!body.ok) checks.push({ verdict: 'fail', what: `bot ${bot.name}: getWebhookInfo failed: ${body.description ?? res.status}; check the token` });
      else if (body.result?.url) checks.push({ verdict: 'warn', what: `bot ${bot.name}: a webhook is set (${body.result.url}); getUpdates answers 409 while it is — the bot deletes it at start` });
      else checks.push({ verdict: 'ok', what: `bot ${bot.name}: no webhook set` });
    } catch (err) {
      checks.push({ verdict: 'warn', what: `bot ${bot.name}: could not reach the Bot API at ${found.config.apiRoot} (${(err as Error).message})` });
    }
  }
  return checks;
}

function checkDisk(found: FoundConfig): Check[] {
  const checks: Check[] = [];
  for (const dir of [found.config.dataDir, found.config.logDir]) {
    const probe = path.join(dir, `.doctor-${process.pid}`);
    try {
      writeFileSync(probe, 'ok', { flag: 'wx' });
      rmSync(probe);
      checks.push({ verdict: 'ok', what: `${dir} is writable` });
    } catch (err) {
      checks.push({ verdict: 'fail', what: `${dir} is not writable (${(err as NodeJS.ErrnoException).code}); create it or fix its owner and mode` });
    }
  }
  const fs = statfsSync(found.config.dataDir);
  const free = fs.bavail * fs.bsize;
  const mb = Math.round(free / 1024 / 1024);
  checks.push(free < MIN_FREE_BYTES ? { verdict: 'fail', what: `only ${mb} MB free on the data dir's disk; state files and logs need room` } : { verdict: 'ok', what: `${mb} MB free on the data dir's disk` });
  return checks;
}

export async function doctorCommand(explicitConfig: string | undefined, out: (s: string) => void): Promise<number> {
  let found: FoundConfig;
  try {
    found = loadFoundConfig(explicitConfig);
  } catch (err) {
    if (err instanceof CliError) {
      out(`${MARK.fail} config: ${err.message}`);
      return EXIT.failed;
    }
    throw err;
  }
  makePrivateDirSync(found.config.dataDir);
  makePrivateDirSync(found.config.logDir);
  const checks: Check[] = [
    { verdict: 'ok', what: `config ${found.file} is valid (${found.config.bots.length} bots)` },
    ...checkTokens(found),
    ...checkAccess(found),
    ...checkFolderModes(found),
    ...checkLocksAndOrphans(found),
    ...(await checkWebhooks(found)),
    ...checkDisk(found),
    ...platformChecks(found),
  ];
  for (const c of checks) out(`${MARK[c.verdict]} ${c.what}`);
  const failed = checks.filter((c) => c.verdict === 'fail').length;
  out(failed === 0 ? 'no problems found' : `${failed} problem(s) found`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}
