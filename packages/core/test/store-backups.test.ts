/**
 * Timed backups, driven by an injected manual clock: one at open when none is recent, one per
 * interval only if the data changed, the newest `keepBackups` kept, names that sort by time, and
 * no timer left after close.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { z } from 'zod';
import { openStore } from '../src/store/index.js';
import { ManualClock, RecordingLogger } from './fixtures/store-helpers.js';

const HOUR = 3_600_000;

interface Counter {
  n: number;
}

describe('store: backups', () => {
  const temps = new TempDirs();
  afterEach(() => temps.removeAll());

  function open(file: string, clock: ManualClock, extra: { keepBackups?: number; backupDir?: string; backupIntervalMs?: number } = {}) {
    return openStore<Counter>({ file, defaults: () => ({ n: 0 }), clock, logger: new RecordingLogger(), ...extra });
  }

  async function backupCount(dir: string, expected: number): Promise<string[]> {
    // Timer-driven backups run in the background: wait for them to land.
    return waitFor(() => {
      const names = readdirSync(dir).sort();
      return names.length === expected ? names : undefined;
    }, { timeoutMs: 2000, what: `${expected} backups in ${dir}` });
  }

  it('takes one at open, then one per interval only when the data changed', async () => {
    const dir = temps.make();
    const file = path.join(dir, 'state.json');
    const backupDir = path.join(dir, 'backups');
    const clock = new ManualClock();
    const store = await open(file, clock);
    try {
      expect(await store.listBackups()).to.have.length(1);
      expect(store.backupDir).to.equal(backupDir); // default: `backups` beside the file

      clock.advance(HOUR); // nothing changed: no new backup
      await sleep(20);
      expect(readdirSync(backupDir)).to.have.length(1);

      store.update((draft) => {
        draft.n = 1;
      });
      clock.advance(HOUR);
      const names = await backupCount(backupDir, 2);
      expect(JSON.parse(readFileSync(path.join(backupDir, names[1] ?? ''), 'utf8'))).to.deep.equal({ n: 1 });
      expect(names[1]).to.equal(`state.${new Date(clock.now()).toISOString().replace(/:/g, '-')}.json`);
    } finally {
      await store.close();
    }
  });

  it('does not take one at open when a backup younger than the interval exists', async () => {
    const file = path.join(temps.make(), 'state.json');
    const clock = new ManualClock();
    await (await open(file, clock)).close();
    clock.advance(HOUR / 2);
    const store = await open(file, clock);
    try {
      expect(await store.listBackups()).to.have.length(1);
      clock.advance(HOUR / 2);
      clock.advance(HOUR / 2); // the reopened store's first tick: it may have changed unseen, so it backs up
      await backupCount(store.backupDir, 2);
    } finally {
      await store.close();
    }
    clock.advance(HOUR);
    const later = await open(file, clock);
    await later.close();
    expect(readdirSync(later.backupDir)).to.have.length(3);
  });

  it('keeps only the newest keepBackups, and a listing sorts by time', async () => {
    const dir = temps.make();
    const file = path.join(dir, 'bots', 'main', 'state.json');
    const backupDir = path.join(dir, 'backups', 'main');
    const clock = new ManualClock(Date.parse('2024-12-31T22:00:00.000Z'));
    const store = await open(file, clock, { keepBackups: 3, backupDir, backupIntervalMs: 0 });
    try {
      const taken: number[] = [];
      for (let i = 1; i <= 6; i++) {
        store.update((draft) => {
          draft.n = i;
        });
        clock.advance(HOUR - 7 + i); // crosses midnight and the year: names must still sort
        taken.push((await store.backupNow()).takenAt);
      }
      const listed = await store.listBackups();
      expect(listed.map((b) => b.takenAt)).to.deep.equal(taken.slice(-3).reverse());
      const names = readdirSync(backupDir);
      expect(names).to.have.length(3);
      expect([...names].sort()).to.deep.equal(listed.map((b) => path.basename(b.path)).reverse());
      expect(names.map((name) => JSON.parse(readFileSync(path.join(backupDir, name), 'utf8')).n).sort()).to.deep.equal([4, 5, 6]);
    } finally {
      await store.close();
    }
  });

  it('prunes at open too: a lowered keepBackups, or a writer killed before it pruned', async () => {
    const file = path.join(temps.make(), 'state.json');
    const clock = new ManualClock();
    const first = await open(file, clock, { backupIntervalMs: 0 });
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await first.backupNow();
    }
    await first.close();
    const second = await open(file, clock, { backupIntervalMs: 0, keepBackups: 2 });
    try {
      const kept = await second.listBackups();
      expect(kept.map((b) => b.takenAt)).to.deep.equal([clock.now(), clock.now() - 1000]);
    } finally {
      await second.close();
    }
  });

  it('stops its timer on close, and backupIntervalMs 0 turns automatic backups off', async () => {
    const file = path.join(temps.make(), 'state.json');
    const clock = new ManualClock();
    const store = await open(file, clock);
    expect(clock.activeTimers).to.equal(1);
    await store.close();
    expect(clock.activeTimers).to.equal(0);

    const other = path.join(temps.make(), 'state.json');
    const manual = await open(other, clock, { backupIntervalMs: 0 });
    try {
      expect(clock.activeTimers).to.equal(0);
      expect(await manual.listBackups()).to.deep.equal([]);
      await manual.backupNow();
      expect(await manual.listBackups()).to.have.length(1);
    } finally {
      await manual.close();
    }
  });

  it('refuses to take a backup of data that fails the schema', async () => {
    const file = path.join(temps.make(), 'state.json');
    const store = await openStore({ file, defaults: () => ({ n: 0 }), schema: z.object({ n: z.number().max(10) }), backupIntervalMs: 0 });
    try {
      store.update((draft) => {
        draft.n = 11;
      });
      let error: unknown;
      await store.backupNow().catch((err: unknown) => {
        error = err;
      });
      expect(String(error)).to.include('not taking a backup');
      expect(await store.listBackups()).to.deep.equal([]);
    } finally {
      await store.close();
    }
  });
});
