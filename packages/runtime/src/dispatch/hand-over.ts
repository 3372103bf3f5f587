/**
 * The last step of the pipeline: one dispatched item into the bot's middleware chain through
 * `bot.handleUpdate`, with `ctx.redelivered` (and `ctx.state.redelivered`) taken from the item.
 *
 * `handleUpdate` takes only the update, so the item is handed across in a slot that the chain's
 * first middleware — installed here, before the bot's own — empties. node-telegram-bot-api v2
 * builds the Context and calls the first middleware synchronously inside `handleUpdate` (its
 * koa-style `compose`), so no other update can take the slot in between; if a future version
 * stopped doing that, every hand-over fails loudly instead of guessing the flag.
 */
import type { Bot } from 'node-telegram-bot-api';
import type { DispatchItem } from './dispatcher.js';

/** Installs the first middleware on `bot` (call before the bot's own) and returns the step that runs one item. */
export function handOverTo(bot: Bot): (item: DispatchItem) => Promise<void> {
  let handing: DispatchItem | undefined;
  // Errors come back to the update pipeline's error boundary, which logs them with the update id.
  bot.catch((err) => {
    throw err;
  });
  bot.use((ctx, next) => {
    const item = handing?.update === ctx.update ? handing : undefined;
    handing = undefined;
    // An update the bot handles by itself (its own bot.handleUpdate call) was never delivered before.
    ctx.redelivered = item?.redelivered ?? false;
    ctx.state.redelivered = ctx.redelivered;
    return next();
  });
  return async (item) => {
    handing = item;
    const run = bot.handleUpdate(item.update);
    const taken = handing === undefined;
    handing = undefined;
    await run;
    if (!taken) throw new Error('bot.handleUpdate did not enter the middleware chain synchronously, so ctx.redelivered could not be set (has node-telegram-bot-api changed?)');
  };
}
