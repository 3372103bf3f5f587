/**
 * The bot's end of the IPC link (ipc/supervisor-link.ts): registering for supervisor events tells
 * the supervisor once per process (`subscribe-events`), and nothing without a channel.
 */
import { EventEmitter } from 'node:events';
import type { IpcMessage } from '@botvisor/core';
import { expect } from 'chai';
import { SupervisorLink } from '../src/ipc/supervisor-link.js';
import { recordingLogger } from './support/record-logger.js';

function fakeProcess(connected: boolean): { proc: NodeJS.Process; emitter: EventEmitter; sent: IpcMessage[] } {
  const sent: IpcMessage[] = [];
  const proc = Object.assign(new EventEmitter(), {
    connected,
    send: (m: IpcMessage) => {
      sent.push(m);
      return true;
    },
  });
  return { proc: proc as unknown as NodeJS.Process, emitter: proc, sent };
}

describe('supervisor link: event subscription', () => {
  it('sends subscribe-events once, however many handlers register, and hands every handler the events', () => {
    const { proc, emitter, sent } = fakeProcess(true);
    const link = new SupervisorLink(proc, recordingLogger().logger);
    const first: string[] = [];
    const second: string[] = [];
    link.onEvent((e) => void first.push(e.kind));
    link.onEvent((e) => void second.push(e.kind));
    expect(sent).to.deep.equal([{ type: 'subscribe-events' }]);
    emitter.emit('message', { type: 'event', event: { kind: 'crash', bot: 'main', at: new Date().toISOString(), message: 'main crashed' } });
    expect([first, second]).to.deep.equal([['crash'], ['crash']]);
  });

  it('sends nothing without a connected channel', () => {
    const { proc, sent } = fakeProcess(false);
    new SupervisorLink(proc, recordingLogger().logger).onEvent(() => undefined);
    expect(sent).to.deep.equal([]);
  });
});
