/**
 * The alerts bot (`kind: "alerts"`): the supervisor's events — crashed (with cause), restarted,
 * hung, errored, conflict storm, orphans reaped, a reload rolled back, a bot's problem and its clearing — to the configured chats, coalesced so a crash
 * loop is one message whose count is edited (alert-coalescer.ts), and sent through the runtime's
 * outbox like every message. It usually shares the main bot's token and so runs send-only.
 */
import { defineBot, type IpcEvent } from '@botvisor/runtime';
import { type AlertAction, AlertCoalescer } from './alert-coalescer.js';

/**
 * What is worth a person's attention. Routine: started, ready, stopped; and restarted, because the
 * crash message already says "restarting in N ms" (one thread per crash loop, not two). A bot's
 * problem is sent with its sentence; its clearing as a short note.
 */
export const ALERT_KINDS = new Set(['crashed', 'hung', 'errored', 'conflict-storm', 'orphans-reaped', 'problem', 'problem-cleared', 'reload-failed']);

export default defineBot((bot, runtime) => {
  const chats = runtime.config.chats;
  const coalescer = new AlertCoalescer();
  /** The message of each coalescing key, per chat, so edits go to the right one. */
  const sent = new Map<string, Map<number, number>>();
  let timer: NodeJS.Timeout | undefined;

  const apply = async (actions: AlertAction[]): Promise<void> => {
    for (const action of actions) {
      for (const chatId of chats) {
        try {
          if (action.type === 'send') {
            const message = await bot.api.sendMessage({ chat_id: chatId, text: action.text });
            const perChat = sent.get(action.key) ?? new Map<number, number>();
            perChat.set(chatId, message.message_id);
            sent.set(action.key, perChat);
          } else {
            const messageId = sent.get(action.key)?.get(chatId);
            if (messageId !== undefined) await bot.api.editMessageText({ chat_id: chatId, message_id: messageId, text: action.text });
          }
        } catch (err) {
          runtime.logger.warning('could not deliver an alert', { chatId, action: action.type, err });
        }
      }
    }
  };

  const scheduleEdits = (): void => {
    const next = coalescer.nextDueAt();
    if (next === undefined || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void apply(coalescer.due()).then(scheduleEdits);
    }, Math.max(0, next - Date.now()));
    timer.unref();
  };

  runtime.onSupervisorEvent((event: IpcEvent) => {
    if (!ALERT_KINDS.has(event.kind)) return;
    void apply(coalescer.add(event)).then(scheduleEdits);
  });

  bot.command('start', (ctx) => ctx.reply(`I send botvisor's alerts to ${chats.length} chat(s): crashes, restarts, hangs, errored bots, conflict storms, reaped orphans, reloads rolled back, and any bot that cannot do its job (and when it can again).`));

  runtime.addService({
    name: 'alerts',
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
    },
  });
});
