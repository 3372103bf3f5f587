import { expect } from 'chai';
import type { Logger } from '../src/index.js';
import { IPC_PROTOCOL_VERSION, type IpcMessage, parseIpcMessage, sendIpc } from '../src/index.js';

function recordingLogger(): Logger & { warnings: Array<{ msg: string; meta?: Record<string, unknown> }> } {
  const warnings: Array<{ msg: string; meta?: Record<string, unknown> }> = [];
  const noop = () => undefined;
  const logger = {
    warnings,
    error: noop,
    info: noop,
    debug: noop,
    warning: (msg: string, meta?: Record<string, unknown>) => void warnings.push({ msg, meta }),
    child: () => logger,
    close: async () => undefined,
  };
  return logger;
}

describe('IPC messages', () => {
  const valid: IpcMessage[] = [
    { type: 'hello', protocol: IPC_PROTOCOL_VERSION, bot: 'main', skipTelegramLock: true, polling: true, lock: { path: '/d/locks/x.lock', owner: { pid: 10, startTime: 1, role: 'supervisor', hostname: 'h', since: 'now' } } },
    { type: 'ready', username: 'sim_1_bot' },
    { type: 'ping', seq: 3 },
    { type: 'pong', seq: 3, eventLoopDelayMs: 1.5, queueDepth: 0, runningJobs: 2 },
    { type: 'child-spawned', child: { pid: 123, startTime: 456, command: 'sleep' }, jobId: 'j1' },
    { type: 'child-exited', child: { pid: 123, startTime: 456 }, code: null, signal: 'SIGKILL' },
    { type: 'subscribe-events' },
    { type: 'shutdown', graceMs: 10_000 },
    { type: 'event', event: { kind: 'conflict', bot: 'main', at: new Date().toISOString(), message: '409 Conflict x3', data: { count: 3 } } },
  ];

  for (const msg of valid) {
    it(`accepts a well-formed ${msg.type}`, () => {
      const log = recordingLogger();
      expect(parseIpcMessage(structuredClone(msg), log)).to.deep.equal(msg);
      expect(log.warnings).to.deep.equal([]);
    });
  }

  const malformed: Array<[string, unknown]> = [
    ['null', null],
    ['a string', 'ready'],
    ['an unknown type', { type: 'reboot-the-world' }],
    ['a pong with missing figures', { type: 'pong', seq: 1 }],
    ['a child-spawned with a negative pid', { type: 'child-spawned', child: { pid: -1, startTime: 1, command: 'x' } }],
    ['a hello with a string flag', { type: 'hello', protocol: 1, bot: 'main', skipTelegramLock: 'yes', polling: true }],
  ];
  for (const [what, raw] of malformed) {
    it(`drops ${what} with one WARNING and does not throw`, () => {
      const log = recordingLogger();
      expect(parseIpcMessage(raw, log)).to.equal(undefined);
      expect(log.warnings).to.have.length(1);
      expect(log.warnings[0]?.msg).to.equal('dropped a malformed IPC message');
    });
  }

  it('sendIpc reports a closed channel instead of throwing', () => {
    expect(sendIpc({ connected: false, send: () => true }, { type: 'ping', seq: 1 })).to.equal(false);
    expect(sendIpc({}, { type: 'ping', seq: 1 })).to.equal(false);
    const closed = { connected: true, send: (): boolean => { throw new Error('ERR_IPC_CHANNEL_CLOSED'); } };
    expect(sendIpc(closed, { type: 'ping', seq: 1 })).to.equal(false);
  });
});
