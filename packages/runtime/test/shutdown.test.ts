/**
 * The shutdown stack (lifecycle/shutdown.ts): closers run once, last pushed first; a failing one
 * is logged by name and turns a clean exit into a failure; a stuck one meets the forced exit.
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_RESTART } from '@botvisor/core';
import { expect } from 'chai';
import { Shutdown } from '../src/lifecycle/shutdown.js';
import { recordingLogger } from './support/record-logger.js';

function harness(forceExitAfterMs = 5000) {
  const { logger, lines } = recordingLogger();
  const exits: number[] = [];
  const shutdown = new Shutdown({
    logger,
    forceExitAfterMs,
    exit: (code) => {
      exits.push(code);
      return undefined as never;
    },
  });
  return { shutdown, lines, exits };
}

describe('shutdown stack', () => {
  it('runs every closer once, last pushed first, between "stopping" and "stopped"', async () => {
    const { shutdown, lines, exits } = harness();
    const ran: string[] = [];
    for (const name of ['lock released', 'inbox closed', 'services stopped', 'polling stopped']) shutdown.push(name, async () => void ran.push(name));
    await Promise.all([shutdown.run(EXIT_RESTART, 'restart requested'), shutdown.run(EXIT_OK, 'SIGTERM')]);
    expect(ran).to.deep.equal(['polling stopped', 'services stopped', 'inbox closed', 'lock released']);
    expect(lines.map((l) => [l.msg, l.meta?.exitCode])).to.deep.equal([
      ['stopping', EXIT_RESTART],
      ['stopped', EXIT_RESTART],
    ]);
    expect(exits).to.deep.equal([EXIT_RESTART]);
  });

  it('logs a failing closer by name, skips the rest and exits 1 instead of 0', async () => {
    const { shutdown, lines, exits } = harness();
    const ran: string[] = [];
    shutdown.push('lock released', () => void ran.push('lock released'));
    shutdown.push('inbox closed', () => {
      throw new Error('disk gone');
    });
    shutdown.push('polling stopped', () => void ran.push('polling stopped'));
    await shutdown.run(EXIT_OK, 'SIGTERM');
    expect(ran).to.deep.equal(['polling stopped']);
    const error = lines.find((l) => l.level === 'error');
    expect(error?.msg).to.equal('shutdown step failed');
    expect(error?.meta?.step).to.equal('inbox closed');
    expect(exits).to.deep.equal([EXIT_FAILURE]);
  });

  it('forces the exit (never with 0) when the closers outlast their time', async () => {
    const { shutdown, exits } = harness(30);
    shutdown.push('handlers finished', () => new Promise(() => undefined));
    void shutdown.run(EXIT_OK, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 80));
    expect(exits).to.deep.equal([EXIT_FAILURE]);
  });
});
