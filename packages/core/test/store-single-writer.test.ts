/**
 * One writer process per store file, with real processes: a second opener gets a clear
 * StoreInUseError naming the holder, and the file of a writer killed with SIGKILL can be opened
 * again at once. And an open store never keeps its process alive.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { exited, ProcessTracker, TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { openStore, StoreInUseError } from '../src/store/index.js';
import { RecordingLogger } from './fixtures/store-helpers.js';
import type { HolderMessage } from './fixtures/store-holder.js';

const HOLDER = fileURLToPath(new URL('./fixtures/store-holder.js', import.meta.url));
const FORGETFUL = fileURLToPath(new URL('./fixtures/store-forgetful.js', import.meta.url));

function nextMessage(child: ChildProcess): Promise<HolderMessage> {
  return new Promise((resolve, reject) => {
    child.once('message', (message: HolderMessage) => resolve(message));
    child.once('exit', (code, signal) => reject(new Error(`holder exited (${code ?? signal}) before sending a message`)));
  });
}

async function openError(file: string): Promise<unknown> {
  try {
    const store = await openStore({ file, defaults: () => ({ opens: 0 }), backupIntervalMs: 0, logger: new RecordingLogger() });
    await store.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('store: one writer per file', () => {
  const temps = new TempDirs();
  const tracker = new ProcessTracker();

  afterEach(async () => {
    await tracker.killAll();
    temps.removeAll();
  });

  it('tells a second process who holds the file: role, pid and since when', async () => {
    const file = path.join(temps.make(), 'data', 'bots', 'main', 'state.json');
    const holder = tracker.fork(HOLDER, [file, 'main']);
    const ready = await nextMessage(holder);
    expect(ready.type).to.equal('ready');

    const error = await openError(file);
    expect(error).to.be.instanceOf(StoreInUseError);
    const inUse = error as StoreInUseError;
    expect(inUse.owner?.pid).to.equal(holder.pid);
    expect(inUse.owner?.role).to.equal('main');
    expect(inUse.message).to.equal(`${file} is already open for writing by main pid ${holder.pid} since ${inUse.owner?.since}`);
    expect(Number.isNaN(Date.parse(inUse.owner?.since ?? ''))).to.equal(false);

    // And the other way round: a second process gets the same clear error.
    const second = tracker.fork(HOLDER, [file, 'auxiliary']);
    const refused = await nextMessage(second);
    expect(refused).to.deep.equal({ type: 'in-use', message: `${file} is already open for writing by main pid ${holder.pid} since ${inUse.owner?.since}` });
    expect(await exited(second)).to.equal(0);
  });

  it('refuses a second open in the same process too', async () => {
    const file = path.join(temps.make(), 'state.json');
    const store = await openStore({ file, defaults: () => ({ opens: 0 }), role: 'supervisor', backupIntervalMs: 0 });
    try {
      const error = await openError(file);
      expect(error).to.be.instanceOf(StoreInUseError);
      expect((error as Error).message).to.include(`by supervisor pid ${process.pid}`);
    } finally {
      await store.close();
    }
    expect(await openError(file)).to.equal(undefined); // released by close
  });

  it('opens at once the file of a writer killed with SIGKILL, with its data', async () => {
    const file = path.join(temps.make(), 'state.json');
    const holder = tracker.fork(HOLDER, [file, 'main']);
    expect((await nextMessage(holder)).type).to.equal('ready');
    holder.kill('SIGKILL');
    await exited(holder);

    const logger = new RecordingLogger();
    const started = Date.now();
    const store = await openStore({ file, defaults: () => ({ opens: 0 }), backupIntervalMs: 0, logger });
    try {
      expect(Date.now() - started).to.be.below(1000);
      expect(store.data.opens).to.equal(1); // the killed writer's flushed update
      expect(logger.at('warning').some((r) => r.msg.includes('owner is dead'))).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('lets the next process in after a clean close', async () => {
    const file = path.join(temps.make(), 'state.json');
    const first = tracker.fork(HOLDER, [file, 'main']);
    expect((await nextMessage(first)).type).to.equal('ready');
    first.send('close');
    expect(await nextMessage(first)).to.deep.equal({ type: 'closed' });
    expect(await exited(first)).to.equal(0);

    const second = tracker.fork(HOLDER, [file, 'main']);
    expect((await nextMessage(second)).type).to.equal('ready');
    second.send('close');
    await nextMessage(second);
    const store = await openStore({ file, defaults: () => ({ opens: 0 }), backupIntervalMs: 0 });
    try {
      expect(store.data.opens).to.equal(2);
    } finally {
      await store.close();
    }
  });

  it('never keeps a process alive: one that forgets close exits by itself, its pending write on disk', async () => {
    const file = path.join(temps.make(), 'state.json');
    const child = tracker.fork(FORGETFUL, [file]);
    const code = await Promise.race([exited(child), sleep(5000, 'still running after 5 s', { ref: false })]);
    expect(code).to.equal(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal({ note: 'written without flush' });
  });
});
