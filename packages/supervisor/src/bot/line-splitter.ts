/**
 * Cuts a bot's output stream into lines at a fixed cost, whatever the bot prints. Work is linear
 * in the bytes received and memory is bounded by `maxLineChars`: a line longer than that is
 * handed on at the bound, marked as cut, and the rest of it up to the next newline is dropped.
 *
 * A carriage return behaves as on a terminal: `\r\n` ends a line, and a lone `\r` starts the line
 * over (a progress bar redrawing itself), so only what a person would have seen last is kept.
 * Multi-byte characters split across chunks are decoded whole.
 */
import { StringDecoder } from 'node:string_decoder';

/** The longest line kept whole (characters); longer ones are cut here. */
export const MAX_LINE_CHARS = 64 * 1024;

/** Appended to a line that was cut at `max` characters. */
export function cutMark(max: number): string {
  return ` [line cut: longer than ${max} characters]`;
}

const LF = 10;
const CR = 13;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  /** Pieces of the current line; their total length stays at most `maxLineChars`. */
  private readonly pieces: string[] = [];
  private length = 0;
  /** The current line was cut: drop everything up to the next newline. */
  private skipping = false;
  /** The previous character was a `\r`; what follows decides between line end and redraw. */
  private afterCr = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineChars = MAX_LINE_CHARS,
  ) {}

  push(chunk: Buffer | string): void {
    this.scan(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    this.scan(this.decoder.end());
    this.afterCr = false;
    this.endLine();
  }

  private scan(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) {
        if (this.afterCr) {
          this.afterCr = false;
          this.restartLine(); // a lone \r: the terminal would draw over the line
          start = i;
        }
        continue;
      }
      this.append(text, start, i);
      start = i + 1;
      if (c === LF) {
        this.afterCr = false;
        this.endLine();
      } else {
        this.afterCr = true;
      }
    }
    this.append(text, start, text.length);
  }

  private append(text: string, from: number, to: number): void {
    if (to <= from || this.skipping) return;
    const room = this.maxLineChars - this.length;
    if (to - from <= room) {
      this.pieces.push(text.slice(from, to));
      this.length += to - from;
      return;
    }
    this.pieces.push(text.slice(from, from + room));
    this.onLine(`${this.pieces.join('')}${cutMark(this.maxLineChars)}`);
    this.pieces.length = 0;
    this.length = 0;
    this.skipping = true;
  }

  private endLine(): void {
    if (!this.skipping && this.length > 0) this.onLine(this.pieces.join(''));
    this.pieces.length = 0;
    this.length = 0;
    this.skipping = false;
  }

  private restartLine(): void {
    if (this.skipping || this.length === 0) return; // a cut line stays cut until its newline
    this.pieces.length = 0;
    this.length = 0;
  }
}
