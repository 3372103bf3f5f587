/**
 * The daily quota's own record: one line per admitted job (`<UTC day> <user id>`), appended and
 * fdatasync'd, never edited. It exists because the jobs file may be restored from an older backup
 * after it was found corrupt, which would hand users back jobs they already ran today; the quota
 * used is the larger of the two counts (job-book.ts). Only the current day is kept: the first
 * line of a new day starts the file afresh. A torn last line (a kill mid-append) is skipped.
 */
import { open, readFile } from 'node:fs/promises';
import { PRIVATE_FILE_MODE, writeFileDurably } from '@botvisor/core';

const LINE = /^(\d{4}-\d{2}-\d{2}) (-?\d+)$/;

export class QuotaLedger {
  /** Appends run one after another, in the order they were asked for. */
  private chain: Promise<void> = Promise.resolve();
  /** The day of the lines in the file, once known. */
  private day: string | undefined;

  constructor(readonly file: string) {}

  /**
   * Jobs admitted on `day` per user, as recorded. A file that also holds other days or a torn
   * line is rewritten first with `day`'s lines only, so appends always follow a whole line.
   */
  async load(day: string): Promise<Map<number, number>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      text = '';
    }
    const counts = new Map<number, number>();
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      const m = LINE.exec(line);
      if (m === null || m[1] !== day) continue;
      kept.push(line);
      const user = Number(m[2]);
      counts.set(user, (counts.get(user) ?? 0) + 1);
    }
    const clean = kept.map((l) => `${l}\n`).join('');
    if (text !== clean) await writeFileDurably(this.file, clean);
    this.day = day;
    return counts;
  }

  /** Records one admitted job; resolves once the line is on disk. */
  record(day: string, userId: number): Promise<void> {
    const appended = this.chain.catch(() => undefined).then(() => this.append(day, `${day} ${userId}\n`));
    this.chain = appended;
    return appended;
  }

  /** Resolves once every record asked for so far is on disk; rejects if one failed. */
  settled(): Promise<void> {
    return this.chain;
  }

  private async append(day: string, line: string): Promise<void> {
    if (this.day === undefined) await this.load(day); // never appended to unread: it may end in a torn line
    if (this.day !== day) {
      // A new day: yesterday's lines no longer count.
      await writeFileDurably(this.file, line);
      this.day = day;
      return;
    }
    const handle = await open(this.file, 'a', PRIVATE_FILE_MODE);
    try {
      await handle.write(line);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}
