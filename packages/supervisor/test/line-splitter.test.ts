import { expect } from 'chai';
import { LineSplitter } from '../src/bot/line-splitter.js';

function split(chunks: Array<string | Buffer>, max?: number): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l), max);
  for (const c of chunks) s.push(c);
  s.end();
  return lines;
}

describe('line splitter (bot output)', () => {
  it('ends lines at \\n and \\r\\n (also split across chunks), keeps the last frame of \\r redraws, and flushes a last line at the end', () => {
    expect(split(['a\r\nb\n', 'c\r', '\nd'])).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(split(['10%\r20%\r', '30%\rdone\n'])).to.deep.equal(['done']);
  });

  it('decodes a multi-byte character split across chunks whole', () => {
    const bytes = Buffer.from('héllo ✓\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)])).to.deep.equal(['héllo ✓']);
  });

  it('cuts a line at the bound, marks it, and drops the rest up to the newline', () => {
    expect(split(['abcdefgh', 'ijk\nnext\n'], 5)).to.deep.equal(['abcde [line cut: longer than 5 characters]', 'next']);
  });
});
