// The hostile moments of the soak, one function each: kill -9 a bot, kill -9 a CLI job, kill -9
// the supervisor (alone, or with the bridge bot so its CLI jobs are orphaned) and start it again,
// truncate or corrupt a bot's state file while the fleet is down, run a rogue poller on a token,
// turn on 429 floods, inject network faults, and exhaust a user's daily job quota.
// Each action updates `counts` and appends what it did to `journal`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findByEnv, refOf } from '@botvisor/core';
import { BOT_NAMES } from './fleet.js';

export class ChaosActions {
  constructor({ sim, supervisor, tokens, users, rng, markers, dataDir, quota, abusers, counts, journal, rogueActive, lostToCorruption }) {
    Object.assign(this, { sim, supervisor, tokens, users, rng, markers, dataDir, quota, abusers, counts, journal, rogueActive, lostToCorruption });
    this.corruptions = [];
    this.quotaUsers = [];
  }

  note(text) {
    this.journal.push({ at: Date.now(), text });
  }

  pick(list) {
    return list[Math.floor(this.rng() * list.length)];
  }

  async botPid(name) {
    const status = await this.supervisor.status();
    return status.bots.find((b) => b.name === name);
  }

  /** kill -9 of one bot process (the supervisor restarts it). */
  async killBot() {
    const name = this.pick([BOT_NAMES.bridge, BOT_NAMES.second, BOT_NAMES.second, BOT_NAMES.alerts]);
    const bot = await this.botPid(name);
    if (bot?.pid == null || bot.state !== 'ready') return this.note(`kill bot ${name}: skipped (${bot?.state ?? 'absent'})`);
    process.kill(bot.pid, 'SIGKILL');
    this.counts.botKills++;
    this.note(`kill -9 bot ${name} pid ${bot.pid}`);
    await this.supervisor.waitReady(30_000);
  }

  /** kill -9 of one running CLI job of the bridge (starting one for an admin if none runs). */
  async killJob() {
    let children = (await this.botPid(BOT_NAMES.bridge))?.children ?? [];
    if (children.length === 0) {
      await this.users.send('bridge', this.abusers.admin, { command: 'sleep', args: '8' });
      const deadline = Date.now() + 8000;
      while (children.length === 0 && Date.now() < deadline) {
        await sleep(100);
        children = (await this.botPid(BOT_NAMES.bridge))?.children ?? [];
      }
    }
    const victim = children.length > 0 ? this.pick(children) : undefined;
    const ref = victim === undefined ? undefined : refOf(victim.pid);
    if (ref === undefined) return this.note('kill job: no running job found');
    process.kill(ref.pid, 'SIGKILL');
    this.counts.jobKills++;
    this.note(`kill -9 job pid ${ref.pid} (${victim.command})`);
  }

  /** kill -9 of the supervisor (sometimes with the bridge bot), maybe a state file corrupted while down, then a new supervisor. */
  async killSupervisor() {
    const withBot = this.rng() < 0.5;
    const bridge = withBot ? await this.botPid(BOT_NAMES.bridge) : undefined;
    await this.supervisor.kill9();
    if (bridge?.pid != null) {
      try {
        process.kill(bridge.pid, 'SIGKILL');
        this.counts.botKills++;
      } catch {}
    }
    this.counts.supervisorKills++;
    this.note(`kill -9 supervisor${bridge?.pid != null ? ` and bridge bot ${bridge.pid}` : ''}`);
    // The bots see their IPC channel close and exit; wait for that before touching their files.
    const botsGone = await this.waitNoBots(15_000);
    if (!botsGone) this.note('bots still alive 15 s after the supervisor died (the next run reaps them)');
    if (botsGone && (this.corruptions.length === 0 || this.rng() < 0.6)) this.corruptStateFile();
    await this.supervisor.start();
    this.counts.supervisorStarts++;
  }

  /** Waits until no process carrying CHAOS_SOAK (the supervisor and its bots; CLI jobs carry only TMPDIR) is alive. */
  async waitNoBots(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (findByEnv('CHAOS_SOAK', this.markers.id).length === 0) return true;
      await sleep(100);
    }
    return false;
  }

  /** Truncates or garbles one bot state file (inbox, jobs, state) while no bot runs. */
  corruptStateFile() {
    const files = [];
    for (const bot of [BOT_NAMES.bridge, BOT_NAMES.second]) {
      const dir = path.join(this.dataDir, 'bots', bot);
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) if (/^[a-z]+\.json$/.test(f)) files.push({ bot, file: path.join(dir, f) });
    }
    if (files.length === 0) return;
    const target = this.pick(files);
    const text = readFileSync(target.file, 'utf8');
    if (path.basename(target.file) === 'inbox.json') {
      // Updates pending in the inbox are lost if it is reset: counted, not flagged.
      try {
        for (const id of pendingIds(JSON.parse(text))) this.lostToCorruption.add(`${target.bot}:${id}`);
      } catch {}
    }
    const how = this.rng() < 0.5 ? 'truncated' : 'garbled';
    writeFileSync(target.file, how === 'truncated' ? text.slice(0, Math.floor(text.length / 2)) : `{"garbage": ${'\u0000'.repeat(8)}`);
    this.corruptions.push({ bot: target.bot, file: target.file, how, at: Date.now() });
    this.counts.corruptions++;
    this.note(`${how} ${path.relative(this.dataDir, target.file)}`);
  }

  /** A second poller on a token for a few seconds: 409s both ways; it never confirms an offset. */
  async roguePoller() {
    const bot = this.pick(['bridge', 'second']);
    const url = `${this.sim.url}/bot${this.tokens[bot]}/getUpdates?timeout=1`;
    const until = Date.now() + 3000 + this.rng() * 4000;
    this.rogueActive[bot] = (this.rogueActive[bot] ?? 0) + 1;
    this.counts.rogueEpisodes++;
    let conflicts = 0;
    try {
      while (Date.now() < until) {
        const res = await fetch(url).catch(() => undefined);
        if (res?.status === 409) conflicts++;
        await res?.text().catch(() => '');
      }
    } finally {
      this.rogueActive[bot]--;
    }
    this.note(`rogue poller on ${bot}: got ${conflicts} 409s`);
  }

  /** Telegram-like flood control in 'strict' mode for a few seconds. */
  async flood() {
    await this.sim.client.setFlood('strict');
    this.counts.floodEpisodes++;
    await sleep(3000 + this.rng() * 5000);
    await this.sim.client.setFlood('off');
    this.note('429 flood (strict) episode');
  }

  /** One injected network fault on one token. */
  async networkFault() {
    const bot = this.pick(['bridge', 'second']);
    const token = this.tokens[bot];
    const spec = this.pick([
      { method: 'getUpdates', drop: true, times: 2 },
      { method: 'getUpdates', fail: { error_code: 502, description: 'Bad Gateway' }, times: 3 },
      { method: 'getUpdates', fail: { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 }, times: 1 },
      { method: 'sendMessage', fail: { error_code: 502, description: 'Bad Gateway' }, times: 4 },
      { method: 'sendMessage', drop: true, times: 2 },
      { method: 'sendMessage', fail: { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 }, times: 2 },
      { method: '*', delayMs: 1500, times: 3 },
    ]);
    await this.sim.client.addFault({ ...spec, token });
    this.counts.networkFaults++;
    this.note(`fault on ${bot}: ${JSON.stringify(spec)}`);
  }

  /** One non-admin user sends more jobs than the daily quota allows (checked by `quotaRefused` at the end). */
  async exhaustQuota() {
    const user = this.abusers.next();
    if (user === undefined) return this.note('quota: no fresh user left');
    this.counts.quotaUsers++;
    const run = { user, sent: 0, from: Date.now(), to: Number.POSITIVE_INFINITY };
    this.quotaUsers.push(run);
    for (let i = 0; i < this.quota + 3; i++) {
      await this.users.send('bridge', user, { command: 'sleep', args: '0' });
      run.sent++;
      await sleep(2100); // under the per-user incoming limit, and the outbox's 1 msg/s per chat
    }
    run.to = Date.now();
    this.note(`quota of user ${user}: sent ${this.quota + 3} jobs`);
  }

  /**
   * What each quota user was told, refusals counted by kind. The quota (below the queue limit, so
   * a full queue never hides it) must refuse every user who got more jobs past the other refusals
   * than it allows — "restarting, send again" while the chaos stopped the bot, a queue full — also
   * when the bridge's jobs.json was restored from an older backup meanwhile (the quota ledger keeps
   * the count). A user whose other refusals left them within the quota is "not exhausted", not a failure.
   */
  async quotaOutcome() {
    const out = { refused: [], notRefused: [], notExhausted: [], restoredMeanwhile: 0, refusals: { quota: 0, 'queue-full': 0, restarting: 0 } };
    for (const run of this.quotaUsers) {
      const restored = this.corruptions.some((c) => c.bot === BOT_NAMES.bridge && path.basename(c.file) === 'jobs.json' && c.at >= run.from - 1000 && c.at <= run.to + 60_000);
      if (restored) out.restoredMeanwhile++;
      // The last refusals may still be on their way through the outbox.
      await this.sim.client.waitForMessage(this.tokens.bridge, run.user, { pattern: /quota resets/, after: 0, timeoutMs: 15_000 }).catch(() => undefined);
      const texts = (await this.sim.client.transcript(this.tokens.bridge, run.user)).entries.filter((e) => e.kind === 'sent').map((e) => e.text ?? '');
      const kinds = {
        quota: texts.filter((t) => /quota resets/.test(t)).length,
        'queue-full': texts.filter((t) => /queue is full/.test(t)).length,
        restarting: texts.filter((t) => /restarting; please send that again/.test(t)).length,
      };
      for (const [kind, n] of Object.entries(kinds)) out.refusals[kind] += n;
      if (kinds.quota > 0) out.refused.push(run.user);
      else if (run.sent - kinds['queue-full'] - kinds.restarting > this.quota) out.notRefused.push(run.user);
      else out.notExhausted.push(run.user);
    }
    return out;
  }
}

function pendingIds(inbox) {
  const out = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      if (typeof v.update_id === 'number') out.push(v.update_id);
      else Object.values(v).forEach(walk);
    }
  };
  walk(inbox);
  return out;
}
