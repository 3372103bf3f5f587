/**
 * "typing…" in a chat while something runs there. Telegram shows a chat action for about five
 * seconds, so it is repeated every few seconds until `stop()`. Best effort: a failed chat
 * action is not worth a retry or an error (the outbox also skips it when the chat is busy).
 */
import type { Api } from 'node-telegram-bot-api';

export class TypingIndicator {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: Api,
    private readonly chatId: number | string,
    private readonly everyMs = 4500,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    const send = (): void => {
      this.api.sendChatAction({ chat_id: this.chatId, action: 'typing' }).catch(() => undefined);
    };
    send();
    this.timer = setInterval(send, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
