/**
 * One look at the cluster's PostgreSQL for `botvisor doctor`: can this node reach it and use the
 * lease table (created if missing, as the supervisor would), how long a round trip takes, and how
 * far the database's clock is from this machine's. The PostgreSQL client loads on the call, not with
 * the package: `botvisor start` (which hosts the supervisor) must not carry it (issue 18).
 */
import { performance } from 'node:perf_hooks';

export interface PostgresProbe {
  roundTripMs: number;
  /** Database clock minus this machine's, estimated at the round trip's middle. */
  clockSkewMs: number;
  /** The lease rows there are, by token hash. */
  leases: number;
}

export async function probePostgres(connectionString: string, timeoutMs: number): Promise<PostgresProbe> {
  const { LeaseStore } = await import('./lease-store.js');
  const store = new LeaseStore({ connectionString, queryTimeoutMs: timeoutMs });
  try {
    await store.read('doctor-probe'); // creates the table if this is the first node: proves the rights the supervisor needs
    const sentAt = performance.now();
    const wallAtSend = Date.now();
    const serverMs = await store.serverTimeMs();
    const roundTripMs = performance.now() - sentAt;
    return { roundTripMs, clockSkewMs: serverMs - (wallAtSend + roundTripMs / 2), leases: await store.count() };
  } finally {
    await store.close().catch(() => undefined);
  }
}
