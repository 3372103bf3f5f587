/**
 * Timestamped backups of one store file, in their own folder: `<stem>.<stamp><ext>`, e.g.
 * `state.2024-05-01T12-00-00.000Z.json`, so a plain listing sorts by time. Creating one is a
 * durable write; afterwards only the newest `keep` are kept. Deciding when to back up, and
 * whether a backup is valid, belongs to the store and recovery.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { makePrivateDir } from '../fs/private-paths.js';
import { removeLeftoverTemps, writeFileDurably } from './durable-write.js';
import { escapeRegExp, FILE_STAMP_SOURCE, fileStamp, parseFileStamp } from './file-stamp.js';

export interface BackupInfo {
  path: string;
  /** When it was taken (epoch ms), read back from its name. */
  takenAt: number;
}

export interface BackupsOptions {
  /** The store file being backed up. */
  file: string;
  /** The folder for this file's backups. Backups of files with the same name must not share it. */
  dir: string;
  /** How many backups to keep; older ones are deleted after each new one. */
  keep: number;
}

function splitName(file: string): { stem: string; ext: string } {
  const base = path.basename(file);
  const ext = path.extname(base);
  return ext === '' ? { stem: base, ext: '.json' } : { stem: base.slice(0, -ext.length), ext };
}

export class Backups {
  readonly dir: string;
  private readonly stem: string;
  private readonly ext: string;
  private readonly pattern: RegExp;

  constructor(private readonly options: BackupsOptions) {
    this.dir = options.dir;
    ({ stem: this.stem, ext: this.ext } = splitName(options.file));
    this.pattern = new RegExp(`^${escapeRegExp(this.stem)}\\.(${FILE_STAMP_SOURCE})${escapeRegExp(this.ext)}$`);
  }

  pathFor(takenAt: number): string {
    return path.join(this.dir, `${this.stem}.${fileStamp(takenAt)}${this.ext}`);
  }

  /** This file's backups, newest first. */
  async list(): Promise<BackupInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found: BackupInfo[] = [];
    for (const name of names) {
      const stamp = this.pattern.exec(name)?.[1];
      const takenAt = stamp === undefined ? undefined : parseFileStamp(stamp);
      if (takenAt !== undefined) found.push({ path: path.join(this.dir, name), takenAt });
    }
    return found.sort((a, b) => b.takenAt - a.takenAt);
  }

  /** Writes `contents` as the backup taken at `takenAt` (replacing one with the same stamp), then prunes. */
  async create(contents: string, takenAt: number): Promise<BackupInfo> {
    await makePrivateDir(this.dir);
    const backup = { path: this.pathFor(takenAt), takenAt };
    await writeFileDurably(backup.path, contents);
    await this.prune();
    return backup;
  }

  /** Deletes all but the newest `keep` backups; returns the deleted paths. */
  async prune(): Promise<string[]> {
    const excess = (await this.list()).slice(Math.max(this.options.keep, 0));
    await Promise.all(excess.map((backup) => rm(backup.path, { force: true })));
    return excess.map((backup) => backup.path);
  }

  /** Removes temp files of backups cut short by a kill. Only for the holder of the store's writer lock. */
  async removeLeftoverTemps(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const targets = new Set<string>();
    for (const name of names) {
      // A temp file is `.<backup name>.<unique>.tmp`; recover the backup name to ask durable-write.
      const match = /^\.(.+)\.\d+\.\d+\.[0-9a-f]+\.tmp$/.exec(name);
      if (match?.[1] !== undefined && this.pattern.test(match[1])) targets.add(path.join(this.dir, match[1]));
    }
    const removed: string[] = [];
    for (const target of targets) removed.push(...(await removeLeftoverTemps(target)));
    return removed;
  }
}
