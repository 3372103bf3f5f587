/**
 * The full output of one job, spooled to a temp file so "send me the whole log" works for any
 * size while memory stays flat. The spool only ever slows the job down (back-pressure through
 * the pipe), never blocks it for good: if the disk fails, spooling stops and the job's
 * output keeps being drained. `remove()` is safe on every path and idempotent.
 *
 * Spool files live in one folder per bot (`data/bots/<name>/tmp/`), named `job-<id>-<random>.log`,
 * so what a crash of the bot itself left behind is removed at the next start (`removeLeftovers`).
 * The folder is 0700 and the files 0600: they hold whatever the job printed.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { makePrivateDirSync, PRIVATE_FILE_MODE } from '@botvisor/core';

export const SPOOL_PREFIX = 'job-';

export class OutputSpool {
  readonly path: string;
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  private removed = false;
  bytes = 0;

  constructor(dir: string, jobId: string) {
    makePrivateDirSync(dir);
    const safeId = jobId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
    const name = safeId.startsWith(SPOOL_PREFIX) ? safeId : `${SPOOL_PREFIX}${safeId}`;
    this.path = path.join(dir, `${name}-${randomBytes(6).toString('hex')}.log`);
    this.stream = createWriteStream(this.path, { flags: 'wx', mode: PRIVATE_FILE_MODE });
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  /** Why spooling stopped, if it did (the log is then incomplete). */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Appends a chunk. Returns false when the caller should pause its source until `onDrain`
   * fires; never false once spooling has failed (the source must keep flowing then).
   */
  write(chunk: Buffer): boolean {
    if (this.failure !== undefined || this.removed) return true;
    this.bytes += chunk.length;
    return this.stream.write(chunk);
  }

  onDrain(listener: () => void): void {
    this.stream.on('drain', listener);
    // A failed stream never drains: release a paused source at once.
    this.stream.on('error', listener);
  }

  /** Waits until everything written is in the file (or spooling failed). */
  end(): Promise<void> {
    if (this.stream.closed || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.stream.once('close', () => resolve());
      this.stream.end();
    });
  }

  /** Deletes the file. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    if (!this.stream.closed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.destroy();
      });
    }
    await rm(this.path, { force: true });
  }
}

/** Removes every spool file in `dir` (left by a bot that crashed mid-job); returns how many. */
export async function removeLeftoverSpools(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // no folder yet
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(SPOOL_PREFIX)) continue;
    await rm(path.join(dir, name), { force: true, recursive: true });
    removed++;
  }
  return removed;
}
