/**
 * What a session protocol is: how one message is written to the agent's stdin, and how its
 * output is read back as the reply's text and the end of the turn. The protocols know nothing of
 * processes, chats or budgets; the session feeds them output and listens to their events.
 */

/** What one turn cost, as the agent reported it (stream-json's `result` event). */
export interface TurnUsage {
  costUsd: number;
  /** Every `*_tokens` figure of the reported usage, summed. */
  tokens: number;
}

export interface TurnListener {
  /** More of the reply, to show. */
  text(text: string): void;
  /** The turn is over; `usage` when the agent reported it. */
  end(usage?: TurnUsage): void;
}

export interface SessionProtocol {
  /** What to write to stdin for one message (with its line ending). */
  encode(message: string): string;
  /** A turn begins: its events go to `listener` until it ends. */
  beginTurn(listener: TurnListener): void;
  /** Output of the agent, chunk by chunk; output outside a turn is dropped. */
  output(chunk: Buffer, stream: 'stdout' | 'stderr'): void;
  /** The agent is gone: no more events (cancels the protocol's timers). */
  close(): void;
}

export type ProtocolName = 'lines' | 'stream-json';
