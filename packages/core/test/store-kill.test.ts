/**
 * The store under `kill -9`: a child process writes self-checking values in a tight loop and is
 * SIGKILLed at a random moment, 200 times (two lanes of 100 writers in a row, each lane on its own
 * file, run side by side for speed). After every kill the file must parse and equal one of the
 * values written, must hold at least everything the child had reported flushed, and the next
 * child must open it at once (the dead writer's lock reclaimed) from the file itself, not from a
 * recovery.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ProcessTracker, TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { openStore } from '../src/store/index.js';
import { RecordingLogger } from './fixtures/store-helpers.js';
import type { KillWriterMessage } from './fixtures/store-kill-writer.js';
import { type KillTestState, valueFor, whyNotWritten } from './fixtures/store-values.js';

const WRITER = fileURLToPath(new URL('./fixtures/store-kill-writer.js', import.meta.url));
const ROUNDS = 200;
const LANES = 2;
const MAX_KILL_DELAY_MS = 25;

/** Call right after starting the child. */
function closed(child: ChildProcess): Promise<void> {
  // 'close' rather than 'exit': it comes after the IPC channel is drained, so every 'flushed' the child sent has arrived.
  return new Promise((resolve) => child.once('close', () => resolve()));
}

interface LaneResult {
  file: string;
  lastSeq: number;
  flushedReports: number;
  delays: number[];
  /** Rounds whose kill left a temp file behind, i.e. landed in the middle of a write. */
  midWriteKills: number;
}

/** One file, `rounds` writers in a row, each SIGKILLed after a random delay once it is writing. */
async function runLane(tracker: ProcessTracker, file: string, rounds: number): Promise<LaneResult> {
  let lastSeq = 0;
  let flushedReports = 0;
  let midWriteKills = 0;
  const delays: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const where = `${path.basename(path.dirname(file))} round ${round}`;
    const child = tracker.fork(WRITER, [file], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const whenClosed = closed(child);
    let maxFlushed = -1;
    const ready = new Promise<{ seq: number; source: string }>((resolve, reject) => {
      child.on('message', (message: KillWriterMessage) => {
        if (message.type === 'ready') resolve(message);
        if (message.type === 'flushed') {
          maxFlushed = Math.max(maxFlushed, message.seq);
          flushedReports += 1;
        }
      });
      child.once('exit', (code, signal) => reject(new Error(`${where}: writer exited before ready (${code ?? signal}): ${stderr}`)));
    });
    const opened = await ready;
    // Every reopen must find the file itself intact: a recovery here would mean a kill had corrupted it.
    expect(opened.source, `${where}: how the writer loaded the file`).to.equal(round === 0 ? 'missing' : 'file');
    expect(opened.seq, `${where}: seq at open`).to.equal(lastSeq);

    const delay = Math.floor(Math.random() * (MAX_KILL_DELAY_MS + 1));
    delays.push(delay);
    if (delay > 0) await sleep(delay);
    child.kill('SIGKILL');
    await whenClosed;

    const text = readFileSync(file, 'utf8');
    let value: KillTestState;
    try {
      value = JSON.parse(text) as KillTestState;
    } catch (err) {
      throw new Error(`${where} (killed after ${delay} ms): the file does not parse: ${(err as Error).message}`);
    }
    expect(whyNotWritten(value), `${where} (killed after ${delay} ms)`).to.equal(undefined);
    expect(value.seq, `${where}: at least every flushed value`).to.be.at.least(maxFlushed);
    expect(value.seq, `${where}: never older than the previous round`).to.be.at.least(lastSeq);
    lastSeq = value.seq;
    const tempPrefix = `.${path.basename(file)}.`;
    if (readdirSync(path.dirname(file)).some((name) => name.startsWith(tempPrefix) && name.endsWith('.tmp'))) midWriteKills += 1;
  }
  return { file, lastSeq, flushedReports, delays, midWriteKills };
}

describe('store: SIGKILL at random moments', () => {
  const temps = new TempDirs();
  const tracker = new ProcessTracker();

  afterEach(async () => {
    await tracker.killAll();
    temps.removeAll();
  });

  it(`leaves a valid, written value after each of ${ROUNDS} kills`, async function () {
    this.timeout(120_000);
    // Lanes run side by side on their own files, to keep the suite fast; each lane is strictly sequential.
    const files = Array.from({ length: LANES }, () => path.join(temps.make('botvisor-store-kill-'), 'state.json'));
    const lanes = await Promise.all(files.map((file) => runLane(tracker, file, ROUNDS / LANES)));

    // Some kills must have landed mid-write (a temp file left behind), or the test proves little.
    expect(lanes.reduce((sum, lane) => sum + lane.midWriteKills, 0)).to.be.greaterThan(0);
    for (const lane of lanes) {
      // The writers really wrote, and the kills landed at many different moments.
      expect(lane.flushedReports).to.be.greaterThan(ROUNDS / LANES);
      expect(new Set(lane.delays).size).to.be.greaterThan(10);

      const logger = new RecordingLogger();
      const store = await openStore<KillTestState>({ file: lane.file, defaults: () => valueFor(0), backupIntervalMs: 0, keepBackups: 3, logger });
      try {
        expect(store.loaded.source).to.equal('file');
        expect(store.data.seq).to.equal(lane.lastSeq);
        expect(logger.at('error')).to.deep.equal([]);
        const names = readdirSync(path.dirname(lane.file));
        expect(names.filter((name) => name.endsWith('.tmp')), 'temp files left by killed writers are removed on open').to.deep.equal([]);
        const backupNames = readdirSync(store.backupDir);
        expect(backupNames.filter((name) => name.endsWith('.tmp'))).to.deep.equal([]);
        // A kill between writing a backup and pruning leaves one too many, until the next open prunes.
        expect(backupNames.length).to.be.within(1, 3);
        for (const name of backupNames) {
          expect(whyNotWritten(JSON.parse(readFileSync(path.join(store.backupDir, name), 'utf8'))), name).to.equal(undefined);
        }
      } finally {
        await store.close();
      }
    }
  });
});
