/**
 * Real processes for tests: every process a test starts goes through a tracker, which records
 * its `ProcessRef` and tree-kills all of them in `afterEach`, whatever happened in the test.
 */
import { type ChildProcess, type ForkOptions, fork, type SpawnOptions, spawn } from 'node:child_process';
import { findByCookie, killTree, newTreeCookie, type ProcessRef, refOf, withTreeCookie } from '@botvisor/core';

export class ProcessTracker {
  /** Every process started by this tracker carries this cookie, so escaped descendants are found too. */
  readonly cookie = newTreeCookie();
  private readonly refs: ProcessRef[] = [];
  private readonly children: ChildProcess[] = [];

  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { stdio: 'ignore', ...options, env: withTreeCookie(options.env ?? process.env, this.cookie) });
    return this.track(child);
  }

  fork(modulePath: string, args: string[] = [], options: ForkOptions = {}): ChildProcess {
    const child = fork(modulePath, args, { ...options, env: withTreeCookie(options.env ?? process.env, this.cookie) });
    return this.track(child);
  }

  /** Records a process started some other way. */
  adopt(ref: ProcessRef): void {
    this.refs.push(ref);
  }

  private track(child: ChildProcess): ChildProcess {
    this.children.push(child);
    if (child.pid !== undefined) {
      const ref = refOf(child.pid);
      if (ref !== undefined) this.refs.push(ref);
    }
    child.on('error', () => undefined); // reported through exit codes in the tests themselves
    return child;
  }

  /** Tree-kills everything this tracker started (and anything carrying its cookie). */
  async killAll(): Promise<void> {
    const refs = this.refs.splice(0);
    for (const ref of refs) await killTree(ref, { graceMs: 200, deadlineMs: 5000, cookie: this.cookie });
    if (refs.length === 0) {
      // Nothing tracked by ref (e.g. it exited at once), but escaped grandchildren may carry the cookie.
      for (const p of findByCookie(this.cookie)) await killTree(p, { graceMs: 200, deadlineMs: 5000, cookie: this.cookie });
    }
    for (const child of this.children.splice(0)) {
      if (child.connected) child.disconnect();
    }
  }
}

/** Resolves with the exit code (or signal name) of a child process. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal as NodeJS.Signals))));
}
