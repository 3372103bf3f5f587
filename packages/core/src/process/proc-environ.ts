/**
 * Walks the environment of every process but this one, from `/proc/<pid>/environ`: the one way to
 * find a process by a variable it carries, which survives setsid and re-parenting to init. Linux
 * only (elsewhere the walk yields nothing). Processes that are gone, or another user's, are skipped.
 */
import { readdirSync } from 'node:fs';
import { readProcFile } from './proc-file.js';

/**
 * Each other process's pid and environ block (NUL-separated `NAME=value`). The block is a view into
 * readProcFile's shared buffer: valid only until the walk steps on (copy what must outlive it).
 */
export function* processEnvirons(): Generator<{ pid: number; environ: Buffer }> {
  if (process.platform !== 'linux') return;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readProcFile(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or another user's process
    }
    yield { pid, environ };
  }
}
