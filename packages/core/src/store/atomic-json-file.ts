/**
 * The lowdb adapter: JSON in, JSON out, with every write going through `writeFileDurably`
 * (temp file, fsync, rename, folder fsync). Reading reports a missing file as `null` and a file
 * that is not JSON as `CorruptFileError`; deciding what to do about either is recovery's job.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { DirectoryHandle, writeFileDurably } from './durable-write.js';

/** A file that exists but does not hold what it should: not JSON, or (from recovery) not the schema. */
export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file} is corrupt: ${reason}`);
  }
}

/** The on-disk form: indented like lowdb's JSONFile, so state files stay readable and diffable. */
export function serializeJson(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** Parses file contents, naming the file and the reason if they are not JSON. */
export function parseJson(text: string, file: string): unknown {
  // An empty file is the classic result of a non-atomic write cut short: say so plainly.
  if (text.trim() === '') throw new CorruptFileError(file, 'the file is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON (${(err as Error).message})`);
  }
}

/** The raw text of a file, or null if it does not exist. */
export async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export class AtomicJsonFile<T> implements Adapter<T> {
  // Kept open between writes: one fsync per write instead of open + fsync + close of the folder.
  private readonly dirHandle: DirectoryHandle;

  constructor(readonly file: string) {
    this.dirHandle = new DirectoryHandle(path.dirname(file));
  }

  /** The parsed contents, or null if the file does not exist. Throws `CorruptFileError` if it is not JSON. */
  async read(): Promise<T | null> {
    const text = await readTextIfExists(this.file);
    return text === null ? null : (parseJson(text, this.file) as T);
  }

  write(data: T): Promise<void> {
    // Serialized before anything is awaited: the write captures the data exactly as it is now.
    const text = serializeJson(data);
    return writeFileDurably(this.file, text, { dirHandle: this.dirHandle });
  }

  /** Releases the folder handle; the adapter may still be used afterwards (it reopens on demand). */
  close(): Promise<void> {
    return this.dirHandle.close();
  }
}
