import { expect } from 'chai';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART, JOB_MARKER_VAR, processKey, SKIP_TELEGRAM_LOCK_VAR, settlesWithin, TREE_COOKIE_VAR } from '../src/index.js';

describe('process contract', () => {
  it('names the exit codes and environment variables both sides use', () => {
    expect([EXIT_OK, EXIT_FAILURE, EXIT_RESTART, EXIT_CONFIG]).to.deep.equal([0, 1, 42, 78]);
    expect([SKIP_TELEGRAM_LOCK_VAR, TREE_COOKIE_VAR, JOB_MARKER_VAR]).to.deep.equal(['SKIP_TELEGRAM_LOCK', 'BOTVISOR_TREE', 'BOTVISOR_JOB']);
  });

  it('keys a process by pid and start time', () => {
    expect(processKey({ pid: 42, startTime: 1700 })).to.equal('42@1700');
    expect(processKey({ pid: 42, startTime: 1700 })).to.not.equal(processKey({ pid: 42, startTime: 1701 }));
  });
});

describe('settlesWithin', () => {
  it('is true when the promise fulfils in time', async () => {
    expect(await settlesWithin(new Promise((r) => setTimeout(r, 5)), 2000)).to.equal(true);
  });

  it('is false when the time runs out first', async () => {
    const never = new Promise(() => undefined);
    expect(await settlesWithin(never, 20)).to.equal(false);
  });

  it('passes a rejection on', async () => {
    const failing = Promise.reject(new Error('boom'));
    let caught: unknown;
    await settlesWithin(failing, 1000).catch((err: unknown) => {
      caught = err;
    });
    expect((caught as Error).message).to.equal('boom');
  });
});
