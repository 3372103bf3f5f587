/**
 * The alerts bot (`kind: "alerts"`): the supervisor's events to the configured chats, sent
 * through the runtime's outbox like every message. A bot's health — crashed, hung, errored,
 * problem raised, its recovery, a restart someone asked for — is told as incidents
 * (incidents.ts: a new message per incident, repeats edited in, recoveries and requested restarts
 * quiet); conflict storms, reaped orphans and rolled-back reloads are coalesced per kind (alert-coalescer.ts). It
 * usually shares the main bot's token and so runs send-only.
 */
import { defineBot, type IpcEvent } from '@botvisor/runtime';
import { type AlertAction, AlertCoalescer } from './alert-coalescer.js';
import { INCIDENT_KINDS, type IncidentAction, Incidents } from './incidents.js';

/**
 * What is worth a person's attention. Routine: started, ready, stopped; and restarted, because the
 * crash message already says "restarting in N ms" (one thread per crash loop, not two). A bot's
 * problem is sent with its sentence; its clearing as a short note. In cluster mode a change of
 * active node is sent by the node that took over (`cluster-active`).
 */
export const ALERT_KINDS = new Set(['crashed', 'hung', 'errored', 'conflict-storm', 'orphans-reaped', 'problem', 'problem-cleared', 'reload-failed', 'cluster-active']);

export default defineBot((bot, runtime) => {
  const chats = runtime.config.chats;
  const coalescer = new AlertCoalescer();
  const incidents = new Incidents(runtime.config.healthyAfterSec !== undefined ? { healthyMs: runtime.config.healthyAfterSec * 1000 } : {});
  /** The message of each coalescing key, per chat, so edits go to the right one. */
  const sent = new Map<string, Map<number, number>>();
  let timer: NodeJS.Timeout | undefined;

  const apply = async (actions: Array<AlertAction | IncidentAction>): Promise<void> => {
    for (const action of actions) {
      for (const chatId of chats) {
        try {
          if (action.type === 'send') {
            const quiet = 'quiet' in action && action.quiet ? { disable_notification: true } : {};
            const message = await bot.api.sendMessage({ chat_id: chatId, text: action.text, ...quiet });
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
    const next = Math.min(coalescer.nextDueAt() ?? Number.POSITIVE_INFINITY, incidents.nextDueAt() ?? Number.POSITIVE_INFINITY);
    if (next === Number.POSITIVE_INFINITY || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void apply([...coalescer.due(), ...incidents.due()]).then(scheduleEdits);
    }, Math.max(0, next - Date.now()));
    timer.unref();
  };

  runtime.onSupervisorEvent((event: IpcEvent) => {
    // A bot's health is an incident; the other alerts are coalesced by kind.
    if (INCIDENT_KINDS.has(event.kind)) void apply(incidents.add(event)).then(scheduleEdits);
    else if (ALERT_KINDS.has(event.kind)) void apply(coalescer.add(event)).then(scheduleEdits);
  });

  bot.command('start', (ctx) => ctx.reply(`I send botvisor's alerts to ${chats.length} chat(s): crashes, restarts, hangs, errored bots, conflict storms, reaped orphans, reloads rolled back, and any bot that cannot do its job (and when it can again).`));

  runtime.addService({
    name: 'alerts',
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
    },
  });
});
