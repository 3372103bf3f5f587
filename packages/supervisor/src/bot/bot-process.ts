/**
 * One forked bot process, from fork to exit: the OS-level facts of a single run. Its stdout and
 * stderr become lines of the bot's output log, and its stderr yields the reason it gives for
 * failing (stderr-reason.ts); its IPC messages go to one handler; `send` or `signal` never throw
 * at a process that is already gone; `exited` settles once the process has. It knows nothing of
 * states or restarts: a ManagedBot forks a new one for every run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Readable } from 'node:stream';
import { type IpcMessage, type Logger, type ProcessRef, refOf, sendIpc } from '@botvisor/core';
import { LineSplitter } from './line-splitter.js';
import { StderrReason } from './stderr-reason.js';

/** Starts the bot's process; injected so tests and tools can fork something else. */
export type ForkBot = (entry: string, args: string[], env: NodeJS.ProcessEnv) => ChildProcess;

/**
 * The default: its own process group, so a Ctrl-C in the terminal reaches only the supervisor,
 * which then stops the bots in order (send-only first, pollers last), and a tree kill can signal
 * the whole group.
 */
export const forkDetached: ForkBot = (entry, args, env) => fork(entry, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BotProcessOptions {
  fork: ForkBot;
  entry: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Where the process's stdout (info) and stderr (warning) lines go: the bot's output log. */
  output: Logger;
  logger: Logger;
}

export class BotProcess {
  /** Undefined when the fork itself failed (no pid). */
  readonly ref: ProcessRef | undefined;
  readonly exited: Promise<ProcessExit>;
  /** Settles once stdout and stderr have ended: their last lines may arrive after the exit. */
  readonly outputEnded: Promise<void>;
  private readonly child: ChildProcess;
  private readonly stderrReason = new StderrReason();

  constructor(o: BotProcessOptions) {
    const child = o.fork(o.entry, o.args, o.env);
    this.child = child;
    this.ref = child.pid === undefined ? undefined : refOf(child.pid);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.outputEnded = Promise.all([
      pipeLines(child.stdout, (line) => o.output.info(line, { stream: 'stdout' })),
      pipeLines(child.stderr, (line) => {
        o.output.warning(line, { stream: 'stderr' });
        this.stderrReason.see(line);
      }),
    ]).then(() => undefined);
    child.on('error', (err) => {
      // Also raised for a failed IPC write (EPIPE) to a bot that is already exiting: not a fork failure.
      if (child.pid === undefined) o.logger.error('could not fork the bot', { err });
      else o.logger.warning('IPC with the bot failed; it is probably exiting', { pid: child.pid, err });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The reason the process gave on stderr for failing (its `botvisor-bot:` line, or its last meaningful line). */
  get reason(): string | undefined {
    return this.stderrReason.reason;
  }

  /** Hands every IPC message of this process to `handler` (attach it before the next tick: none is buffered). */
  onMessage(handler: (raw: unknown) => void): void {
    this.child.on('message', handler);
  }

  send(message: IpcMessage): void {
    sendIpc(this.child, message);
  }

  signal(sig: NodeJS.Signals): void {
    try {
      this.child.kill(sig);
    } catch {
      // already gone
    }
  }
}

/** Calls `onLine` with every non-blank line of `stream` (the last one even without a newline; each line bounded by the LineSplitter); settles when it ends. */
function pipeLines(stream: Readable | null, onLine: (line: string) => void): Promise<void> {
  if (stream === null) return Promise.resolve();
  const splitter = new LineSplitter((line) => {
    if (line.trim() !== '') onLine(line);
  });
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  return new Promise((resolve) => {
    let ended = false;
    const done = (): void => {
      if (ended) return;
      ended = true;
      splitter.end();
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}
