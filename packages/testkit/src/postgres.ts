/**
 * A throwaway PostgreSQL for a test: initdb into a temp folder, the server on a free port of
 * 127.0.0.1 with its socket in that folder, run as the `postgres` system user (PostgreSQL refuses
 * root). Nothing of the system's own PostgreSQL service is used. `stop()` stops it and removes the
 * folder.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestPostgres {
  port: number;
  /** A superuser connection string (trust authentication: any password is accepted). */
  url(password?: string): string;
  stop(): void;
}

/** The newest PostgreSQL binaries of Debian's package (`apt-get install postgresql`). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a PostgreSQL binary as the postgres user when we are root. */
function asPostgres(bin: string, args: string[]): void {
  const command = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(command[0] as string, command[1] as string[], { stdio: 'pipe' });
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'botvisor-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = path.join(dir, 'data');
  const port = await freePort();
  try {
    asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a test PostgreSQL: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
  }
  return {
    port,
    url: (password?: string) => `postgres://postgres${password !== undefined ? `:${password}` : ''}@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already gone; the folder goes all the same
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
