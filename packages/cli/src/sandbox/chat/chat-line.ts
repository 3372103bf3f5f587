/**
 * What a line typed into `botvisor chat` means: `/quit` leaves, `:N` taps button N, a leading
 * `/command` is sent as a command, anything else as a message. Pure; sending is chat-session.ts.
 */

export type ChatAction =
  | { kind: 'nothing' }
  | { kind: 'quit' }
  | { kind: 'tap'; button: number }
  | { kind: 'command'; command: string; args: string }
  | { kind: 'message'; text: string }
  | { kind: 'invalid'; reason: string };

/** Telegram's limit for a message's text. */
export const MAX_TEXT = 4096;

/** `/name`, `/name@bot_username`, then optional arguments; Telegram's command name rules. */
const COMMAND = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+([\s\S]*))?$/;
const TAP = /^:(\d{1,3})$/;

export function parseChatLine(line: string): ChatAction {
  const text = line.trim();
  if (text === '') return { kind: 'nothing' };
  if (text === '/quit') return { kind: 'quit' };
  const tap = TAP.exec(text);
  if (tap !== null) {
    const button = Number(tap[1]);
    return button >= 1 ? { kind: 'tap', button } : { kind: 'invalid', reason: 'buttons are numbered from 1: type :1 for the first' };
  }
  if (text.length > MAX_TEXT) return { kind: 'invalid', reason: `a Telegram message has at most ${MAX_TEXT} characters; this one has ${text.length}` };
  const command = COMMAND.exec(text);
  if (command !== null) return { kind: 'command', command: command[1] as string, args: (command[2] ?? '').trim() };
  // "/ foo" or "/hello-world" is not a command on Telegram either: it goes as a plain message.
  return { kind: 'message', text };
}
