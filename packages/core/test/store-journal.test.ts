/**
 * The append-only journal (journal.ts): records are numbered and read back in order after a
 * given number; appends reach the file within the tick; a commit waits for an fdatasync that
 * concurrent commits share; a torn last line is a WARNING, any other bad line an ERROR with a
 * kept copy; rotated segments go once dropped; a write that fails is retried in a new segment.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { Journal, listSegments, type Numbered, readJournal } from '../src/store/index.js';
import { RecordingLogger } from './fixtures/store-helpers.js';

interface Rec extends Numbered {
  v: string;
}
const isRec = (raw: unknown): raw is Rec => typeof raw === 'object' && raw !== null && Number.isSafeInteger((raw as Rec).n) && typeof (raw as Rec).v === 'string';

describe('store: journal', () => {
  const temp = new TempDirs();
  let file: string;
  let logger: RecordingLogger;
  beforeEach(() => {
    file = path.join(temp.make('botvisor-journal-'), 'state.json');
    logger = new RecordingLogger();
  });
  afterEach(() => temp.removeAll());
  const read = (afterSeq = 0) => readJournal({ file, afterSeq, check: isRec, logger });

  it('numbers records from nextSeq, writes them within the tick, and reads back those after a number', async () => {
    const journal = new Journal<Rec>({ file, nextSeq: 5, logger });
    expect(journal.append({ v: 'a' })).to.deep.equal({ n: 5, v: 'a' });
    journal.append({ v: 'b' });
    journal.append({ v: 'c' });
    await tick();
    expect(readFileSync(journal.path, 'utf8').split('\n')).to.have.length(4); // three lines and the final newline, no commit needed
    expect((await read(5)).map((r) => r.v)).to.deep.equal(['b', 'c']);
    await journal.close({ remove: false });
  });

  it('commit resolves once synced; commits made while a sync runs resolve together', async () => {
    const journal = new Journal<Rec>({ file, nextSeq: 1, logger });
    const commits: Array<Promise<void>> = [];
    for (let i = 0; i < 50; i++) {
      journal.append({ v: String(i) });
      commits.push(journal.commit());
    }
    await Promise.all(commits);
    expect((await read()).map((r) => r.n)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    await journal.close({ remove: true });
    expect(await listSegments(file)).to.deep.equal([]);
  });

  it('ignores a torn last line with a WARNING; a bad line before it is an ERROR with a kept copy, and the rest is read', async () => {
    const journal = new Journal<Rec>({ file, nextSeq: 1, logger });
    journal.append({ v: 'a' });
    await journal.commit();
    appendFileSync(journal.path, 'garbage\n');
    journal.append({ v: 'b' });
    await journal.commit();
    appendFileSync(journal.path, '{"n":3,"v":"c');
    expect((await read()).map((r) => r.v)).to.deep.equal(['a', 'b']);
    expect(logger.records.filter((r) => r.level === 'warning').map((r) => r.msg)).to.deep.equal(['ignoring the torn last line of a journal (the process was killed while appending it)']);
    expect(logger.records.filter((r) => r.level === 'error').map((r) => r.msg)).to.deep.equal(['a journal holds lines that are not records: skipped them and kept a copy']);
    expect(readdirSync(path.dirname(file)).some((n) => n.includes('.corrupt-'))).to.equal(true);
    await journal.close({ remove: false });
  });

  it('rotate starts a new segment; dropRetired deletes the older ones; reading spans segments in order', async () => {
    const journal = new Journal<Rec>({ file, nextSeq: 1, logger });
    journal.append({ v: 'a' });
    journal.rotate();
    journal.append({ v: 'b' });
    await journal.commit();
    expect(await listSegments(file)).to.have.length(2);
    expect((await read()).map((r) => r.v)).to.deep.equal(['a', 'b']);
    await journal.dropRetired();
    expect(await listSegments(file)).to.deep.equal([journal.path]);
    await journal.close({ remove: false });
  });

  it('records written twice (a write retried after a failure) are read once', async () => {
    const journal = new Journal<Rec>({ file, nextSeq: 1, logger });
    journal.append({ v: 'a' });
    await journal.commit();
    appendFileSync(journal.path, `${JSON.stringify({ n: 1, v: 'a' })}\n`);
    expect((await read()).map((r) => r.n)).to.deep.equal([1]);
    await journal.close({ remove: false });
  });
});
