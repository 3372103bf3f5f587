/**
 * Recovery on open: a truncated, garbage, empty or schema-failing file is moved aside (kept byte
 * for byte) and the newest valid backup is restored, or the defaults, always with an ERROR log.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { z } from 'zod';
import { Backups } from '../src/store/backups.js';
import { fileStamp } from '../src/store/file-stamp.js';
import { openStore } from '../src/store/index.js';
import { ManualClock, RecordingLogger } from './fixtures/store-helpers.js';

const schema = z.object({ version: z.literal(1), users: z.record(z.string(), z.object({ sent: z.number().int().nonnegative() })) });
type State = z.infer<typeof schema>;
const defaults = (): State => ({ version: 1, users: {} });

const HOUR = 3_600_000;

interface Setup {
  dir: string;
  file: string;
  backupDir: string;
  clock: ManualClock;
  logger: RecordingLogger;
}

describe('store: recovery of a corrupt file', () => {
  const temps = new TempDirs();
  afterEach(() => temps.removeAll());

  function setup(): Setup {
    const dir = temps.make('botvisor-store-recovery-');
    return { dir, file: path.join(dir, 'state.json'), backupDir: path.join(dir, 'backups'), clock: new ManualClock(), logger: new RecordingLogger() };
  }

  /** Writes a backup file by hand, as if taken `agoMs` before the clock's now. */
  function plantBackup(s: Setup, agoMs: number, contents: string): string {
    mkdirSync(s.backupDir, { recursive: true });
    const backupPath = new Backups({ file: s.file, dir: s.backupDir, keep: 24 }).pathFor(s.clock.now() - agoMs);
    writeFileSync(backupPath, contents);
    return backupPath;
  }

  function open(s: Setup) {
    return openStore({ file: s.file, defaults, schema, logger: s.logger, clock: s.clock, backupDir: s.backupDir });
  }

  function withOneUser(sent: number): string {
    return JSON.stringify({ version: 1, users: { alice: { sent } } });
  }

  const corruptions: [string, string][] = [
    ['a truncated file', withOneUser(5).slice(0, 21)],
    ['garbage bytes', '\u0000\u0017\u00ff garbage \u0001'],
    ['an empty file', ''],
    ['valid JSON that fails the schema', JSON.stringify({ version: 2, users: [] })],
  ];

  for (const [what, contents] of corruptions) {
    it(`restores the newest valid backup over ${what}, keeps the corrupt copy and logs an ERROR`, async () => {
      const s = setup();
      plantBackup(s, 3 * HOUR, withOneUser(1));
      const newest = plantBackup(s, 1 * HOUR, withOneUser(2));
      writeFileSync(s.file, contents);

      const store = await open(s);
      try {
        expect(store.loaded.source).to.equal('backup');
        expect(store.loaded.restoredFrom?.path).to.equal(newest);
        expect(store.data).to.deep.equal({ version: 1, users: { alice: { sent: 2 } } });

        const corruptCopy = `${s.file}.corrupt-${fileStamp(s.clock.now())}`;
        expect(store.loaded.corruptCopy).to.equal(corruptCopy);
        expect(readFileSync(corruptCopy, 'utf8')).to.equal(contents);
        // The restored data is on disk at once: a crash right after open must not find the file corrupt or missing.
        expect(JSON.parse(readFileSync(s.file, 'utf8'))).to.deep.equal(store.data);

        const errors = s.logger.at('error');
        expect(errors).to.have.length(1);
        expect(errors[0]?.msg).to.include('restored the newest valid backup');
        expect(errors[0]?.meta).to.include({ file: s.file, corruptCopy, restoredFrom: newest });
        expect(String(errors[0]?.meta.reason)).to.have.length.greaterThan(0);
      } finally {
        await store.close();
      }
    });
  }

  it('end to end: a backup the store took restores the file after it was truncated on disk', async () => {
    const s = setup();
    const first = await open(s);
    first.update((draft) => {
      draft.users.bob = { sent: 12 };
    });
    await first.backupNow();
    first.update((draft) => {
      draft.users.bob = { sent: 13 }; // after the backup: lost with the file, as it must be
    });
    await first.close();
    const full = readFileSync(s.file, 'utf8');
    writeFileSync(s.file, full.slice(0, Math.floor(full.length / 2)));

    const second = await open(s);
    try {
      expect(second.loaded.source).to.equal('backup');
      expect(second.data.users.bob?.sent).to.equal(12);
      expect(readFileSync(second.loaded.corruptCopy ?? '', 'utf8')).to.equal(full.slice(0, Math.floor(full.length / 2)));
      expect(s.logger.at('error')).to.have.length(1);
    } finally {
      await second.close();
    }
  });

  it('skips backups that are corrupt themselves (with a WARNING) and takes the newest valid one', async () => {
    const s = setup();
    const valid = plantBackup(s, 5 * HOUR, withOneUser(3));
    const badSchema = plantBackup(s, 2 * HOUR, JSON.stringify({ version: 1, users: { alice: { sent: -1 } } }));
    const truncated = plantBackup(s, 1 * HOUR, withOneUser(4).slice(0, 10));
    writeFileSync(s.file, '{');

    const store = await open(s);
    try {
      expect(store.loaded.restoredFrom?.path).to.equal(valid);
      expect(store.data.users.alice?.sent).to.equal(3);
      const skipped = s.logger.at('warning').filter((r) => r.msg.includes('skipping a backup'));
      expect(skipped.map((r) => r.meta.backup)).to.deep.equal([truncated, badSchema]);
      // Bad backups are evidence too: they are left where they are.
      expect(existsSync(truncated) && existsSync(badSchema)).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('starts from the defaults with an ERROR when no valid backup exists, and still keeps the corrupt copy', async () => {
    const s = setup();
    writeFileSync(s.file, 'not json at all');

    const store = await open(s);
    try {
      expect(store.loaded.source).to.equal('defaults');
      expect(store.data).to.deep.equal(defaults());
      expect(readFileSync(store.loaded.corruptCopy ?? '', 'utf8')).to.equal('not json at all');
      expect(JSON.parse(readFileSync(s.file, 'utf8'))).to.deep.equal(defaults());
      const errors = s.logger.at('error');
      expect(errors).to.have.length(1);
      expect(errors[0]?.msg).to.include('no valid backup');
    } finally {
      await store.close();
    }
  });

  it('does not restore a backup over a missing file: that is a fresh start (with a WARNING)', async () => {
    const s = setup();
    plantBackup(s, 1 * HOUR, withOneUser(9));

    const store = await open(s);
    try {
      expect(store.loaded.source).to.equal('missing');
      expect(store.data).to.deep.equal(defaults());
      expect(s.logger.at('error')).to.deep.equal([]);
      expect(s.logger.at('warning').map((r) => r.msg)).to.deep.include('store file is missing although backups exist: starting from defaults');
    } finally {
      await store.close();
    }
  });

  it('keeps every corrupt copy when the file is corrupted again later', async () => {
    const s = setup();
    plantBackup(s, 1 * HOUR, withOneUser(1));
    writeFileSync(s.file, 'first garbage');
    await (await open(s)).close();
    s.clock.advance(60_000);
    writeFileSync(s.file, 'second garbage');
    await (await open(s)).close();

    const copies = readdirSync(s.dir).filter((name) => name.startsWith('state.json.corrupt-')).sort();
    expect(copies).to.have.length(2);
    expect(copies.map((name) => readFileSync(path.join(s.dir, name), 'utf8'))).to.deep.equal(['first garbage', 'second garbage']);
  });
});
