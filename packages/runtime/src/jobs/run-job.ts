/**
 * `runJob(spec)`: runs one CLI tool as a job, from spawn to a result, with its end guaranteed —
 * every process of the job dead, its temp file gone — on every path: success, failure, timeout,
 * idle timeout, cancel, a tool that cannot be started.
 *
 * argv arrays only, never a shell; `{name}` placeholders are filled and checked first (see
 * arguments/). The tool runs in its own process group (`detached`), with an allow-listed
 * environment carrying the tree cookie and its own job marker (see environment/). Its output is
 * drained concurrently from the first byte (io/), its deadlines watched (terminate/deadlines.ts),
 * and a failure comes back as a sentence built from stderr (result/). The runtime's IPC link is
 * told the moment the process starts and ends (`report`), so the supervisor can reap it even if
 * this bot dies. What each part does is in its own file; this one only sequences them.
 *
 * A run is one phase (`starting → running → ended`, or `starting → ended` when the program
 * cannot be started) plus one termination reason (`exited` until something stops it).
 */
import { type ChildProcess, spawn as nodeSpawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { type IpcMessageOf, type Logger, type ProcessRef, readProcess, settlesWithin } from '@botvisor/core';
import { ArgumentError, fillArgv } from './arguments/fill-argv.js';
import { jobEnv, newJobMarker, treeCookieFor } from './environment/job-env.js';
import { OutputDrain, type OutputStreamName } from './io/drain-output.js';
import { OutputSpool } from './io/output-spool.js';
import { failureSentence } from './result/failure-sentence.js';
import { type DeadlineKind, type DeadlineTimers, JobDeadlines } from './terminate/deadlines.js';
import { jobMembers } from './terminate/job-members.js';
import { stopJobTree } from './terminate/stop-job-tree.js';

export type JobProcessReport = IpcMessageOf<'child-spawned'> | IpcMessageOf<'child-exited'>;

export interface JobSpec {
  /** Names the job in reports, logs and its temp file. Default: a random id. */
  id?: string;
  /** What the failure sentence calls the program. Default: the file name of argv[0]. */
  name?: string;
  /** Program and arguments; a template with `{name}` placeholders when `args` is given. */
  argv: readonly string[];
  /** Values for the placeholders; each must match its pattern in `patterns` in full. */
  args?: Readonly<Record<string, string>>;
  patterns?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Variables copied from the bot's environment (default: PATH, HOME, locale, TZ…) and set explicitly. */
  env?: { allow?: readonly string[]; set?: Readonly<Record<string, string>> };
  /** Whole-job limit. Default 10 minutes; 0 = none. */
  timeoutMs?: number;
  /** Stop the job after this long without output. Default none. */
  idleTimeoutMs?: number;
  /** SIGTERM → SIGKILL when stopping the tree. Default 3000 ms. */
  killGraceMs?: number;
  /** Combined output kept in memory for the chat. Default 16 KiB. */
  tailBytes?: number;
  /** Where the full-output temp file goes. Default the OS temp folder. */
  spoolDir?: string;
  /** Keep the full output in a temp file (default true). A long-lived session keeps its own per-turn logs instead. */
  spool?: boolean;
  /** `pipe`: the job reads what `handle.stdin` writes (a session's agent). Default: no input. */
  stdin?: 'ignore' | 'pipe';
  /** Default: the supervisor's cookie from the environment, or one for this bot process. */
  treeCookie?: string;
  /** Aborting it is the same as `cancel()`. */
  signal?: AbortSignal;
  /** Every chunk as it arrives (for streaming to a chat). Must be quick; errors are contained. */
  onOutput?: (chunk: Buffer, stream: OutputStreamName) => void;
  /** The job's process started. */
  onSpawn?: (process: ProcessRef, marker: string) => void;
  /**
   * Runs after the job ended, while its full log still exists (e.g. to send it as a document);
   * the temp file is removed when this settles, whatever it does. `log` is undefined when no
   * log file could be created.
   */
  onEnded?: (result: JobResult, log: JobLog | undefined) => Promise<void> | void;
  /** `child-spawned` / `child-exited` for the supervisor. */
  report?: (message: JobProcessReport) => void;
}

export interface JobLog {
  path: string;
  bytes: number;
  /** False when spooling failed part-way (disk full…): the file holds only the beginning. */
  complete: boolean;
}

export interface JobResult {
  id: string;
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** stdout + stderr. */
  outputBytes: number;
  timedOut: boolean;
  timeoutKind?: DeadlineKind;
  cancelled: boolean;
  /** Exit code 0, no deadline hit, not cancelled. */
  ok: boolean;
  /** A sentence for a person when not ok. */
  failure?: string;
  /** The last bytes of combined output, as text. */
  tail: string;
  stderrTail: string;
  /** Processes of the job still alive after the deadline (permission denied…). Normally 0. */
  survivors: number;
}

export interface JobHandle {
  readonly id: string;
  /** The job's marker (its `BOTVISOR_JOB` value). */
  readonly marker: string;
  readonly result: Promise<JobResult>;
  /** The root process, once started. */
  readonly process: ProcessRef | undefined;
  /** The job's input, when started with `stdin: 'pipe'`; its errors (EPIPE from a dead job) are contained. */
  readonly stdin?: Writable | undefined;
  readonly outputBytes: number;
  /** The current tail of output, as text. */
  tail(): string;
  /** Stops the job's whole tree (for `/stop`); the result says `cancelled`. Idempotent. `graceMs` overrides the kill grace. */
  cancel(options?: { graceMs?: number }): void;
}

export interface RunJobDeps {
  spawn?: typeof nodeSpawn;
  /** The environment the allow list copies from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  timers?: DeadlineTimers;
  logger?: Logger;
}

const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_KILL_GRACE_MS = 3000;
const DEFAULT_TAIL_BYTES = 16 * 1024;
const STDERR_TAIL_BYTES = 4 * 1024;
/** After the root exits, how long its pipes may stay open before we stop reading them. */
const PIPE_CLOSE_WAIT_MS = 2000;

let counter = 0;

/** Starts the job. Throws `ArgumentError` (before anything runs) when an argument does not fit its pattern. */
export function runJob(spec: JobSpec, deps: RunJobDeps = {}): JobHandle {
  const argv = spec.args !== undefined ? fillArgv(spec.argv, spec.args, spec.patterns ?? {}) : [...spec.argv];
  if (argv.length === 0 || argv[0] === undefined || argv[0] === '') throw new ArgumentError('a job needs at least a program name');
  return new JobRun(spec, argv, deps).handle;
}

/**
 * Where a run is:
 *  - `starting`: `spawn` was called; the OS has not confirmed the process yet.
 *  - `running`: the process started (its `spawn` event); the supervisor was told (`child-spawned`).
 *  - `ended`: it exited, or it could not be started; the result is being settled.
 * Stopping is not a phase of its own: a stop may be asked for before the OS confirms the start,
 * and the start must still be reported then (the `child-exited` report pairs with it).
 */
type RunPhase = 'starting' | 'running' | 'ended';

/**
 * Why a run ended: on its own (`exited`, whatever its exit code), never started (`not-started`),
 * or stopped by a deadline (`timeout`, `idle-timeout`) or on request (`cancelled`). When more than
 * one applies (a /stop during a timeout's kill grace), the strongest stands: a person's request
 * over a deadline, a deadline over a start failure, anything over `exited`.
 */
type TerminationReason = 'exited' | 'not-started' | 'timeout' | 'idle-timeout' | 'cancelled';

const STRENGTH: Record<TerminationReason, number> = { exited: 0, 'not-started': 1, timeout: 2, 'idle-timeout': 2, cancelled: 3 };
const REASON_OF_DEADLINE: Record<DeadlineKind, TerminationReason> = { total: 'timeout', idle: 'idle-timeout' };
const DEADLINE_OF_REASON: Partial<Record<TerminationReason, DeadlineKind>> = { timeout: 'total', 'idle-timeout': 'idle' };

class JobRun {
  readonly handle: JobHandle;
  private readonly id: string;
  private readonly marker: string;
  private readonly started = performance.now();
  private readonly child: ChildProcess;
  private readonly spool: OutputSpool | undefined;
  private readonly drain: OutputDrain;
  private readonly deadlines: JobDeadlines;
  private readonly killGraceMs: number;
  private phase: RunPhase = 'starting';
  private reason: TerminationReason = 'exited';
  /** The root process, read at spawn (undefined when the OS gave no pid: it could not start). */
  private ref: ProcessRef | undefined;
  /** Why the program could not be started (an errno code, or ENOCWD), for the failure sentence. */
  private startError: string | undefined;
  /** The tree stop in progress, shared by every reason that asks for it. */
  private treeStop: Promise<{ survivors: ProcessRef[] }> | undefined;
  /** The result being settled, once the run ended. */
  private settling: Promise<JobResult> | undefined;

  constructor(
    private readonly spec: JobSpec,
    private readonly argv: string[],
    private readonly deps: RunJobDeps,
  ) {
    this.id = spec.id ?? `job-${process.pid}-${++counter}`;
    this.marker = newJobMarker(this.id);
    this.killGraceMs = spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.spool = this.openSpool();
    const env = jobEnv(deps.env ?? process.env, {
      ...(spec.env?.allow !== undefined ? { allow: spec.env.allow } : {}),
      ...(spec.env?.set !== undefined ? { set: spec.env.set } : {}),
      treeCookie: spec.treeCookie ?? treeCookieFor(deps.env ?? process.env),
      marker: this.marker,
    });
    const spawn = deps.spawn ?? nodeSpawn;
    try {
      this.child = spawn(argv[0] as string, argv.slice(1), {
        cwd: spec.cwd,
        env,
        detached: true, // its own process group (and session): killable as one, away from the bot's group
        stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      });
    } catch (err) {
      void this.spool?.remove(); // nothing started: nothing may be left behind either
      throw err;
    }
    // Read the identity at once: a quick job may be a zombie (unreadable as alive) a moment later.
    if (this.child.pid !== undefined) {
      const info = readProcess(this.child.pid);
      this.ref = { pid: this.child.pid, startTime: info?.startTime ?? Date.now() };
    }
    this.deadlines = new JobDeadlines({
      timeoutMs: spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(spec.idleTimeoutMs !== undefined ? { idleTimeoutMs: spec.idleTimeoutMs } : {}),
      onExpire: (kind) => {
        this.endBecause(REASON_OF_DEADLINE[kind]);
        void this.terminate();
      },
      ...(deps.timers !== undefined ? { timers: deps.timers } : {}),
    });
    this.drain = new OutputDrain({
      stdout: this.child.stdout as NonNullable<ChildProcess['stdout']>,
      stderr: this.child.stderr as NonNullable<ChildProcess['stderr']>,
      spool: this.spool,
      tailBytes: spec.tailBytes ?? DEFAULT_TAIL_BYTES,
      stderrTailBytes: STDERR_TAIL_BYTES,
      onActivity: () => this.deadlines.activity(),
      ...(spec.onOutput !== undefined ? { onOutput: spec.onOutput } : {}),
    });

    const result = new Promise<JobResult>((resolve) => {
      this.child.once('spawn', () => this.onSpawned());
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        if (this.child.pid === undefined || this.phase === 'starting') {
          this.startError = err.code === 'ENOENT' && spec.cwd !== undefined && !existsSync(spec.cwd) ? 'ENOCWD' : (err.code ?? err.message);
          this.endBecause('not-started');
          if (this.child.pid === undefined) void this.finish(null, null).then(resolve);
        } else {
          deps.logger?.warning('job process error', { jobId: this.id, err });
        }
      });
      this.child.once('exit', (code, signal) => void this.finish(code, signal).then(resolve));
    });

    if (spec.signal !== undefined) {
      if (spec.signal.aborted) this.cancel();
      else spec.signal.addEventListener('abort', () => this.cancel(), { once: true });
    }

    // A write to a job that just died fails with EPIPE, asynchronously: contained here, the exit tells the rest.
    this.child.stdin?.on('error', (err) => deps.logger?.info('job input closed', { jobId: this.id, err }));
    const run = this;
    this.handle = {
      id: this.id,
      marker: this.marker,
      result,
      get process() {
        return run.ref;
      },
      stdin: this.child.stdin ?? undefined,
      get outputBytes() {
        return run.drain.bytes;
      },
      tail: () => this.drain.tail.text(),
      cancel: (options) => this.cancel(options?.graceMs),
    };
  }

  private openSpool(): OutputSpool | undefined {
    if (this.spec.spool === false) return undefined;
    try {
      return new OutputSpool(this.spec.spoolDir ?? path.join(os.tmpdir(), 'botvisor-jobs'), this.id);
    } catch (err) {
      this.deps.logger?.warning('cannot create the job log file; the job runs without a full log', { jobId: this.id, err });
      return undefined;
    }
  }

  private onSpawned(): void {
    if (this.ref === undefined || this.phase !== 'starting') return;
    this.phase = 'running';
    const command = path.basename(this.argv[0] as string);
    this.spec.report?.({ type: 'child-spawned', child: { ...this.ref, command }, jobId: this.id });
    try {
      this.spec.onSpawn?.(this.ref, this.marker);
    } catch (err) {
      this.deps.logger?.warning('onSpawn listener failed', { jobId: this.id, err });
    }
  }

  private cancel(graceMs?: number): void {
    if (this.phase === 'ended' || this.reason === 'cancelled') return;
    this.endBecause('cancelled');
    void this.terminate(graceMs);
  }

  private endBecause(reason: TerminationReason): void {
    if (STRENGTH[reason] > STRENGTH[this.reason]) this.reason = reason;
  }

  /** Stops the whole tree once, however many reasons ask for it. */
  private terminate(graceMs = this.killGraceMs): Promise<{ survivors: ProcessRef[] }> {
    this.treeStop ??= stopJobTree(this.ref, this.marker, { graceMs });
    return this.treeStop;
  }

  /** Once, from 'exit' (or from 'error' when the program never started). */
  private finish(code: number | null, signal: NodeJS.Signals | null): Promise<JobResult> {
    if (this.settling !== undefined) return this.settling;
    // The phase it ended in says whether the supervisor was told of the start (and so of the end).
    const reported = this.phase === 'running';
    this.phase = 'ended';
    this.settling = this.settle(code, signal, reported);
    return this.settling;
  }

  private async settle(code: number | null, signal: NodeJS.Signals | null, startReported: boolean): Promise<JobResult> {
    const durationMs = Math.round(performance.now() - this.started);
    this.deadlines.stop();
    if (startReported && this.ref !== undefined) {
      this.spec.report?.({ type: 'child-exited', child: this.ref, code, signal, jobId: this.id });
    }

    // The root is gone; what it left behind (a background child still holding our pipes, a
    // setsid daemon) goes too: a job's processes never outlive the job.
    let survivors: ProcessRef[] = [];
    if (this.treeStop !== undefined) survivors = (await this.treeStop).survivors;
    if (this.ref !== undefined && jobMembers(this.ref.pid, this.marker).length > 0) {
      this.deps.logger?.info('the job left processes behind; stopping them', { jobId: this.id });
      this.treeStop = stopJobTree(this.ref, this.marker, { graceMs: Math.min(this.killGraceMs, 1000) });
      survivors = (await this.treeStop).survivors;
    }
    if (survivors.length > 0) this.deps.logger?.error('processes of a job survived SIGKILL', { jobId: this.id, survivors });

    if (!(await settlesWithin(this.drain.ended, PIPE_CLOSE_WAIT_MS))) this.drain.destroy();
    await this.spool?.end();
    if (this.drain.error !== undefined) this.deps.logger?.warning('a job output listener failed', { jobId: this.id, err: this.drain.error });

    const timeoutKind = DEADLINE_OF_REASON[this.reason];
    const timedOut = timeoutKind !== undefined;
    const cancelled = this.reason === 'cancelled';
    const stderrTail = this.drain.stderrTail.text();
    const failure = failureSentence({
      program: this.spec.name ?? path.basename(this.argv[0] as string),
      code,
      signal,
      timedOut,
      ...(timeoutKind !== undefined ? { timeoutKind } : {}),
      timeoutMs: this.spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(this.spec.idleTimeoutMs !== undefined ? { idleTimeoutMs: this.spec.idleTimeoutMs } : {}),
      cancelled,
      ...(this.startError !== undefined ? { spawnError: this.startError } : {}),
      stderrTail,
    });
    const result: JobResult = {
      id: this.id,
      argv: this.argv,
      code,
      signal,
      durationMs,
      outputBytes: this.drain.bytes,
      timedOut,
      ...(timeoutKind !== undefined ? { timeoutKind } : {}),
      cancelled,
      ok: failure === undefined,
      ...(failure !== undefined ? { failure } : {}),
      tail: this.drain.tail.text(),
      stderrTail,
      survivors: survivors.length,
    };

    try {
      const log = this.spool !== undefined ? { path: this.spool.path, bytes: this.spool.bytes, complete: this.spool.error === undefined } : undefined;
      await this.spec.onEnded?.(result, log);
    } catch (err) {
      this.deps.logger?.warning('the job log handler failed', { jobId: this.id, err });
    } finally {
      await this.spool?.remove().catch((err: unknown) => this.deps.logger?.error('cannot remove a job log file', { jobId: this.id, file: this.spool?.path, err }));
    }
    return result;
  }
}
