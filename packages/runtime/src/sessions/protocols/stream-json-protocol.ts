/**
 * The `stream-json` protocol, in Claude Code's shapes (`claude -p --input-format stream-json
 * --output-format stream-json --verbose`). In: one JSON line per message,
 * `{"type":"user","message":{"role":"user","content":"…"}}`. Out: one JSON event per line; the
 * text blocks of `assistant` events are the reply, and the `result` event ends the turn with its
 * `usage` and `total_cost_usd`. Other events (system, tool use, tool results) and stderr are not
 * part of the reply. A line that is not JSON is skipped, never fatal.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SessionProtocol, TurnListener, TurnUsage } from './protocol.js';

/** A line longer than this is dropped (never held in memory whole): no event is that large. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text blocks of an assistant message, joined. */
function assistantText(event: Json): string {
  const message = event.message;
  if (!isObject(message)) return '';
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is Json => isObject(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('');
}

/** total_cost_usd and the sum of the usage's `*_tokens` figures. */
export function usageOf(event: Json): TurnUsage {
  const cost = typeof event.total_cost_usd === 'number' && Number.isFinite(event.total_cost_usd) ? Math.max(0, event.total_cost_usd) : 0;
  let tokens = 0;
  if (isObject(event.usage)) {
    for (const [key, value] of Object.entries(event.usage)) {
      if (key.endsWith('_tokens') && typeof value === 'number' && Number.isFinite(value) && value > 0) tokens += value;
    }
  }
  return { costUsd: cost, tokens };
}

export class StreamJsonProtocol implements SessionProtocol {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private listener: TurnListener | undefined;
  /** Text already shown this turn: a second assistant message starts a new paragraph. */
  private shown = false;

  encode(message: string): string {
    return `${JSON.stringify({ type: 'user', message: { role: 'user', content: message } })}\n`;
  }

  beginTurn(listener: TurnListener): void {
    this.listener = listener;
    this.shown = false;
  }

  output(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    if (stream !== 'stdout') return;
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE_CHARS) this.partial = '';
    for (const line of lines) this.line(line);
  }

  close(): void {
    this.listener = undefined;
  }

  private line(line: string): void {
    if (line.trim() === '' || this.listener === undefined) return;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (!isObject(event)) return;
    if (event.type === 'assistant') {
      const text = assistantText(event);
      if (text === '') return;
      this.listener.text(this.shown ? `\n\n${text}` : text);
      this.shown = true;
    } else if (event.type === 'result') {
      const listener = this.listener;
      this.listener = undefined;
      if (event.is_error === true) {
        const why = typeof event.result === 'string' && event.result !== '' ? event.result : String(event.subtype ?? 'error');
        listener.text(`${this.shown ? '\n\n' : ''}⚠️ The agent reported an error: ${why}`);
      } else if (!this.shown && typeof event.result === 'string' && event.result !== '') {
        listener.text(event.result);
      }
      listener.end(usageOf(event));
    }
  }
}
