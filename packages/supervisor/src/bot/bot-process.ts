/**
 * One forked bot process, from fork to exit: the OS-level facts of a single run. Its stdout and
 * stderr become log lines; its IPC messages go to one handler; `send` or `signal` never throw at
 * a process that is already gone; `exited` settles once the process has. It knows nothing of
 * states or restarts: a ManagedBot forks a new one for every run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { type IpcMessage, type Logger, type ProcessRef, refOf, sendIpc } from '@botvisor/core';
import { LineSplitter } from './line-splitter.js';

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
  /** The bot's name, on every output line. */
  bot: string;
  /** Where the process's stdout (info) and stderr (warning) lines go. */
  output: Logger;
  logger: Logger;
}

export class BotProcess {
  /** Undefined when the fork itself failed (no pid). */
  readonly ref: ProcessRef | undefined;
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;

  constructor(o: BotProcessOptions) {
    const child = o.fork(o.entry, o.args, o.env);
    this.child = child;
    this.ref = child.pid === undefined ? undefined : refOf(child.pid);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    pipeLines(child, o.bot, o.output);
    child.on('error', (err) => {
      // Also raised for a failed IPC write (EPIPE) to a bot that is already exiting: not a fork failure.
      if (child.pid === undefined) o.logger.error('could not fork the bot', { err });
      else o.logger.warning('IPC with the bot failed; it is probably exiting', { pid: child.pid, err });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
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

function pipeLines(child: ChildProcess, bot: string, output: Logger): void {
  for (const [stream, level] of [[child.stdout, 'info'], [child.stderr, 'warning']] as const) {
    const splitter = new LineSplitter((line) => {
      if (line.trim() !== '') output[level](line, { bot, stream: level === 'info' ? 'stdout' : 'stderr' });
    });
    stream?.on('data', (chunk: Buffer) => splitter.push(chunk)).on('end', () => splitter.end());
  }
}
