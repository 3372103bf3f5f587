export { fakeToken } from './fake-token.js';
export { exited, ProcessTracker } from './process-tracker.js';
export { TempDirs } from './temp-dirs.js';
export { type Testbed, useTestbed } from './testbed.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
