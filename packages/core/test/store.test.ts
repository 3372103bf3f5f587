/**
 * openStore's contract in one process: defaults for a missing file, update/flush/close semantics,
 * schema handling, leftover temp files, and atomic check-and-increment under concurrency.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { z } from 'zod';
import { openStore, StoreClosedError } from '../src/store/index.js';
import { RecordingLogger } from './fixtures/store-helpers.js';

interface Quota {
  day: string;
  used: number;
  log: string[];
}
const quotaDefaults = (): Quota => ({ day: '2024-05-01', used: 0, log: [] });

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('store: openStore', () => {
  const temps = new TempDirs();
  afterEach(() => temps.removeAll());

  it('starts a missing file from the defaults, without an error, and creates it', async () => {
    const file = path.join(temps.make(), 'data', 'bots', 'main', 'state.json');
    const logger = new RecordingLogger();
    const store = await openStore({ file, defaults: quotaDefaults, logger });
    try {
      expect(store.loaded.source).to.equal('missing');
      expect(store.data).to.deep.equal(quotaDefaults());
      expect(readJson(file)).to.deep.equal(quotaDefaults());
      expect(logger.at('error')).to.deep.equal([]);
    } finally {
      await store.close();
    }
  });

  it('update returns what fn returns, and flush puts every update on disk', async () => {
    const file = path.join(temps.make(), 'state.json');
    const store = await openStore({ file, defaults: quotaDefaults, backupIntervalMs: 0 });
    try {
      const results = [1, 2, 3].map((n) =>
        store.update((draft) => {
          draft.used += n;
          draft.log.push(`+${n}`);
          return draft.used;
        }),
      );
      expect(results).to.deep.equal([1, 3, 6]);
      expect(store.data.used).to.equal(6); // in memory at once, before any write
      await store.flush();
      expect(readJson(file)).to.deep.equal({ day: '2024-05-01', used: 6, log: ['+1', '+2', '+3'] });
    } finally {
      await store.close();
    }
  });

  it('keeps the data across close and reopen', async () => {
    const file = path.join(temps.make(), 'state.json');
    const first = await openStore({ file, defaults: quotaDefaults });
    first.update((draft) => {
      draft.used = 42;
    });
    await first.close(); // close flushes
    const second = await openStore({ file, defaults: quotaDefaults });
    try {
      expect(second.loaded.source).to.equal('file');
      expect(second.data.used).to.equal(42);
    } finally {
      await second.close();
    }
  });

  it('refuses updates after close, and close is idempotent', async () => {
    const file = path.join(temps.make(), 'state.json');
    const store = await openStore({ file, defaults: quotaDefaults });
    await Promise.all([store.close(), store.close()]);
    expect(() => store.update(() => undefined)).to.throw(StoreClosedError, 'the store is closed');
    await store.flush(); // nothing pending: resolves
  });

  it('rejects an async fn, and still saves what it changed synchronously', async () => {
    const file = path.join(temps.make(), 'state.json');
    const store = await openStore({ file, defaults: quotaDefaults });
    try {
      expect(() =>
        store.update(async (draft) => {
          draft.used = 7;
        }),
      ).to.throw(TypeError, 'synchronous');
      await store.flush();
      expect(readJson(file)).to.have.property('used', 7);
    } finally {
      await store.close();
    }
  });

  it('writes what a throwing fn changed before it threw, so memory and disk agree', async () => {
    const file = path.join(temps.make(), 'state.json');
    const store = await openStore({ file, defaults: quotaDefaults });
    try {
      expect(() =>
        store.update((draft) => {
          draft.used = 1;
          throw new Error('boom');
        }),
      ).to.throw('boom');
      await store.flush();
      expect(readJson(file)).to.have.property('used', 1);
    } finally {
      await store.close();
    }
  });

  it('refuses defaults that do not match the schema, before touching the disk', async () => {
    const dir = temps.make();
    const schema = z.object({ used: z.number().int().nonnegative() });
    let error: unknown;
    try {
      await openStore({ file: path.join(dir, 'state.json'), defaults: () => ({ used: -1 }), schema });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.include('the defaults do not match the schema').and.include('used');
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('takes the data as the schema returns it (schema defaults fill in new fields)', async () => {
    const file = path.join(temps.make(), 'state.json');
    writeFileSync(file, JSON.stringify({ used: 3 }));
    const schema = z.object({ used: z.number(), plan: z.string().default('free') });
    const store = await openStore({ file, defaults: () => ({ used: 0, plan: 'free' }), schema });
    try {
      expect(store.loaded.source).to.equal('file');
      expect(store.data).to.deep.equal({ used: 3, plan: 'free' });
    } finally {
      await store.close();
    }
  });

  it('removes temp files left by a killed writer when it opens, and only those', async () => {
    const dir = temps.make();
    const file = path.join(dir, 'state.json');
    const leftovers = ['.state.json.4242.1.deadbeef.tmp', '.state.json.4243.17.0a1b2c3d.tmp'];
    const unrelated = ['.other.json.4242.1.deadbeef.tmp', 'state.json.notes', '.state.json.tmp'];
    for (const name of [...leftovers, ...unrelated]) writeFileSync(path.join(dir, name), '{"half":');
    const store = await openStore({ file, defaults: quotaDefaults });
    try {
      const names = readdirSync(dir);
      for (const name of leftovers) expect(names).not.to.include(name);
      for (const name of unrelated) expect(names).to.include(name);
    } finally {
      await store.close();
    }
  });

  it('100 concurrent check-and-increment calls against a limit of 50 give exactly 50 passes', async () => {
    const file = path.join(temps.make(), 'state.json');
    const limit = 50;
    const store = await openStore({ file, defaults: quotaDefaults, backupIntervalMs: 0 });
    try {
      // Each caller awaits something first (as a bot handler would), so the calls interleave with
      // each other and with the writes in flight.
      const attempt = async (caller: number): Promise<boolean> => {
        await sleep(Math.floor(Math.random() * 20));
        const passed = store.update((draft) => {
          if (draft.used >= limit) return false;
          draft.used += 1;
          draft.log.push(`caller ${caller}`);
          return true;
        });
        await store.flush();
        return passed;
      };
      const results = await Promise.all(Array.from({ length: 100 }, (_, caller) => attempt(caller)));
      expect(results.filter(Boolean)).to.have.length(limit);
      expect(store.data.used).to.equal(limit);
      const onDisk = readJson(file) as Quota;
      expect(onDisk.used).to.equal(limit);
      expect(new Set(onDisk.log).size).to.equal(limit);
    } finally {
      await store.close();
    }
    const reopened = await openStore({ file, defaults: quotaDefaults });
    try {
      expect(reopened.data.used).to.equal(limit);
    } finally {
      await reopened.close();
    }
  });

  it('leaves nothing behind but the file, its backups folder and no lock after close', async () => {
    const dir = temps.make();
    const file = path.join(dir, 'state.json');
    const store = await openStore({ file, defaults: quotaDefaults });
    for (let i = 0; i < 20; i++) {
      store.update((draft) => {
        draft.used += 1;
      });
    }
    await store.close();
    expect(readdirSync(dir).sort()).to.deep.equal(['backups', 'state.json']);
    expect(existsSync(`${file}.lock`)).to.equal(false);
  });
});
