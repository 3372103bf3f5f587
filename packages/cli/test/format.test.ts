import type { StatusReport } from '@botvisor/supervisor';
import { expect } from 'chai';
import { renderStatus } from '../src/commands/status.js';
import { duration } from '../src/format/human.js';

type BotRow = StatusReport['bots'][number];

describe('status for people', () => {
  it('shows uptime with seconds under an hour, then two units', () => {
    expect(duration(null)).to.equal('-');
    expect(duration(999)).to.equal('0s');
    expect(duration(42_000)).to.equal('42s');
    expect(duration(3 * 60_000 + 7_000)).to.equal('3m 07s');
    expect(duration(59 * 60_000 + 59_000)).to.equal('59m 59s');
    expect(duration(5 * 3_600_000 + 2 * 60_000 + 30_000)).to.equal('5h 02m');
    expect(duration(3 * 86_400_000 + 4 * 3_600_000)).to.equal('3d 04h');
  });

  it('shows no cpu or memory for a bot without a process (not 0% and 0b)', () => {
    const bot = (over: Partial<BotRow>): BotRow =>
      ({ name: 'main', kind: 'custom', state: 'ready', pid: 4242, restarts: 0, polling: true, uptimeMs: 65_000, lastExit: null, children: [], eventLoopDelayMs: null, queueDepth: null, runningJobs: 0, cpu: 1.5, memoryBytes: 50 * 1024 * 1024, ...over }) as BotRow;
    const report = {
      supervisor: { pid: 1, uptimeMs: 65_000, startedAt: '2026-01-01T00:00:00.000Z', dataDir: '/d', httpUrl: null, locks: [], configFile: '/d/botvisor.json', configHash: null },
      bots: [bot({}), bot({ name: 'off', state: 'stopped', pid: null, uptimeMs: null, cpu: 0, memoryBytes: 0, runningJobs: null })],
    } as StatusReport;
    const lines = renderStatus(report).split('\n');
    expect(lines[0]).to.equal('supervisor pid 1, up 1m 05s, data /d');
    const off = lines.find((l) => l.startsWith('off '));
    expect(off?.split(/\s{2,}/)).to.deep.equal(['off', 'stopped', '-', '-', '0', '-', '-', '-', 'yes', '-']);
    expect(lines.find((l) => l.startsWith('main '))).to.match(/^main\s+ready\s+4242\s+1m 05s\s+0\s+1\.5%\s+50\.0mb\s+0\s+yes\s+-$/);
  });
});
