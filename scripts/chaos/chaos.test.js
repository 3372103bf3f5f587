// The short chaos soak inside `npm test` (20 s of chaos, ≈ 30 s in all): every kind of hostile action happens at
// least once (kill -9 of a bot, a CLI job and the supervisor, a corrupted state file, a rogue
// poller, a 429 flood, a network fault, an exhausted quota) and every invariant must hold.
// The long run is `npm run chaos -- --minutes 30`.
import { expect } from 'chai';
import { runSoak } from './soak.js';

describe('chaos soak (short run)', function () {
  this.timeout(170_000);

  it('keeps every invariant through kills, rogue pollers, floods, faults and corrupted files', async () => {
    const progress = [];
    const result = await runSoak({ durationMs: 20_000, actionGapMs: [1000, 4000], seed: 11, quota: 5, log: (line) => progress.push(line) });
    const report = progress.slice(progress.findIndex((l) => l.startsWith('Chaos soak:')) - 1);
    console.log(report.map((l) => `      ${l}`).join('\n'));
    const broken = result.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);
    expect(broken, progress.join('\n')).to.deep.equal([]);
    for (const count of ['bot kills (kill -9)', 'CLI job kills (kill -9)', 'supervisor kills (kill -9)', 'rogue poller episodes', '429 flood episodes', 'network faults injected', 'state files corrupted', 'quota exhausted (users)']) {
      expect(result.counts[count], `${count} (journal: ${result.journal.map((j) => j.text).join('; ')})`).to.be.at.least(1);
    }
  });
});
