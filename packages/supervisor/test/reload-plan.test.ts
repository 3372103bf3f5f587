import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedBot, ResolvedConfig } from '@botvisor/core';
import { useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';
import { codeFingerprint, planReload } from '../src/reload/reload-plan.js';

function bot(name: string, extra: Partial<ResolvedBot> = {}): ResolvedBot {
  return { name, kind: 'custom', module: `/m/${name}.js`, token: `1:${name}`, tokenHash: name, polling: true, enabled: true, auxiliary: false, ...extra } as ResolvedBot;
}

function config(bots: ResolvedBot[], extra: Partial<ResolvedConfig> = {}): ResolvedConfig {
  return { bots, dataDir: '/d', logDir: '/l', locksDir: '/k', apiRoot: 'http://x', http: { enabled: false, host: '127.0.0.1', port: 0 }, supervisor: {}, ...extra } as ResolvedConfig;
}

describe('reload plan', () => {
  const bed = useTestbed();

  it('adds, removes, replaces a changed entry, renews a changed token or enabled, keeps the rest', () => {
    const running = config([bot('a'), bot('b'), bot('c'), bot('d'), bot('e')]);
    const next = config([bot('a', { admins: [1] }), bot('c', { token: '1:other' }), bot('d'), bot('e', { enabled: false }), bot('f')]);
    const plan = planReload({ running, next, moduleOf: () => undefined, runningCode: () => 'none', target: 'all' });
    expect(Object.fromEntries(plan.actions)).to.deep.equal({ a: 'replace', b: 'remove', c: 'renew', d: 'keep', e: 'renew', f: 'add' });
    expect(plan.needsRestart).to.deep.equal([]);
    // Code that differs from what the running process loaded is a replacement too.
    expect(planReload({ running, next, moduleOf: () => undefined, runningCode: () => 'older', target: 'all' }).actions.get('d')).to.equal('replace');
  });

  it('a changed module file is a replacement; one named bot is replaced even unchanged; other bots are out of scope', () => {
    const file = path.join(bed.temp.make('reload-plan-'), 'bot.js');
    writeFileSync(file, 'v1');
    const loaded = codeFingerprint(file);
    const running = config([bot('a'), bot('b')]);
    expect(planReload({ running, next: running, moduleOf: () => file, runningCode: () => loaded, target: 'all' }).actions.get('a')).to.equal('keep');
    writeFileSync(file, 'v2');
    expect(planReload({ running, next: running, moduleOf: () => file, runningCode: () => loaded, target: 'all' }).actions.get('a')).to.equal('replace');
    const one = planReload({ running, next: running, moduleOf: () => undefined, runningCode: () => 'none', target: 'b' });
    expect(Object.fromEntries(one.actions)).to.deep.equal({ b: 'replace' });
  });

  it('names the supervisor-wide settings that need a restart', () => {
    const running = config([bot('a')]);
    const next = config([bot('a')], { dataDir: '/elsewhere', supervisor: { stopGraceMs: 1 } as ResolvedConfig['supervisor'] });
    expect(planReload({ running, next, moduleOf: () => undefined, runningCode: () => 'none', target: 'all' }).needsRestart).to.deep.equal(['dataDir', 'supervisor']);
  });
});
