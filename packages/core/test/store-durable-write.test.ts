/**
 * The store's building blocks on their own: the durable file replacement and the lowdb adapter
 * on a real file system, and the coalescing writer's ordering guarantees with a write function
 * the test controls.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { CoalescingWriter } from '../src/store/coalescing-writer.js';
import { AtomicJsonFile, CorruptFileError, writeFileDurably } from '../src/store/index.js';

/** A write the test completes by hand, one call at a time. */
class GatedWrite {
  calls = 0;
  private gates: { resolve: () => void; reject: (err: Error) => void }[] = [];

  readonly write = (): Promise<void> => {
    this.calls += 1;
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  };

  async finishNext(error?: Error): Promise<void> {
    // Let the writer reach its write call first.
    for (let i = 0; i < 10 && this.gates.length === 0; i++) await Promise.resolve();
    const gate = this.gates.shift();
    if (gate === undefined) throw new Error('no write in flight');
    if (error === undefined) gate.resolve();
    else gate.reject(error);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function settled(promise: Promise<unknown>): { done: boolean; error: unknown } {
  const state = { done: false, error: undefined as unknown };
  promise.then(
    () => {
      state.done = true;
    },
    (err: unknown) => {
      state.done = true;
      state.error = err;
    },
  );
  return state;
}

describe('store: durable write and JSON adapter', () => {
  const temps = new TempDirs();
  afterEach(() => temps.removeAll());

  it('replaces the file and leaves no temp file', async () => {
    const dir = temps.make();
    const file = path.join(dir, 'state.json');
    await writeFileDurably(file, 'one');
    await writeFileDurably(file, 'two');
    expect(readFileSync(file, 'utf8')).to.equal('two');
    expect(readdirSync(dir)).to.deep.equal(['state.json']);
  });

  it('handles many writes to one file at once: unique temp names, one of them whole on disk', async () => {
    const dir = temps.make();
    const file = path.join(dir, 'state.json');
    const contents = Array.from({ length: 20 }, (_, i) => String(i).repeat(1000 + i));
    await Promise.all(contents.map((text) => writeFileDurably(file, text)));
    expect(contents).to.include(readFileSync(file, 'utf8'));
    expect(readdirSync(dir)).to.deep.equal(['state.json']);
  });

  it('fails cleanly when the folder is missing, and leaves no temp file when the rename fails', async () => {
    const dir = temps.make();
    let error: unknown;
    await writeFileDurably(path.join(dir, 'missing', 'state.json'), 'x').catch((err: unknown) => {
      error = err;
    });
    expect((error as NodeJS.ErrnoException).code).to.equal('ENOENT');

    const target = path.join(dir, 'occupied');
    mkdirSync(path.join(target, 'child'), { recursive: true }); // a non-empty folder cannot be renamed over
    error = undefined;
    await writeFileDurably(target, 'x').catch((err: unknown) => {
      error = err;
    });
    expect(error).to.be.instanceOf(Error);
    expect(readdirSync(dir)).to.deep.equal(['occupied']);
  });

  it('the adapter reads null for a missing file and CorruptFileError for a file that is not JSON', async () => {
    const dir = temps.make();
    const adapter = new AtomicJsonFile<{ a: number }>(path.join(dir, 'state.json'));
    expect(await adapter.read()).to.equal(null);
    await adapter.write({ a: 1 });
    expect(await adapter.read()).to.deep.equal({ a: 1 });
    expect(readFileSync(path.join(dir, 'state.json'), 'utf8')).to.equal('{\n  "a": 1\n}\n');
    writeFileSync(path.join(dir, 'state.json'), '{"a":');
    let error: unknown;
    await adapter.read().catch((err: unknown) => {
      error = err;
    });
    expect(error).to.be.instanceOf(CorruptFileError);
    await adapter.close();
  });
});

describe('store: coalescing writer', () => {
  it('writes a burst of changes made in one synchronous stretch once', async () => {
    let writes = 0;
    const writer = new CoalescingWriter({
      write: async () => {
        writes += 1;
      },
    });
    for (let i = 0; i < 1000; i++) writer.schedule();
    await writer.flush();
    expect(writes).to.equal(1);
    expect(writer.pending).to.equal(false);
  });

  it('carries all changes made during a write in exactly one more write', async () => {
    const gated = new GatedWrite();
    const writer = new CoalescingWriter({ write: gated.write });
    writer.schedule();
    await Promise.resolve();
    expect(gated.calls).to.equal(1);
    for (let i = 0; i < 50; i++) writer.schedule(); // while the first write is in flight
    await gated.finishNext();
    await gated.finishNext();
    await writer.flush();
    expect(gated.calls).to.equal(2);
  });

  it('resolves flush only after the write that carries the changes made before it', async () => {
    const gated = new GatedWrite();
    const writer = new CoalescingWriter({ write: gated.write });
    writer.schedule();
    await Promise.resolve(); // write 1 is in flight, without the next change
    writer.schedule();
    const flushed = settled(writer.flush());
    await gated.finishNext();
    expect(flushed.done, 'must not resolve on the write that started before the change').to.equal(false);
    await gated.finishNext();
    expect(flushed).to.deep.equal({ done: true, error: undefined });
  });

  it('resolves flush at once when nothing is pending, without writing', async () => {
    let writes = 0;
    const writer = new CoalescingWriter({
      write: async () => {
        writes += 1;
      },
    });
    await writer.flush();
    expect(writes).to.equal(0);
  });

  it('rejects flush when the write fails, reports it, keeps the change pending and retries on the next flush', async () => {
    const gated = new GatedWrite();
    const reported: unknown[] = [];
    const writer = new CoalescingWriter({ write: gated.write, onWriteError: (err) => reported.push(err) });
    writer.schedule();
    const first = settled(writer.flush());
    await gated.finishNext(new Error('disk full'));
    expect((first.error as Error).message).to.equal('disk full');
    expect(reported).to.have.length(1);
    expect(writer.pending).to.equal(true);

    const second = settled(writer.flush());
    await gated.finishNext();
    expect(second).to.deep.equal({ done: true, error: undefined });
    expect(writer.pending).to.equal(false);
  });
});
