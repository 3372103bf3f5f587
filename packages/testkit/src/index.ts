export { exited, ProcessTracker } from './process-tracker.js';
export { TempDirs } from './temp-dirs.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
