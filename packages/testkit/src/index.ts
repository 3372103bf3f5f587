import { fileURLToPath } from 'node:url';

export { type BundleStartup, bundleStartup } from './bundle-startup.js';
export { fakeToken } from './fake-token.js';
export { loadedPackages } from './loaded-packages.js';
export { freePort, postgresBinDir, startPostgres, type TestPostgres } from './postgres.js';
export { exited, ProcessTracker } from './process-tracker.js';
export { TempDirs } from './temp-dirs.js';
export { type Testbed, useTestbed } from './testbed.js';
export { type PostgresBed, usePostgres } from './use-postgres.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
/** The fake agent CLI (see fake-agent/fake-agent.ts): `node FAKE_AGENT --protocol stream-json|lines`. */
export const FAKE_AGENT = fileURLToPath(new URL('./fake-agent/fake-agent.js', import.meta.url));
