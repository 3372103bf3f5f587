/**
 * treeUsage with a PID that is already gone: pidusage answers null for it (no exception), which made
 * `status` fail with "Cannot read properties of null (reading 'cpu')" when a CLI job exited between
 * the listing and the measuring (found by the chaos soak, issue 10).
 */
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { treeUsage } from '../src/resource-usage.js';

describe('treeUsage', () => {
  it('skips a PID that exited before it was measured and sums the rest', async () => {
    const child = spawn('true', { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const usage = await treeUsage([process.pid, child.pid as number]);
    expect(usage.memoryBytes).to.be.greaterThan(0);
    expect(usage.cpu).to.be.a('number');
  });
});
