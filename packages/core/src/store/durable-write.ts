/**
 * The crash-consistent way to replace a file: write a unique temp file in the same folder, fsync
 * it, rename it over the target, fsync the folder. After `kill -9` (or power loss) at any point,
 * the target holds either the old or the new contents, never a mix; a temp file may be left
 * behind, which the next writer removes. The file is created 0600 (fs/private-paths.ts). Knows
 * nothing about JSON or lowdb.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from '../fs/private-paths.js';
import { escapeRegExp } from './file-stamp.js';

/*
 * Raw file descriptors and fs callbacks rather than fs/promises FileHandles: a durable write is
 * six round trips to the thread pool, and FileHandle's per-call overhead measurably slowed the
 * sequential (write-awaited) benchmark; the calls themselves are the same.
 */
type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;
function viaCallback<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err === null ? resolve(value) : reject(err))));
}
const openFd = (file: string, flags: string, mode?: number) => viaCallback<number>((done) => fs.open(file, flags, mode, done));
const closeFd = (fd: number) => viaCallback<void>((done) => fs.close(fd, (err) => done(err, undefined)));
const fsyncFd = (fd: number) => viaCallback<void>((done) => fs.fsync(fd, (err) => done(err ?? null, undefined)));
const fdatasyncFd = (fd: number) => viaCallback<void>((done) => fs.fdatasync(fd, (err) => done(err ?? null, undefined)));
const renameFile = (from: string, to: string) => viaCallback<void>((done) => fs.rename(from, to, (err) => done(err ?? null, undefined)));

async function writeAll(fd: number, contents: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < contents.byteLength) {
    const at = offset;
    offset += await viaCallback<number>((done) => fs.write(fd, contents, at, contents.byteLength - at, at, done));
  }
}

let tempCounter = 0;

/** A temp path beside `target`, unique among all writers on this host: `.<name>.<pid>.<n>.<random>.tmp`. */
export function tempPathFor(target: string): string {
  tempCounter += 1;
  const unique = `${process.pid}.${tempCounter}.${randomBytes(4).toString('hex')}`;
  return path.join(path.dirname(target), `.${path.basename(target)}.${unique}.tmp`);
}

function tempNamePattern(target: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(path.basename(target))}\\.\\d+\\.\\d+\\.[0-9a-f]+\\.tmp$`);
}

/**
 * Removes temp files of `target` left by a writer that was killed mid-write. Only call this while
 * holding the right to write `target`: otherwise it could delete a live writer's temp file.
 */
export async function removeLeftoverTemps(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const pattern = tempNamePattern(target);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed = names.filter((name) => pattern.test(name)).map((name) => path.join(dir, name));
  await Promise.all(removed.map((file) => rm(file, { force: true })));
  return removed;
}

/** Platforms where a folder cannot be opened or fsync'd (Windows) report these; there is nothing more to do there. */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'EACCES']);

function unsupported(err: unknown): boolean {
  return DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '');
}

/**
 * A folder kept open by a frequent writer, so each write costs one fsync of it instead of
 * open + fsync + close. Close it when done; `sync()` after `close()` reopens.
 */
export class DirectoryHandle {
  private fd: Promise<number | undefined> | undefined;

  constructor(readonly dir: string) {}

  private open(): Promise<number | undefined> {
    this.fd ??= openFd(this.dir, 'r').catch((err: unknown) => {
      this.fd = undefined; // try again next time
      if (unsupported(err)) return undefined;
      throw err;
    });
    return this.fd;
  }

  /** Makes the folder's entries (a rename into it) durable. */
  async sync(): Promise<void> {
    const fd = await this.open();
    if (fd === undefined) return;
    try {
      await fsyncFd(fd);
    } catch (err) {
      if (!unsupported(err)) throw err;
    }
  }

  async close(): Promise<void> {
    const pending = this.fd;
    this.fd = undefined;
    const fd = await pending?.catch(() => undefined);
    if (fd !== undefined) await closeFd(fd);
  }
}

/** Makes the folder's entries durable, opening and closing it for this one call. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = new DirectoryHandle(dir);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface DurableWriteOptions {
  /** The target's folder, kept open by the caller; opened and closed per call if omitted. */
  dirHandle?: DirectoryHandle;
}

/** Replaces `target` with `contents`, durably and atomically (see the module header). */
export async function writeFileDurably(target: string, contents: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
  const temp = tempPathFor(target);
  try {
    // Born private: the rename carries the temp file's mode over to the target.
    const fd = await openFd(temp, 'w', PRIVATE_FILE_MODE);
    try {
      await writeAll(fd, bytes);
      // fdatasync is enough: it flushes the data and the size, which is all a reader needs.
      await fdatasyncFd(fd);
    } finally {
      await closeFd(fd);
    }
    await renameFile(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  if (options.dirHandle !== undefined) await options.dirHandle.sync();
  else await syncDirectory(path.dirname(target));
}
