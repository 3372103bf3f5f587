/**
 * Finds where this process may create cgroup v2 groups: the cgroup2 mount (`/sys/fs/cgroup`, or
 * `/sys/fs/cgroup/unified` on a hybrid machine) joined with this process's own v2 group
 * (`0::/…` in /proc/self/cgroup), probed by creating and removing a child group. Without a
 * cgroup2 mount, or without write access to the own group (a systemd service without
 * `Delegate=yes`, an unprivileged container), it says why, for `doctor` and the log.
 */
import { accessSync, constants, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';

export type CgroupBase = { usable: true; dir: string } | { usable: false; reason: string };

/** Parses /proc/self/mountinfo for the cgroup2 mount: its mount point and the root it shows. */
function cgroup2Mount(mountinfo: string): { mountPoint: string; root: string } | undefined {
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after === undefined || !after.startsWith('cgroup2 ')) continue;
    const fields = (before ?? '').split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root !== undefined && mountPoint !== undefined) return { mountPoint: unescapeMount(mountPoint), root: unescapeMount(root) };
  }
  return undefined;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Finds and probes the base; `proc` is injectable for tests of the parsing. */
export function findCgroupBase(proc: { mountinfo: () => string; cgroup: () => string } = { mountinfo: () => readFileSync('/proc/self/mountinfo', 'utf8'), cgroup: () => readFileSync('/proc/self/cgroup', 'utf8') }): CgroupBase {
  if (process.platform !== 'linux') return { usable: false, reason: `cgroups exist only on Linux (this is ${process.platform})` };
  let mount: { mountPoint: string; root: string } | undefined;
  let own: string | undefined;
  try {
    mount = cgroup2Mount(proc.mountinfo());
    own = /^0::(.*)$/m.exec(proc.cgroup())?.[1];
  } catch (err) {
    return { usable: false, reason: `could not read /proc (${(err as Error).message})` };
  }
  if (mount === undefined || own === undefined) return { usable: false, reason: 'no cgroup v2 hierarchy is mounted (cgroup v1 only)' };
  const relative = mount.root !== '/' && own.startsWith(mount.root) ? own.slice(mount.root.length) : own;
  const dir = path.join(mount.mountPoint, relative);
  const probe = path.join(dir, `botvisor-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    try {
      accessSync(path.join(probe, 'cgroup.procs'), constants.W_OK);
    } finally {
      rmdirSync(probe);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { usable: false, reason: `this process's cgroup ${dir} is not writable (${code}); under systemd set Delegate=yes in the unit` };
  }
  return { usable: true, dir };
}
