/**
 * Mocha root hooks for the whole suite: after a test file's last test (mocha runs files in parallel
 * workers, and a worker's root afterAll runs once per file), the test process must have no
 * descendants left alive. Every run of the suite thereby checks botvisor's own tree kill.
 */
import { descendants, isDeadState } from '@botvisor/core';
import { waitFor } from './wait-for.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    const leftovers = () => descendants(process.pid).filter((p) => !isDeadState(p.state) && p.command !== 'ps');
    try {
      await waitFor(() => leftovers().length === 0, { timeoutMs: 5000, what: 'no descendant processes left by the suite' });
    } catch {
      const list = leftovers().map((p) => `${p.pid} (${p.command})`).join(', ');
      throw new Error(`the test suite left processes alive: ${list}`);
    }
  },
};
