/**
 * The warm-up of a reload's standby process, before it says `standby`: it runs once what the
 * take-over then runs inside the poll gap, so that there it is code that has run before and a
 * connection that is open. Measured on the bench machine, a fresh process takes 20–45 ms to open
 * the inbox (the store's writer lock, its schema, the journal all run for the first time) where a
 * warmed one takes about 5, and its first Bot API request costs tens of ms more than the next.
 *
 *   - the inbox: it opens, recovers and closes a throwaway copy of the bot's inbox in a scratch
 *     folder. The copy holds updates, so it stays in the bot's own folder (not /tmp) and is
 *     removed after; one left by a standby process killed mid-way is removed by the next one.
 *   - the Bot API: a getMe through the poll's own client, whose keep-alive connection the first
 *     getUpdates then reuses. (getMe, not getUpdates: the old process still polls.)
 *
 * Best effort: a step that fails costs only its warm-up (logged at debug); the take-over reports
 * real trouble at its own steps.
 */
import { copyFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Logger, makePrivateDir, settlesWithin } from '@botvisor/core';
import { orderingKeyOf } from '../dispatch/update-shape.js';
import { Inbox } from '../inbox/inbox.js';

/** Scratch folders are `<botDir>/.standby-rehearsal-<pid>`. */
const PREFIX = '.standby-rehearsal-';

/** The rehearsal's own log lines (a copy's recovery, a missing file) would only mislead. */
const quiet: Logger = {
  error: () => undefined,
  warning: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => quiet,
  close: () => Promise.resolve(),
};

/** How long the warm-up's getMe may take: the standby is not held up by a slow Bot API. */
const API_WARM_UP_MS = 2000;

export interface WarmUpOptions {
  /** `data/bots/<name>`: where the real inbox is, and the scratch folder goes. */
  botDir: string;
  botId: string;
  /** The client the poll loop will use. */
  pollApi: { getMe: () => Promise<unknown> };
  logger: Logger;
}

export async function warmUpForTakeOver(o: WarmUpOptions): Promise<void> {
  await rehearseInboxOpen(o);
  const getMe = o.pollApi.getMe().catch((err: unknown) => o.logger.debug('the standby warm-up getMe failed: only its warm-up is lost', { err }));
  await settlesWithin(getMe, API_WARM_UP_MS);
}

async function rehearseInboxOpen(o: WarmUpOptions): Promise<void> {
  const scratch = path.join(o.botDir, `${PREFIX}${process.pid}`);
  try {
    await removeAbandoned(o.botDir);
    await makePrivateDir(scratch);
    try {
      // The snapshot is replaced by rename, so a copy is always a whole file.
      await copyFile(path.join(o.botDir, 'inbox.json'), path.join(scratch, 'inbox.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const inbox = await Inbox.open({ botDir: scratch, backupDir: path.join(scratch, 'backups'), logger: quiet, botId: o.botId });
    await inbox.recover(orderingKeyOf);
    await inbox.close();
  } catch (err) {
    o.logger.debug('the standby rehearsal of the inbox open failed: only its warm-up is lost', { err });
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Scratch folders of standby processes that are gone. */
async function removeAbandoned(botDir: string): Promise<void> {
  const names = await readdir(botDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length));
    if (pid === process.pid || (Number.isInteger(pid) && pid > 0 && alive(pid))) continue;
    await rm(path.join(botDir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
