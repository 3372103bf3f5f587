// The simulated users: 50 people writing to the two polling bots through the sim's user side.
// Each user waits a random while, then sends a bridge command (/help, /whoami, /jobs, a short
// /sleep job, now and then an /escape job) or a message to the second bot. Every injected update
// is recorded ({ bot, id, user }) so the soak can check what the bots handled against it. The load
// stays under the runtime's per-user limit (30/min): a user never sends more than 20 in a minute.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const PER_MINUTE_CAP = 20;

export class SimulatedUsers {
  constructor({ sim, tokens, userIds, rng, meanGapMs, accepted }) {
    Object.assign(this, { sim, tokens, userIds, rng, meanGapMs, accepted });
    this.running = false;
    this.loops = [];
    this.sent = 0;
    this.injectErrors = 0;
    this.recent = new Map(userIds.map((id) => [id, []]));
  }

  start() {
    this.running = true;
    this.abort = new AbortController();
    setMaxListeners(this.userIds.length + 10, this.abort.signal);
    this.loops = this.userIds.map((id) => this.loop(id));
  }

  async stop() {
    this.running = false;
    this.abort?.abort();
    await Promise.all(this.loops);
  }

  /** Sends one update as `userId`; returns the inject result. */
  async send(bot, userId, input) {
    const token = this.tokens[bot];
    const who = { user: { id: userId, first_name: `User${userId}` }, chat: { id: userId, type: 'private' } };
    const result = input.command !== undefined ? await this.sim.users.sendCommand(token, { ...input, ...who }) : await this.sim.users.sendMessage(token, { ...input, ...who });
    if (result.update_id !== null) this.accepted.push({ bot, id: result.update_id, user: userId, at: Date.now() });
    this.sent++;
    this.recent.get(userId)?.push(Date.now());
    return result;
  }

  underCap(userId) {
    const times = this.recent.get(userId) ?? [];
    const cutoff = Date.now() - 60_000;
    while (times.length > 0 && times[0] < cutoff) times.shift();
    return times.length < PER_MINUTE_CAP;
  }

  /** Sleeps, or returns early once the users are stopped. */
  pause(ms) {
    return sleep(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  pickAction() {
    const r = this.rng();
    if (r < 0.12) return { bot: 'bridge', input: { command: 'help' } };
    if (r < 0.22) return { bot: 'bridge', input: { command: 'whoami' } };
    if (r < 0.3) return { bot: 'bridge', input: { command: 'jobs' } };
    if (r < 0.42) return { bot: 'bridge', input: { command: 'sleep', args: String(Math.floor(this.rng() * 4)) } };
    if (r < 0.45) return { bot: 'bridge', input: { command: 'escape', args: String(1 + Math.floor(this.rng() * 4)) } };
    if (r < 0.55) return { bot: 'second', input: { command: 'echo', args: `e${Math.floor(this.rng() * 1000)}` } };
    return { bot: 'second', input: { text: `m${Math.floor(this.rng() * 100000)}` } };
  }

  async loop(userId) {
    await this.pause(this.rng() * this.meanGapMs);
    while (this.running) {
      if (this.underCap(userId)) {
        const { bot, input } = this.pickAction();
        try {
          await this.send(bot, userId, input);
        } catch {
          this.injectErrors++;
        }
      }
      await this.pause(-Math.log(1 - this.rng()) * this.meanGapMs);
    }
  }
}
