/**
 * Drains both output pipes of a job concurrently from the first byte, so no amount of output can
 * fill a pipe to deadlock the job (the classic "parent waits for exit, child waits for pipe
 * space"). Each chunk goes to the spool (full log), to bounded tails (the chat, the failure
 * sentence), to the activity clock (idle timeout) and to an optional listener. The only time a
 * stream is paused is while the spool's disk buffer is full, and it resumes on drain.
 */
import type { Readable } from 'node:stream';
import type { OutputSpool } from './output-spool.js';
import { TailBuffer } from './tail-buffer.js';

export type OutputStreamName = 'stdout' | 'stderr';

export interface DrainOptions {
  stdout: Readable;
  stderr: Readable;
  spool: OutputSpool | undefined;
  /** Bytes of combined output kept for the chat. */
  tailBytes: number;
  /** Bytes of stderr kept for the failure sentence. */
  stderrTailBytes: number;
  onActivity: () => void;
  onOutput?: (chunk: Buffer, stream: OutputStreamName) => void;
}

export class OutputDrain {
  readonly tail: TailBuffer;
  readonly stderrTail: TailBuffer;
  /** Resolves when both streams have ended (or were destroyed). */
  readonly ended: Promise<void>;
  private readonly streams: Readable[];
  private listenerError: unknown;

  constructor(private readonly options: DrainOptions) {
    this.tail = new TailBuffer(options.tailBytes);
    this.stderrTail = new TailBuffer(options.stderrTailBytes);
    this.streams = [options.stdout, options.stderr];
    this.ended = Promise.all([this.attach(options.stdout, 'stdout'), this.attach(options.stderr, 'stderr')]).then(() => undefined);
    options.spool?.onDrain(() => {
      for (const s of this.streams) if (s.isPaused()) s.resume();
    });
  }

  /** Total output bytes (stdout + stderr). */
  get bytes(): number {
    return this.tail.total;
  }

  /** The first error a listener threw, if any (a listener must never break draining). */
  get error(): unknown {
    return this.listenerError;
  }

  /** Stops reading: for streams held open by a leftover grandchild after the job was cleaned up. */
  destroy(): void {
    for (const s of this.streams) s.destroy();
  }

  private attach(stream: Readable, name: OutputStreamName): Promise<void> {
    const { spool, onActivity, onOutput } = this.options;
    stream.on('data', (chunk: Buffer) => {
      onActivity();
      this.tail.write(chunk);
      if (name === 'stderr') this.stderrTail.write(chunk);
      if (spool !== undefined && !spool.write(chunk)) stream.pause();
      if (onOutput !== undefined) {
        try {
          onOutput(chunk, name);
        } catch (err) {
          this.listenerError ??= err;
        }
      }
    });
    return new Promise((resolve) => {
      stream.once('close', resolve);
      stream.once('end', resolve);
      stream.once('error', () => resolve());
    });
  }
}
