/**
 * Can a bot's data folder be written to now? Tried by writing, syncing and removing a small probe
 * file, because only a write tells: a full disk (ENOSPC, EDQUOT), a file system remounted
 * read-only (EROFS) or a folder that lost its permissions (EACCES, EPERM) all look fine to a stat.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/** The error codes that mean "no room or no right to write here": a cause that goes away by itself or by a person's hand. */
const UNWRITABLE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);

export interface ProbeFailure {
  code: string;
  message: string;
}

/** Undefined when `dir` takes a write; the failure when it does not for one of the UNWRITABLE reasons. Other errors are not judged (undefined). */
export function probeWritable(dir: string): ProbeFailure | undefined {
  const file = path.join(dir, `.botvisor-probe-${process.pid}`);
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(file, 'w');
    writeSync(fd, 'probe\n'.repeat(128)); // one small block: a full disk refuses it
    fsyncSync(fd);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return UNWRITABLE.has(code) ? { code, message: (err as Error).message } : undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(file, { force: true });
  }
}
