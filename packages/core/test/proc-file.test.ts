/**
 * readProcFile: a `/proc` file whole, through one buffer kept between calls (the supervisor's
 * periodic rescans read every process's stat and environ; issue 18).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { readProcFile } from '../src/process/proc-file.js';

describe('readProcFile', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('reads a file larger than its buffer whole, then a smaller one without the rest of the first', () => {
    const dir = temp.make('botvisor-procfile-');
    const big = Buffer.alloc(200 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    writeFileSync(path.join(dir, 'big'), big);
    writeFileSync(path.join(dir, 'small'), 'pid=42\0');
    expect(readProcFile(path.join(dir, 'big')).equals(big)).to.equal(true);
    expect(readProcFile(path.join(dir, 'small')).toString()).to.equal('pid=42\0');
  });

  it('reads what /proc reports with size 0, as readFileSync does', function () {
    if (process.platform !== 'linux') this.skip();
    expect(readProcFile('/proc/self/environ').equals(readFileSync('/proc/self/environ'))).to.equal(true);
    expect(readProcFile(`/proc/${process.pid}/cmdline`).toString()).to.equal(readFileSync(`/proc/${process.pid}/cmdline`, 'utf8'));
  });

  it('throws for a file that is not there, as readFileSync does', () => {
    expect(() => readProcFile('/proc/0/none')).to.throw().with.property('code', 'ENOENT');
  });
});
