/**
 * The update queue alone: ids, offset confirmation, redelivery, limits and allowed_updates.
 */
import { expect } from 'chai';
import { UpdateQueue } from '../src/index.js';

const body = (n: number) => ({ callback_query: { id: String(n) } }) as never;

describe('update queue', () => {
  it('numbers updates from firstUpdateId, one up each', () => {
    const queue = new UpdateQueue(500);
    expect([queue.push('callback_query', body(1)), queue.push('callback_query', body(2))]).to.deep.equal([500, 501]);
  });

  it('keeps everything until an offset confirms it', () => {
    const queue = new UpdateQueue();
    for (let i = 0; i < 5; i++) queue.push('callback_query', body(i));
    expect(queue.peek(100).map((u) => u.update_id)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(queue.peek(2).map((u) => u.update_id)).to.deep.equal([1, 2]);
    queue.confirm(3);
    expect(queue.peek(100).map((u) => u.update_id)).to.deep.equal([3, 4, 5]);
    queue.confirm(0);
    expect(queue.pendingCount).to.equal(3, 'offset 0 confirms nothing');
    queue.confirm(-2);
    expect(queue.peek(100).map((u) => u.update_id)).to.deep.equal([4, 5]);
    queue.confirm(99);
    expect(queue.pendingCount).to.equal(0);
  });

  it('filters by allowed_updates at creation; an empty list restores the default', () => {
    const queue = new UpdateQueue();
    queue.setAllowedUpdates(['message']);
    expect(queue.push('callback_query', body(1))).to.equal(undefined);
    queue.setAllowedUpdates([]);
    expect(queue.push('callback_query', body(2))).to.equal(1);
  });

  it('keeps counting ids after a reset', () => {
    const queue = new UpdateQueue();
    queue.push('callback_query', body(1));
    queue.reset();
    expect(queue.pendingCount).to.equal(0);
    expect(queue.push('callback_query', body(2))).to.equal(2);
  });
});
