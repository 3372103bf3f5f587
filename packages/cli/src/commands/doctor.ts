/**
 * `botvisor doctor`: checks an installation before (or while) it runs and says what to fix:
 * config valid, token files private, who may run each bot's CLI commands, data and log folders
 * private, stale polling locks, orphans left by a previous run, a webhook set on a polling token
 * (getWebhookInfo), data dir writable, free disk, in cluster mode PostgreSQL reachable and the
 * clocks sane, and — while a supervisor runs — each bot's
 * problem as the supervisor reports it. Exit 1 if any check failed; warnings alone exit 0. A token
 * it cannot read here (its environment variable is not set in this shell) is "not checked", never
 * a failure: only the supervisor needs it.
 */
import { readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assignPollers, type ControlConfig, describeLockOwner, isAlive, makePrivateDirSync, pollingLockPath, type ResolvedBot, readLockOwner, resolveToken, tokenHash } from '@botvisor/core';
import { controlRequest, controlSocketPath, instanceLockPath, type StatusReport } from '@botvisor/supervisor';
import { type FoundConfig, loadFoundControlConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';
import { checkCluster } from './doctor-cluster.js';
import { platformChecks } from './doctor-platform.js';

type Verdict = 'ok' | 'warn' | 'fail' | 'unchecked';
interface Check {
  verdict: Verdict;
  what: string;
}

const MARK: Record<Verdict, string> = { ok: '✓', warn: '!', fail: '✗', unchecked: '?' };
const MIN_FREE_BYTES = 500 * 1024 * 1024;

/** Each bot's token where this shell can read it; the bots whose token could be read come back resolved, for the webhook check. */
function checkTokens(found: FoundConfig<ControlConfig>, env: NodeJS.ProcessEnv): { checks: Check[]; resolved: ResolvedBot[] } {
  const checks: Check[] = [];
  const resolved: ResolvedBot[] = [];
  for (const b of found.config.bots) {
    const { tokenEnv, tokenFile, token } = b.tokenSource;
    if (tokenEnv !== undefined && (env[tokenEnv] ?? '').trim() === '') {
      checks.push({ verdict: 'unchecked', what: `bot ${b.name}: token not checked: $${tokenEnv} is not set in this shell (only the supervisor needs it)` });
      continue;
    }
    const result = resolveToken(b.tokenSource, `bots[${b.index}]`, found.config.baseDir, env);
    if ('issue' in result) {
      checks.push({ verdict: 'fail', what: `bot ${b.name}: ${result.issue.path}: ${result.issue.message}` });
      continue;
    }
    resolved.push({ ...b, token: result.token, tokenHash: tokenHash(result.token), polling: false });
    if (tokenFile !== undefined) checks.push({ verdict: 'ok', what: `bot ${b.name}: token file ${tokenFile} is private (mode ${(statSync(tokenFile).mode & 0o777).toString(8).padStart(4, '0')})` });
    else if (token !== undefined) checks.push({ verdict: 'warn', what: `bot ${b.name}: the token is written in the config file; move it to tokenFile (chmod 600) or tokenEnv` });
    else checks.push({ verdict: 'ok', what: `bot ${b.name}: token from $${tokenEnv}` });
  }
  assignPollers(resolved, []);
  return { checks, resolved };
}

/** Commands run programs on this machine: who may start them. (A bot with commands and no allow list is a config error.) */
function checkAccess(found: FoundConfig<ControlConfig>): Check[] {
  return found.config.bots
    .filter((b) => b.enabled && Object.keys(b.commands).length > 0)
    .map((b) =>
      b.allow === undefined
        ? { verdict: 'warn' as const, what: `bot ${b.name}: anyone on Telegram may run its CLI commands ("allow": "anyone"); list user ids in bots[${b.index}].allow to restrict them` }
        : { verdict: 'ok' as const, what: `bot ${b.name}: its CLI commands are allowed to ${b.allow.length} user(s)` },
    );
}

/** Folders created by an older version (or by hand) may still be readable by others. */
function checkFolderModes(found: FoundConfig<ControlConfig>): Check[] {
  return [found.config.dataDir, found.config.logDir].map((dir) => {
    const mode = statSync(dir).mode & 0o777;
    const octal = mode.toString(8).padStart(4, '0');
    return (mode & 0o077) === 0
      ? { verdict: 'ok' as const, what: `${dir} is private (mode ${octal})` }
      : { verdict: 'warn' as const, what: `${dir} is open to other users (mode ${octal}); it holds users' arguments, messages and logs: run chmod -R go-rwx ${dir}` };
  });
}

/**
 * The polling lock of each polled token, in the machine-wide lock folder that every installation
 * of this user shares: free, ours, stale, or held by another installation (whose bot polls while
 * ours waits).
 */
function checkPollingLocks(found: FoundConfig<ControlConfig>, resolved: ResolvedBot[]): Check[] {
  const { locksDir } = found.config;
  const ourConfig = path.resolve(found.file);
  // A lock is named by its token's hash: a token this shell cannot read was reported "not checked" already.
  return resolved
    .filter((b) => b.enabled && b.polling)
    .map((bot): Check => {
      const lock = pollingLockPath(locksDir, bot.token);
      const owner = readLockOwner(lock);
      let present = true;
      try {
        statSync(lock);
      } catch {
        present = false;
      }
      if (!present) return { verdict: 'ok', what: `bot ${bot.name}: polling lock free (${lock})` };
      if (owner === undefined) return { verdict: 'warn', what: `bot ${bot.name}: polling lock ${lock} has no owner record; botvisor start removes it if it is abandoned` };
      if (!isAlive(owner)) return { verdict: 'warn', what: `bot ${bot.name}: stale polling lock ${lock}: its owner (${owner.role} pid ${owner.pid}) is dead; botvisor start removes it` };
      if (owner.config !== undefined && owner.config !== ourConfig) {
        return {
          verdict: 'warn',
          what: `bot ${bot.name}: polling lock for this token is held by ${describeLockOwner(owner)}, another installation: this one's bot waits until that one stops; give each installation its own token`,
        };
      }
      return { verdict: 'ok', what: `bot ${bot.name}: polling lock held by ${owner.role} pid ${owner.pid} of this installation (${lock})` };
    });
}

function checkLocksAndOrphans(found: FoundConfig<ControlConfig>, resolved: ResolvedBot[]): Check[] {
  const checks: Check[] = [];
  const dataDir = found.config.dataDir;
  const supervisor = readLockOwner(instanceLockPath(dataDir));
  const running = supervisor !== undefined && isAlive(supervisor);
  checks.push({ verdict: 'ok', what: running ? `a supervisor is running (pid ${supervisor.pid}, since ${supervisor.since})` : 'no supervisor is running for this data dir' });
  checks.push(...checkPollingLocks(found, resolved));
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

async function checkWebhooks(found: FoundConfig<ControlConfig>, bots: ResolvedBot[]): Promise<Check[]> {
  const checks: Check[] = [];
  for (const bot of bots.filter((b) => b.enabled && b.polling)) {
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

/** The running supervisor's word on each bot: a bot with a problem cannot do its job, which fails the check. */
async function checkBotProblems(found: FoundConfig<ControlConfig>): Promise<Check[]> {
  const owner = readLockOwner(instanceLockPath(found.config.dataDir));
  if (owner === undefined || !isAlive(owner)) return [];
  let report: StatusReport;
  try {
    report = await controlRequest<StatusReport>(controlSocketPath(found.config.dataDir), { cmd: 'status' }, 10_000);
  } catch (err) {
    return [{ verdict: 'warn', what: `the supervisor (pid ${owner.pid}) did not answer on its control socket (${(err as Error).message}); its bots' problems are unknown` }];
  }
  // A cluster standby waits for the lease on purpose: that is its job, not a problem.
  const standby = new Set(report.supervisor.locks.filter((l) => l.cluster?.role === 'standby' && l.cluster.error === null).map((l) => l.bot));
  return report.bots.map((b) =>
    standby.has(b.name) ? { verdict: 'ok', what: `bot ${b.name} (${b.state}): ${b.problem ?? 'standby'}` } : b.problem !== null ? { verdict: 'fail', what: `bot ${b.name} (${b.state}): ${b.problem}` } : { verdict: 'ok', what: `bot ${b.name} (${b.state}): no problem reported` },
  );
}

function checkDisk(found: FoundConfig<ControlConfig>): Check[] {
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

export async function doctorCommand(explicitConfig: string | undefined, out: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let found: FoundConfig<ControlConfig>;
  try {
    found = loadFoundControlConfig(explicitConfig, env);
  } catch (err) {
    if (err instanceof CliError) {
      out(`${MARK.fail} config: ${err.message}`);
      return EXIT.failed;
    }
    throw err;
  }
  makePrivateDirSync(found.config.dataDir);
  makePrivateDirSync(found.config.logDir);
  const tokens = checkTokens(found, env);
  const checks: Check[] = [
    { verdict: 'ok', what: `config ${found.file} is valid (${found.config.bots.length} bots)` },
    ...tokens.checks,
    ...checkAccess(found),
    ...checkFolderModes(found),
    ...checkLocksAndOrphans(found, tokens.resolved),
    ...(await checkWebhooks(found, tokens.resolved)),
    ...checkDisk(found),
    ...(await checkCluster(found, env)),
    ...(await checkBotProblems(found)),
    ...platformChecks(found),
  ];
  for (const c of checks) out(`${MARK[c.verdict]} ${c.what}`);
  const failed = checks.filter((c) => c.verdict === 'fail').length;
  out(failed === 0 ? 'no problems found' : `${failed} problem(s) found`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}
