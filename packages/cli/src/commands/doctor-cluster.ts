/**
 * `doctor`'s checks of cluster mode: the node reaches its PostgreSQL with the rights the leases
 * need, its clock roughly agrees with the database's, and a round trip leaves room within renewMs.
 * The look itself is the supervisor's `probePostgres`; this file turns what it saw into verdicts.
 */
import { type ControlConfig, redact, registerPostgresSecret, resolvePostgres } from '@botvisor/core';
import { type PostgresProbe, probePostgres } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';

export interface ClusterCheck {
  verdict: 'ok' | 'warn' | 'fail' | 'unchecked';
  what: string;
}

/** Beyond this, the nodes' logs and alerts disagree on when things happened (the leases themselves use the database's clock only). */
export const MAX_CLOCK_SKEW_MS = 2000;

/** The verdicts on one probe of `where` from node `node`, whose lease is renewed every `renewMs`. */
export function judgeClusterProbe(probe: PostgresProbe, node: string, where: string, renewMs: number): ClusterCheck[] {
  const checks: ClusterCheck[] = [{ verdict: 'ok', what: `cluster: node ${node} reaches ${where} (round trip ${probe.roundTripMs.toFixed(1)} ms, ${probe.leases} lease row(s))` }];
  const skew = Math.round(probe.clockSkewMs);
  checks.push(
    Number.isFinite(skew) && Math.abs(skew) <= MAX_CLOCK_SKEW_MS
      ? { verdict: 'ok', what: `cluster: clock within ${Math.abs(skew)} ms of the database's` }
      : { verdict: 'warn', what: `cluster: this machine's clock is ${Number.isFinite(skew) ? `${skew} ms` : 'an unknown amount'} off the database's; run NTP (chrony or systemd-timesyncd) on every node` },
  );
  if (probe.roundTripMs > renewMs / 2) checks.push({ verdict: 'warn', what: `cluster: a round trip to PostgreSQL takes ${probe.roundTripMs.toFixed(0)} ms, more than half of renewMs (${renewMs}); raise renewMs and leaseMs` });
  return checks;
}

/** Cluster mode: PostgreSQL reachable with the rights the leases need, and the clocks roughly agree; nothing without a `cluster` section. */
export async function checkCluster(found: FoundConfig<ControlConfig>, env: NodeJS.ProcessEnv): Promise<ClusterCheck[]> {
  const cluster = found.config.cluster;
  if (cluster === undefined) return [];
  const { postgresEnv } = cluster.postgresSource;
  if (postgresEnv !== undefined && (env[postgresEnv] ?? '').trim() === '') {
    return [{ verdict: 'unchecked', what: `cluster: PostgreSQL not checked: $${postgresEnv} is not set in this shell (only the supervisor needs it)` }];
  }
  const resolved = resolvePostgres(cluster.postgresSource, found.config.baseDir, env);
  if ('issue' in resolved) return [{ verdict: 'fail', what: `cluster: ${resolved.issue.path}: ${resolved.issue.message}` }];
  registerPostgresSecret(resolved.url);
  let where = 'PostgreSQL';
  try {
    const u = new URL(resolved.url);
    where = `PostgreSQL at ${u.hostname}${u.port !== '' ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    // pg says what is wrong with it below
  }
  try {
    return judgeClusterProbe(await probePostgres(resolved.url, Math.max(2000, cluster.renewMs)), cluster.node, where, cluster.renewMs);
  } catch (err) {
    return [{ verdict: 'fail', what: `cluster: cannot use ${where}: ${redact((err as Error).message)}; check the connection string, that the server listens for this node (pg_hba.conf) and that the user may create tables in that database` }];
  }
}
