/**
 * The `lines` protocol, for REPL-like programs (python3 -i, a shell, a bc): each message is
 * written to stdin as one line (line breaks inside it become spaces), and the reply is everything
 * the program prints, stdout and stderr, until it has been quiet for `turnIdleMs`. A program
 * that prints nothing ends its turn `turnIdleMs` after the message was written.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SessionProtocol, TurnListener } from './protocol.js';

export interface QuietTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realQuietTimers: QuietTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class LinesProtocol implements SessionProtocol {
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private listener: TurnListener | undefined;
  private quiet: unknown;

  constructor(
    private readonly turnIdleMs: number,
    private readonly timers: QuietTimers = realQuietTimers,
  ) {}

  encode(message: string): string {
    return `${message.replace(/\r?\n|\r/g, ' ')}\n`;
  }

  beginTurn(listener: TurnListener): void {
    this.listener = listener;
    this.armQuiet();
  }

  output(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    const text = this.decoders[stream].write(chunk);
    if (this.listener === undefined) return;
    if (text !== '') this.listener.text(text);
    this.armQuiet();
  }

  close(): void {
    this.timers.clearTimeout(this.quiet);
    this.listener = undefined;
  }

  private armQuiet(): void {
    this.timers.clearTimeout(this.quiet);
    this.quiet = this.timers.setTimeout(() => {
      const listener = this.listener;
      this.listener = undefined;
      listener?.end();
    }, this.turnIdleMs);
  }
}
