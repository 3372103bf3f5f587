/**
 * The standalone command as a real process: it prints the URL it listens on, serves the Bot API
 * and the control API, takes --flood, refuses bad options, and exits 0 on SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, ProcessTracker, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { SimClient } from '../src/index.js';
import { apiFor, tokenFor } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TOKEN = tokenFor(7501);

function collect(child: ChildProcess): () => string {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  return () => output;
}

describe('bot-api-sim command', () => {
  const processes = new ProcessTracker();

  afterEach(async () => {
    await processes.killAll();
  });

  it('serves on the port it prints, with the flood mode asked for, and exits 0 on SIGTERM', async () => {
    const child = processes.fork(CLI, ['--port', '0', '--flood', 'strict'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const output = collect(child);
    const url = await waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.exec(output())?.[0], { what: 'the listening line', timeoutMs: 15_000 });

    expect((await apiFor(url, TOKEN).getMe()).id).to.equal(7501);
    expect((await new SimClient(url).flood()).mode).to.equal('strict');
    expect(output()).not.to.contain(TOKEN.split(':')[1], 'no token in the log');

    child.kill('SIGTERM');
    expect(await exited(child)).to.equal(0);
  });

  it('refuses a bad option with exit code 2 and the usage', async () => {
    const child = processes.fork(CLI, ['--flood', 'sometimes'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const output = collect(child);
    expect(await exited(child)).to.equal(2);
    expect(output()).to.contain('usage: bot-api-sim');
  });
});
