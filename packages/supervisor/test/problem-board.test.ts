import { expect } from 'chai';
import { ProblemBoard } from '../src/bot/problem-board.js';

describe('ProblemBoard', () => {
  it('is null until a cause is raised, and null again once it clears', () => {
    const board = new ProblemBoard();
    expect(board.current()).to.equal(null);
    board.raise('polling', 'another process is polling');
    expect(board.current()).to.equal('another process is polling');
    board.clear('polling');
    expect(board.current()).to.equal(null);
  });

  it('shows the most important cause while several hold', () => {
    const board = new ProblemBoard();
    board.raise('polling', 'poll loop failing');
    board.raise('lock', 'lock held elsewhere');
    expect(board.current()).to.equal('lock held elsewhere');
    board.raise('errored', 'gave up');
    expect(board.current()).to.equal('gave up');
    board.clear('errored');
    board.clear('lock');
    expect(board.current()).to.equal('poll loop failing');
  });

  it('reports each change of the shown sentence once', () => {
    const changes: Array<[string | null, string | null]> = [];
    const board = new ProblemBoard((now, before) => void changes.push([now, before]));
    board.raise('polling', 'a');
    board.raise('polling', 'a');
    board.raise('startup', 'b');
    board.clear('polling');
    board.clear('startup');
    expect(changes).to.deep.equal([
      ['a', null],
      ['b', 'a'],
      [null, 'b'],
    ]);
  });
});
