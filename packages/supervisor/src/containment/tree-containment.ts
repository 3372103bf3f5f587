/**
 * Contains each bot's process tree in a cgroup v2 group of its own, named by the bot's tree cookie
 * (`<own cgroup>/botvisor/<hash of the cookie>`). The kernel puts every descendant in its parent's group, and
 * neither `setsid`, a double fork nor `env -i` takes a process out of it, so sweeping the group
 * after a run finds what the cookie scan cannot. Where the machine offers no writable cgroup v2
 * group (cgroup-base.ts says why), the tree cookie is the only guarantee, and a descendant that
 * clears its environment and leaves its process group can outlive the bot; `doctor` says so.
 *
 * One instance per process (`treeContainment()`): the probe runs once, and every user of the
 * groups — the fork wrapper, the sweep after a run, the reaper of a previous run — sees the same.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TREE_COOKIE_VAR } from '@botvisor/core';
import type { ForkBot } from '../bot/bot-process.js';
import { type CgroupBase, findCgroupBase } from './cgroup-base.js';

export class TreeContainment {
  constructor(private readonly base: CgroupBase) {}

  /** True when bots' trees are held in cgroups; false when only the tree cookie holds them. */
  get contained(): boolean {
    return this.base.usable;
  }

  /** One sentence for the log and `doctor`: which guarantee holds, and why when it is the weaker one. */
  describe(): string {
    return this.base.usable
      ? `each bot's process tree is held in a cgroup v2 group under ${path.join(this.base.dir, 'botvisor')}: no descendant outlives its bot`
      : `bots' process trees are tracked by the tree cookie only (${this.base.reason}): a descendant that clears its environment and leaves its process group can outlive its bot`;
  }

  /** The group's folder: named by a hash of the cookie, which may hold any character of a bot's name. */
  private groupOf(cookie: string): string | undefined {
    return this.base.usable ? path.join(this.base.dir, 'botvisor', createHash('sha256').update(cookie).digest('hex').slice(0, 24)) : undefined;
  }

  /** Moves `pid` (just forked, before it can start anything) into the group of `cookie`. False if it could not. */
  adopt(cookie: string, pid: number): boolean {
    const group = this.groupOf(cookie);
    if (group === undefined) return false;
    mkdirSync(group, { recursive: true });
    writeFileSync(path.join(group, 'cgroup.procs'), `${pid}\n`);
    return true;
  }

  /** The live processes in the group of `cookie` (none when there is no group). */
  pids(cookie: string): number[] {
    const group = this.groupOf(cookie);
    if (group === undefined) return [];
    try {
      return readFileSync(path.join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /**
   * Ends everything in the group of `cookie`: SIGTERM, `graceMs` to exit, then the kernel's
   * `cgroup.kill` (SIGKILL to each process where that file is missing, before Linux 5.14); then
   * removes the group. Resolves with how many processes were in it.
   */
  async sweep(cookie: string, graceMs = 500, deadlineMs = 5000): Promise<number> {
    const group = this.groupOf(cookie);
    if (group === undefined || !existsSync(group)) return 0;
    const found = this.pids(cookie);
    signalAll(found, 'SIGTERM');
    const deadline = Date.now() + deadlineMs;
    const graceEnd = Date.now() + graceMs;
    while (this.pids(cookie).length > 0 && Date.now() < graceEnd) await sleep(25);
    if (this.pids(cookie).length > 0) {
      try {
        writeFileSync(path.join(group, 'cgroup.kill'), '1\n');
      } catch {
        signalAll(this.pids(cookie), 'SIGKILL');
      }
    }
    while (this.pids(cookie).length > 0 && Date.now() < deadline) await sleep(25);
    try {
      rmdirSync(group);
      rmdirSync(path.dirname(group)); // the shared `botvisor` group goes once the last bot's has gone
    } catch {
      // not empty yet (another bot's group, a process that would not die): the next sweep retries
    }
    return found.length;
  }

  /** `fork`, with each forked bot moved into the group of the tree cookie in its environment. */
  wrapFork(fork: ForkBot, onError: (err: unknown) => void): ForkBot {
    return (entry, args, env) => {
      const child = fork(entry, args, env);
      const cookie = env[TREE_COOKIE_VAR];
      if (child.pid !== undefined && cookie !== undefined) {
        try {
          this.adopt(cookie, child.pid);
        } catch (err) {
          onError(err);
        }
      }
      return child;
    };
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

let shared: TreeContainment | undefined;

/** The process's containment, probed on first use. */
export function treeContainment(): TreeContainment {
  shared ??= new TreeContainment(findCgroupBase());
  return shared;
}
