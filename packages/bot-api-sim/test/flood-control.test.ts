/**
 * Flood control on a fake clock: bursts, per-chat, per-group and overall limits, the retry_after
 * figure, refused messages taking no slot, and bots not sharing limits.
 */
import { expect } from 'chai';
import { type Clock, FloodControl } from '../src/index.js';

class FakeClock implements Clock {
  constructor(private ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const PRIVATE = { id: 5, type: 'private' as const };
const GROUP = { id: -100, type: 'group' as const };

describe('flood control', () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  it('lets nothing through the "off" mode stop', () => {
    const flood = new FloodControl({ mode: 'off' }, clock);
    for (let i = 0; i < 1000; i++) expect(flood.admit(1, PRIVATE)).to.equal(undefined);
  });

  it('telegram mode: a burst of 3 in a chat, then one a second', () => {
    const flood = new FloodControl({ mode: 'telegram' }, clock);
    for (let i = 0; i < 3; i++) expect(flood.admit(1, PRIVATE)).to.equal(undefined);
    expect(flood.admit(1, PRIVATE)).to.equal(1);
    clock.advance(999);
    expect(flood.admit(1, PRIVATE)).to.equal(1);
    clock.advance(1);
    expect(flood.admit(1, PRIVATE)).to.equal(undefined);
    expect(flood.admit(1, PRIVATE)).to.equal(1);
  });

  it('strict mode: no burst at all', () => {
    const flood = new FloodControl({ mode: 'strict' }, clock);
    expect(flood.admit(1, PRIVATE)).to.equal(undefined);
    expect(flood.admit(1, PRIVATE)).to.equal(1);
  });

  it('a refused message takes no slot', () => {
    const flood = new FloodControl({ mode: 'strict' }, clock);
    flood.admit(1, PRIVATE);
    for (let i = 0; i < 10; i++) flood.admit(1, PRIVATE);
    clock.advance(1000);
    expect(flood.admit(1, PRIVATE)).to.equal(undefined);
  });

  it('20 messages a minute in a group, with retry_after in whole seconds', () => {
    const flood = new FloodControl({ mode: 'telegram', limits: { perChatPerSecond: 100, perChatBurst: 100 } }, clock);
    for (let i = 0; i < 20; i++) expect(flood.admit(1, GROUP)).to.equal(undefined, `message ${i + 1}`);
    expect(flood.admit(1, GROUP)).to.equal(3); // one slot every 3 s
    clock.advance(3000);
    expect(flood.admit(1, GROUP)).to.equal(undefined);
  });

  it('30 messages a second overall, across chats', () => {
    const flood = new FloodControl({ mode: 'telegram' }, clock);
    for (let chat = 1; chat <= 30; chat++) expect(flood.admit(1, { id: chat, type: 'private' })).to.equal(undefined);
    expect(flood.admit(1, { id: 31, type: 'private' })).to.equal(1);
    expect(flood.admit(2, { id: 31, type: 'private' })).to.equal(undefined, 'another bot has its own limits');
  });

  it('configure() changes the limits and starts every bucket full', () => {
    const flood = new FloodControl({ mode: 'strict' }, clock);
    flood.admit(1, PRIVATE);
    expect(flood.admit(1, PRIVATE)).to.equal(1);
    const settings = flood.configure({ mode: 'telegram', limits: { perChatBurst: 5 } });
    expect(settings.limits.perChatBurst).to.equal(5);
    for (let i = 0; i < 5; i++) expect(flood.admit(1, PRIVATE)).to.equal(undefined);
    expect(flood.admit(1, PRIVATE)).to.equal(1);
  });

  it('refuses limits that are not positive numbers', () => {
    expect(() => new FloodControl({ mode: 'telegram', limits: { perChatPerSecond: 0 } }, clock)).to.throw(RangeError);
  });
});
