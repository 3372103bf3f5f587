/**
 * `botvisor chat [--sim URL --token T --user ID]`: a terminal chat with the sandbox's bot, as its
 * simulated user. Each typed line goes to the simulator's user side (a `/command` as a command,
 * `:N` as a tap on button N of the latest message with buttons); what the bot sends, edits or
 * deletes is printed as it happens. `/quit`, Ctrl-D or Ctrl-C leave with exit 0. Parsing, showing
 * and following live in sandbox/chat/; this file wires them to a readline prompt.
 */
import readline from 'node:readline';
import { SimClient, SimClientError, type TranscriptEntry } from '@botvisor/bot-api-sim';
import { CliError, EXIT } from '../exit-codes.js';
import { ButtonBoard } from '../sandbox/chat/button-board.js';
import { type ChatAction, parseChatLine } from '../sandbox/chat/chat-line.js';
import { renderEntry } from '../sandbox/chat/chat-render.js';
import { type ChatFlags, type ChatTarget, ensureSimAnswers, resolveChatTarget } from '../sandbox/chat/chat-target.js';
import { TranscriptFollower } from '../sandbox/chat/transcript-follower.js';

/** Both bots of the sandbox speak through one token, so to the user they are one bot, as on Telegram. */
const BOT_LABEL = 'bot';
const PROMPT = 'you> ';

export interface ChatIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Prints above the prompt without mangling what the user is typing. */
class Screen {
  constructor(
    private readonly rl: readline.Interface,
    private readonly output: ChatIo['output'],
    private readonly tty: boolean,
  ) {}

  show(text: string): void {
    if (!this.tty) {
      this.output.write(`${text}\n`);
      return;
    }
    readline.clearLine(this.output, 0);
    readline.cursorTo(this.output, 0);
    this.output.write(`${text}\n`);
    this.rl.prompt(true);
  }
}

function describe(err: unknown): string {
  if (err instanceof SimClientError) return err.description;
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return cause ?? (err as Error).message;
}

export async function chatCommand(flags: ChatFlags, io: ChatIo = { input: process.stdin, output: process.stdout }): Promise<number> {
  const target: ChatTarget = resolveChatTarget(flags);
  await ensureSimAnswers(target.simUrl);
  const sim = new SimClient(target.simUrl).bot(target.token);
  const board = new ButtonBoard();
  const tty = io.input.isTTY === true && io.output.isTTY === true;
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: tty, prompt: PROMPT });
  // Lines typed (or piped) ahead wait until the 'line' handler below exists; read now, they would be lost.
  rl.pause();
  const screen = new Screen(rl, io.output, tty);

  let finished = false;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = (code) => {
      finished = true;
      resolve(code);
    };
  });
  const show = (entries: TranscriptEntry[]): void => {
    for (const entry of entries) {
      board.see(entry);
      const text = renderEntry(entry, BOT_LABEL);
      if (text !== undefined) screen.show(text);
    }
  };
  const follower = new TranscriptFollower({
    simUrl: target.simUrl,
    token: target.token,
    chatId: target.chatId,
    onEntries: show,
    onLost: (err) => {
      screen.show(`the simulator at ${target.simUrl} stopped answering (${describe(err)}): the sandbox has stopped`);
      finish(EXIT.notRunning);
    },
  });
  let history: TranscriptEntry[];
  try {
    history = await follower.history();
  } catch (err) {
    rl.close();
    throw new CliError(`cannot read the chat at ${target.simUrl}: ${describe(err)}`, EXIT.failed);
  }
  for (const entry of history) board.see(entry); // so :N works on buttons shown before we came

  io.output.write(
    `Chatting as ${target.user.first_name} (user ${target.user.id}) with the bot at ${target.simUrl}.\n` +
      `Type a message or a /command (try /help); :1 taps button 1 of the latest buttons; /quit or Ctrl-D leaves.\n` +
      (history.length > 0 ? `(${history.length} earlier entries in this chat are not shown)\n` : ''),
  );

  const user = target.user;
  const perform = async (action: ChatAction): Promise<void> => {
    switch (action.kind) {
      case 'nothing':
        return;
      case 'quit':
        finish(EXIT.ok);
        return;
      case 'invalid':
        screen.show(`(${action.reason})`);
        return;
      case 'command':
        await sim.sendCommand({ command: action.command, ...(action.args !== '' ? { args: action.args } : {}), user });
        break;
      case 'message':
        await sim.sendMessage({ text: action.text, user });
        break;
      case 'tap': {
        const t = board.target(action.button);
        if (!t.ok) {
          screen.show(`(${t.reason})`);
          return;
        }
        await sim.tapButton({ message_id: t.messageId, data: t.button.data as string, user });
        screen.show(`(tapped "${t.button.label}")`);
        break;
      }
    }
    follower.wake();
  };

  // Lines are handled one at a time, in order, as a person would send them.
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      try {
        await perform(parseChatLine(line));
      } catch (err) {
        screen.show(`(not sent: ${describe(err)})`);
      }
      if (tty && !finished) rl.prompt();
    });
  });
  // Ctrl-D (end of input) and Ctrl-C leave quietly once what was typed has been sent.
  rl.on('close', () => void queue.then(() => finish(EXIT.ok)));
  rl.on('SIGINT', () => finish(EXIT.ok));

  void follower.follow();
  rl.resume();
  if (tty) rl.prompt();
  const code = await done;
  follower.stop();
  rl.close();
  // A TTY stdin that was read from keeps the process alive even when paused.
  (io.input as { unref?: () => void }).unref?.();
  if (tty) io.output.write('\n');
  return code;
}
