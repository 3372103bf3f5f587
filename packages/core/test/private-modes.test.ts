import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { acquireOwnedLock, openStore } from '../src/index.js';

/** Every folder and file under `root` with its permission bits (symlinks skipped). */
function modesUnder(root: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [];
  for (const name of readdirSync(root)) {
    const p = path.join(root, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory()) out.push(...modesUnder(p));
  }
  return out;
}

describe('private modes: what botvisor writes is 0600, its folders 0700, whatever the umask', () => {
  const temp = new TempDirs();
  let previousUmask: number;
  beforeEach(() => {
    previousUmask = process.umask(0); // the widest umask: every mode must come from botvisor itself
  });
  afterEach(() => {
    process.umask(previousUmask);
    temp.removeAll();
  });

  it('a store: its folders, the file, its backups, its writer lock and temp files', async () => {
    const root = temp.make();
    const store = await openStore<{ users: string[] }>({ file: path.join(root, 'data', 'bots', 'main', 'jobs.json'), defaults: () => ({ users: [] }), backupDir: path.join(root, 'data', 'backups', 'main') });
    store.update((d) => void d.users.push('secret argument'));
    await store.flush();
    await store.backupNow();
    const whileOpen = modesUnder(root);
    await store.close();
    const entries = [...whileOpen, ...modesUnder(root)];
    expect(entries.filter((e) => !e.dir).map((e) => path.basename(e.path))).to.include.members(['jobs.json', 'jobs.json.owner.json']);
    expect(entries.filter((e) => e.dir).map((e) => path.relative(root, e.path))).to.include.members(['data', 'data/bots', 'data/bots/main', 'data/backups/main', 'data/bots/main/jobs.json.lock']);
    for (const e of entries) expect(e.mode.toString(8), path.relative(root, e.path)).to.equal(e.dir ? '700' : '600');
  });

  it('an owned lock (the supervisor instance lock, polling locks): folder, lock and owner record', async () => {
    const root = temp.make();
    const lock = await acquireOwnedLock({ lockPath: path.join(root, 'data', 'supervisor', 'supervisor.lock'), role: 'supervisor', timeoutMs: 0 });
    const entries = modesUnder(root);
    await lock.release();
    expect(entries.map((e) => path.relative(root, e.path))).to.include.members(['data', 'data/supervisor', 'data/supervisor/supervisor.lock']);
    for (const e of entries) expect(e.mode.toString(8), path.relative(root, e.path)).to.equal(e.dir ? '700' : '600');
  });
});
