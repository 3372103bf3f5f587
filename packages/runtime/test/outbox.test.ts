import { FLOOD_PRESETS, type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { expect } from 'chai';
import { type MessageEntity, NetworkError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { createOutboxApi, DEFAULT_RATE_LIMITS, Outbox, RoutedApi, splitMarkup, splitText, UncertainDeliveryError } from '../src/index.js';
import { isGroupChat, RateGate } from '../src/outbox/rate-gate.js';
import { ScopePauses } from '../src/outbox/scope-pauses.js';
import { classifyFailure, maySendAgain } from '../src/outbox/send-policy.js';
import { newToken } from './support/bot-harness.js';

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

describe('outbox: splitting long texts', () => {
  it('10,000 characters of lines become three parts, each within 4096, cut at line ends, nothing lost', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')} ${'.'.repeat(90)}`);
    const text = lines.join('\n');
    const parts = splitText(text);
    expect(parts).to.have.length(3);
    for (const p of parts) expect(p.text.length).to.be.at.most(4096);
    expect(parts.map((p) => p.text).join('\n')).to.equal(text);
  });

  it('prefers a paragraph break to a line break', () => {
    const para = `${'a'.repeat(2000)}\n\n${'b'.repeat(1500)}\n${'c'.repeat(1500)}`;
    const parts = splitText(para);
    expect(parts.map((p) => p.text.length)).to.deep.equal([2000, 3001]);
  });

  it('never cuts inside an entity: a bold run crossing the best line break moves the cut', () => {
    const text = `${'x'.repeat(3000)}\n${'y'.repeat(500)}\n${'z'.repeat(1000)}`;
    // bold from inside the first line to inside the last: the line break at 3501 is inside it
    const bold: MessageEntity = { type: 'bold', offset: 3400, length: 300 };
    const parts = splitText(text, [bold]);
    expect(parts[0]?.text).to.equal('x'.repeat(3000));
    expect(parts[1]?.entities).to.deep.equal([{ type: 'bold', offset: 3400 - 3001, length: 300 }]);
    expect(parts[1]?.text.slice(399, 699)).to.equal(text.slice(3400, 3700));
  });

  it('an entity longer than a part (a huge code block) is cut, each part keeping its own piece of it', () => {
    const text = 'q'.repeat(9000);
    const parts = splitText(text, [{ type: 'pre', offset: 0, length: 9000 }]);
    expect(parts.map((p) => p.text.length)).to.deep.equal([4096, 4096, 808]);
    expect(parts.map((p) => p.entities)).to.deep.equal([
      [{ type: 'pre', offset: 0, length: 4096 }],
      [{ type: 'pre', offset: 0, length: 4096 }],
      [{ type: 'pre', offset: 0, length: 808 }],
    ]);
  });

  it('never splits a surrogate pair', () => {
    const text = `a${'😀'.repeat(5000)}`; // one ASCII character shifts every pair off the even boundary
    const parts = splitText(text);
    for (const p of parts) {
      expect(p.text.length).to.be.at.most(4096);
      expect(isHigh(p.text.charCodeAt(p.text.length - 1)), 'part ends with half an emoji').to.equal(false);
    }
    expect(parts.map((p) => p.text).join('')).to.equal(text);
  });

  it('HTML: cuts outside tags and references; a <pre> longer than a part is closed and opened again', () => {
    const block = `<pre>${'code &amp; more\n'.repeat(600)}</pre>`;
    const html = `<b>Report</b>\n\n${block}\n\n<i>end</i>`;
    const parts = splitMarkup(html, 'HTML', 4096);
    expect(parts.length).to.be.at.least(3);
    for (const p of parts) {
      expect(p.length).to.be.at.most(4096);
      expect((p.match(/<pre>/g) ?? []).length, p.slice(0, 40)).to.equal((p.match(/<\/pre>/g) ?? []).length);
      expect(p).to.not.match(/&am$|&a$|<[^>]*$/);
    }
    expect(parts[0]).to.equal('<b>Report</b>'); // a clean paragraph break beats cutting into the block
    expect(parts.at(-1)).to.match(/<\/pre>\n\n<i>end<\/i>$/);
    for (const p of parts.slice(1)) {
      const lines = p.replace(/<\/?pre>/g, '').replace('<i>end</i>', '').split('\n');
      expect(lines.every((l) => l === '' || l === 'code &amp; more'), 'cut only at line ends').to.equal(true);
    }
    expect(parts.join('').match(/code &amp; more/g)).to.have.length(600);
  });

  it('MarkdownV2: never cuts inside a ``` block without closing and reopening it', () => {
    const md = `*title*\n\n\`\`\`js\n${'let x = 1;\n'.repeat(500)}\`\`\`\n\ndone`;
    const parts = splitMarkup(md, 'MarkdownV2', 4096);
    for (const p of parts) {
      expect(p.length).to.be.at.most(4096);
      expect((p.match(/```/g) ?? []).length % 2, p.slice(0, 30)).to.equal(0);
    }
    expect(parts.slice(1, -1).every((p) => p.startsWith('```js\n'))).to.equal(true);
  });
});

describe('outbox: the duplicate-send policy', () => {
  const refused = (code: number, description: string, retry_after?: number) => new TelegramApiError(code, description, retry_after !== undefined ? { retry_after } : undefined);
  const netError = (code: string) => new NetworkError('Network request failed: sendMessage', { cause: Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) }) });

  it('429: not delivered, always sent again after retry_after', () => {
    expect(classifyFailure(refused(429, 'Too Many Requests: retry after 7', 7))).to.deep.equal({ kind: 'rate-limited', retryAfterMs: 7000 });
    expect(maySendAgain('sendMessage', { kind: 'rate-limited', retryAfterMs: 1000 }, 99)).to.equal(true);
  });

  it('never connected: any method is sent again (a few times)', () => {
    const f = classifyFailure(netError('ECONNREFUSED'));
    expect(f).to.deep.equal({ kind: 'not-sent' });
    expect(maySendAgain('sendMessage', f, 1)).to.equal(true);
    expect(maySendAgain('sendMessage', f, 3)).to.equal(false);
  });

  it('no answer after sending: only idempotent methods are sent again; a send is not', () => {
    for (const err of [netError('ECONNRESET'), new TimeoutError('Request timed out: sendMessage'), refused(502, 'Bad Gateway')]) {
      const f = classifyFailure(err);
      expect(f.kind).to.equal('ambiguous');
      expect(maySendAgain('sendMessage', f, 1)).to.equal(false);
      expect(maySendAgain('sendDocument', f, 1)).to.equal(false);
      expect(maySendAgain('editMessageText', f, 1)).to.equal(true);
      expect(maySendAgain('deleteMessage', f, 1)).to.equal(true);
      expect(maySendAgain('sendChatAction', f, 1)).to.equal(true);
    }
  });

  it('another refusal is final', () => {
    const f = classifyFailure(refused(400, 'Bad Request: chat not found'));
    expect(f).to.deep.equal({ kind: 'refused', errorCode: 400, description: 'Bad Request: chat not found' });
    expect(maySendAgain('editMessageText', f, 1)).to.equal(false);
  });

  it('a 429 pauses its chat only; 429s in three chats within a second pause everything', () => {
    let now = 0;
    const pauses = new ScopePauses({ now: () => now });
    expect(pauses.tooManyRequests('1', 2000)).to.equal('1');
    expect(pauses.waitMs('1')).to.equal(2000);
    expect(pauses.waitMs('2')).to.equal(0);
    now = 100;
    pauses.tooManyRequests('2', 1000);
    expect(pauses.tooManyRequests('3', 1000)).to.equal('*');
    expect(pauses.waitMs('4')).to.equal(1000);
    now = 1100;
    expect(pauses.waitMs('4')).to.equal(0);
    expect(pauses.waitMs('1')).to.equal(900);
  });
});

describe('outbox: rate gate', () => {
  it('adds a per-group tier to the library\'s global and per-chat limits; private chats do not pay it', async () => {
    const gate = new RateGate({ globalPerSec: 1000, perChatPerSec: 1000, perGroupPerMin: 600, groupBurst: 1 });
    const time = async (chat: number): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < 5; i++) await gate.message(chat);
      return performance.now() - start;
    };
    expect(await time(-100123), 'a group at 10/s').to.be.at.least(380);
    expect(await time(100123), 'a private chat').to.be.below(100);
    expect(isGroupChat(-1001234567890)).to.equal(true);
    expect(isGroupChat('@channel')).to.equal(true);
    expect(isGroupChat(42)).to.equal(false);
  });
});

describe('outbox: rate gate without awaits', () => {
  it('takes a free slot at once (tryMessage), refuses without taking when a tier is empty, and never passes a send waiting for the bot-wide slot', async () => {
    let now = 0;
    const gate = new RateGate({ globalPerSec: 2, perChatPerSec: 1, perGroupPerMin: 6, groupBurst: 1 }, () => now);
    expect(gate.tryMessage(1), 'a token in every tier').to.equal(true);
    expect(gate.tryMessage(1), 'the chat tier is empty').to.equal(false);
    expect(gate.tryMessage(2), 'the last bot-wide token').to.equal(true);
    expect(gate.tryMessage(3), 'the bot-wide tier is empty').to.equal(false);
    expect(gate.tryGlobal()).to.equal(false);
    now = 500; // one bot-wide token back, chat 3's never used
    const waiting = gate.global(); // first in the queue: it gets that token
    expect(gate.tryMessage(3), 'a send is waiting for the bot-wide slot: no one passes it').to.equal(false);
    await waiting;
    now = 1500;
    expect(gate.tryMessage(3), 'queue empty, tokens back').to.equal(true);
    expect(gate.tryMessage(-5), 'a group: its own tier has a token too').to.equal(true);
    now = 2500;
    expect(gate.tryMessage(-5), 'the group tier (6/min) is empty').to.equal(false);
    expect(gate.tryGlobal(), 'refused above without taking the bot-wide token').to.equal(true);
  });
});

describe('outbox: default pace', () => {
  it("is Telegram's: the simulator's telegram preset, the limits the simulator test below runs at a faster per-chat pace", () => {
    const telegram = FLOOD_PRESETS.telegram;
    expect(DEFAULT_RATE_LIMITS).to.deep.include({ globalPerSec: telegram.overallPerSecond, perChatPerSec: telegram.perChatPerSecond, perGroupPerMin: telegram.perGroupPerMinute });
  });
});

describe('outbox against the simulator', function () {
  this.timeout(120_000);
  let sim: SimHandle;

  afterEach(async () => {
    await sim.close();
  });

  it('telegram-like flood control: 200 messages to 5 chats all arrive, in order per chat, none twice, 429s honoured for their chat only', async () => {
    // Telegram's limits with a faster per-chat pace on both sides (the test above ties the default
    // pace to Telegram's): the same 40 messages a chat, 10 s instead of 40 s of pacing.
    const perChatPerSec = 4;
    sim = await startSim({ flood: { mode: 'telegram', limits: { perChatPerSecond: perChatPerSec } } });
    const token = newToken();
    const chats = [2001, 2002, 2003, 2004, 2005];
    for (const id of chats) sim.users.sendMessage(token, { user: { id }, text: 'hi' });
    // Every call as it went out, and how it came back.
    const calls: Array<{ chat: number; at: number; status: number }> = [];
    const api = new RoutedApi(token, { apiRoot: sim.url });
    const outbox = new Outbox(
      async (method, params, signal) => {
      const entry = { chat: Number(params?.chat_id), at: Date.now(), status: 200 };
      calls.push(entry);
      try {
        return await api.direct(method, params, signal);
      } catch (err) {
        entry.status = err instanceof TelegramApiError ? err.errorCode : 0;
        throw err;
      }
      },
      { limits: { perChatPerSec } },
    );
    api.routeThrough(outbox);
    // 429s on the way, as a busy Telegram would answer, spread over the run.
    const fault = () => sim.client.addFault({ method: 'sendMessage', token, fail: { error_code: 429, description: 'Too Many Requests: retry after 2', retry_after: 2 } });
    await fault();
    const more = [setTimeout(() => void fault(), 1500), setTimeout(() => void fault(), 3500)];
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 200; i++) sends.push(api.sendMessage({ chat_id: chats[i % chats.length] as number, text: `m${i}` }));
    await Promise.all(sends);
    for (const t of more) clearTimeout(t);

    for (const chat of chats) {
      const texts = (await sim.client.transcript(token, chat)).entries.filter((e) => e.kind === 'sent').map((e) => e.text);
      const expected = Array.from({ length: 40 }, (_, k) => `m${k * chats.length + chats.indexOf(chat)}`);
      expect(texts, `chat ${chat}: all there, in order, none twice`).to.deep.equal(expected);
    }
    const stats = await sim.client.stats(token);
    expect(stats.messagesSent).to.equal(200);
    const limited = calls.filter((c) => c.status === 429);
    expect(limited.length).to.equal(3);
    for (const hit of limited) {
      const next = calls.find((c) => c.chat === hit.chat && c.at > hit.at);
      expect((next?.at ?? 0) - hit.at, `chat ${hit.chat} waited retry_after`).to.be.at.least(1990);
      const others = calls.filter((c) => c.chat !== hit.chat && c.at > hit.at && c.at < hit.at + 1900 && c.status === 200);
      expect(others.length, 'the other chats kept going meanwhile').to.be.at.least(3);
    }
    expect(outbox.stats()).to.include({ sent: 200, rateLimited: 3, uncertain: 0, queued: 0 });
    await outbox.stop(0);
  });

  it('a network failure: a send that may have arrived is not sent again (no duplicate); an edit is', async () => {
    sim = await startSim();
    const token = newToken();
    sim.users.sendMessage(token, { user: { id: 3001 }, text: 'hi' });
    const { api, outbox } = createOutboxApi(token, { apiRoot: sim.url });
    const first = await api.sendMessage({ chat_id: 3001, text: 'first' });
    await sim.client.addFault({ method: 'sendMessage', token, drop: true });
    let error: unknown;
    await api.sendMessage({ chat_id: 3001, text: 'lost' }).catch((err: unknown) => {
      error = err;
    });
    expect(error).to.be.instanceOf(UncertainDeliveryError);
    await sim.client.addFault({ method: 'editMessageText', token, drop: true });
    await api.editMessageText({ chat_id: 3001, message_id: first.message_id, text: 'first, edited' });
    const entries = (await sim.client.transcript(token, 3001)).entries;
    expect(entries.filter((e) => e.kind === 'sent').map((e) => e.text)).to.deep.equal(['first']);
    expect(entries.filter((e) => e.kind === 'edited').map((e) => e.text)).to.deep.equal(['first, edited']);
    expect(outbox.stats()).to.include({ uncertain: 1, resent: 1 });
    await outbox.stop(0);
  });

  it('a long reply is split on its way out; the keyboard rides on the last part', async () => {
    sim = await startSim();
    const token = newToken();
    sim.users.sendMessage(token, { user: { id: 3002 }, text: 'hi' });
    const { api, outbox } = createOutboxApi(token, { apiRoot: sim.url, timeoutMs: 10_000 });
    const text = Array.from({ length: 250 }, (_, i) => `paragraph ${i} ${'w'.repeat(30)}`).join('\n\n');
    const keyboard = { inline_keyboard: [[{ text: 'ok', callback_data: 'ok' }]] };
    const last = await api.sendMessage({ chat_id: 3002, text, reply_markup: keyboard });
    const sent = (await sim.client.transcript(token, 3002)).entries.filter((e) => e.kind === 'sent');
    expect(sent.length).to.equal(3);
    for (const e of sent) expect(e.text?.length).to.be.at.most(4096);
    expect(sent.map((e) => e.text).join('\n\n')).to.equal(text);
    expect(sent.map((e) => e.reply_markup)).to.deep.equal([undefined, undefined, keyboard]);
    expect(last.message_id).to.equal(sent[2]?.message_id);
    await outbox.stop(0);
  });
});
