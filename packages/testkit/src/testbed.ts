/**
 * The usual bed of an end-to-end test, set up and torn down around every test: a fresh Bot API
 * simulator on 127.0.0.1 (port 0), a process tracker and temp folders. Teardown runs the test's
 * own cleanups first (e.g. stopping a supervisor), then kills every tracked process tree, closes
 * the simulator and removes the folders — whatever the test did.
 */
import { type SimHandle, type StartSimOptions, startSim } from '@botvisor/bot-api-sim';
import { ProcessTracker } from './process-tracker.js';
import { TempDirs } from './temp-dirs.js';

export interface Testbed {
  /** This test's simulator (set in beforeEach). */
  readonly sim: SimHandle;
  readonly tracker: ProcessTracker;
  readonly temp: TempDirs;
  /** Runs before the standard teardown, last registered first; cleared after each test. */
  onCleanup(fn: () => Promise<void> | void): void;
}

/** Call inside a `describe`: registers the hooks and returns the bed. */
export function useTestbed(options: StartSimOptions = {}): Testbed {
  const tracker = new ProcessTracker();
  const temp = new TempDirs();
  let sim: SimHandle | undefined;
  let cleanups: Array<() => Promise<void> | void> = [];
  beforeEach(async () => {
    sim = await startSim(options);
  });
  afterEach(async () => {
    for (const fn of cleanups.reverse()) await fn();
    cleanups = [];
    await tracker.killAll();
    await sim?.close();
    sim = undefined;
    temp.removeAll();
  });
  return {
    get sim(): SimHandle {
      if (sim === undefined) throw new Error('the testbed simulator exists only inside a test');
      return sim;
    },
    tracker,
    temp,
    onCleanup: (fn) => void cleanups.push(fn),
  };
}
