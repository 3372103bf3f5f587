/**
 * Conformance, sending: node-telegram-bot-api v2's `Api` against the sim for messages, edits,
 * deletes, chat actions, callback answers, document uploads and commands, plus the transport
 * rules (unknown method, bad token, two tokens isolated), with Telegram's exact descriptions.
 */
import { expect } from 'chai';
import { InputFile, TelegramApiError } from 'node-telegram-bot-api';
import { type SimHandle, startSim } from '../src/index.js';
import { apiFor, DEFAULT_CHAT, RawApi, rawCall, textOf, tokenFor } from './helpers.js';

const TOKEN = tokenFor(7101);
const OTHER_TOKEN = tokenFor(7102);

async function rejection(promise: Promise<unknown>): Promise<TelegramApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TelegramApiError) return error;
    throw error;
  }
  throw new Error('expected a TelegramApiError, but the call succeeded');
}

async function expectBadRequest(promise: Promise<unknown>, description: string): Promise<void> {
  const error = await rejection(promise);
  expect(error.errorCode).to.equal(400);
  expect(error.description).to.equal(`Bad Request: ${description}`);
}

describe('bot-api-sim conformance: sending', () => {
  let sim: SimHandle;

  beforeEach(async () => {
    sim = await startSim();
    await sim.client.sendMessage(TOKEN, { text: 'hello bot' }); // the chat exists once the user wrote
  });

  afterEach(async () => {
    await sim.close();
  });

  describe('sendMessage', () => {
    it('sends into a chat the user wrote in, and the transcript shows it', async () => {
      const message = await apiFor(sim.url, TOKEN).sendMessage({ chat_id: DEFAULT_CHAT, text: 'hi there' });
      expect(message.text).to.equal('hi there');
      expect(message.chat.id).to.equal(DEFAULT_CHAT);
      expect(message.from?.id).to.equal(7101);
      const transcript = await sim.client.transcript(TOKEN, DEFAULT_CHAT);
      expect(transcript.entries).to.have.length(1);
      expect(transcript.entries[0]).to.include({ kind: 'sent', message_id: message.message_id, text: 'hi there' });
      expect((await sim.client.stats(TOKEN)).messagesSent).to.equal(1);
    });

    it('refuses a chat the bot never met', async () => {
      await expectBadRequest(apiFor(sim.url, TOKEN).sendMessage({ chat_id: 424242, text: 'hi' }), 'chat not found');
    });

    it('refuses an empty text', async () => {
      await expectBadRequest(apiFor(sim.url, TOKEN).sendMessage({ chat_id: DEFAULT_CHAT, text: '' }), 'message text is empty');
      await expectBadRequest(apiFor(sim.url, TOKEN).sendMessage({ chat_id: DEFAULT_CHAT, text: '   ' }), 'message text is empty');
    });

    it('takes 4096 characters and refuses 4097', async () => {
      const api = apiFor(sim.url, TOKEN);
      expect((await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'x'.repeat(4096) })).text).to.have.length(4096);
      await expectBadRequest(api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'x'.repeat(4097) }), 'message is too long');
    });

    it('refuses MarkdownV2 with an unescaped reserved character, and parses it when escaped', async () => {
      const api = apiFor(sim.url, TOKEN);
      await expectBadRequest(
        api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Done. *Really*', parse_mode: 'MarkdownV2' }),
        "can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
      );
      const message = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Done\\. *Really*', parse_mode: 'MarkdownV2' });
      expect(message.text).to.equal('Done. Really');
      expect(message.entities).to.deep.equal([{ type: 'bold', offset: 6, length: 6 }]);
    });

    it('keeps the reply markup and the replied-to message', async () => {
      const api = apiFor(sim.url, TOKEN);
      const markup = { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] };
      const message = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Sure?', reply_markup: markup, reply_parameters: { message_id: 1 } });
      expect(message.reply_markup).to.deep.equal(markup);
      expect(message.reply_to_message?.text).to.equal('hello bot');
      await expectBadRequest(api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'x', reply_parameters: { message_id: 999 } }), 'message to be replied not found');
    });
  });

  describe('editMessageText and deleteMessage', () => {
    it('edits, refuses an unchanged edit, and records the edit', async () => {
      const api = apiFor(sim.url, TOKEN);
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'draft' });
      await expectBadRequest(
        api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: sent.message_id, text: 'draft' }),
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
      const edited = await api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: sent.message_id, text: 'final' });
      expect(edited).to.include({ text: 'final', message_id: sent.message_id });
      const kinds = (await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries.map((e) => [e.kind, e.text]);
      expect(kinds).to.deep.equal([
        ['sent', 'draft'],
        ['edited', 'final'],
      ]);
    });

    it('refuses to edit a message that does not exist or is not the bot’s', async () => {
      const api = apiFor(sim.url, TOKEN);
      await expectBadRequest(api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: 999, text: 'x' }), 'message to edit not found');
      await expectBadRequest(api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: 1, text: 'x' }), "message can't be edited");
    });

    it('deletes once, then the message is not found', async () => {
      const api = apiFor(sim.url, TOKEN);
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'temporary' });
      expect(await api.deleteMessage({ chat_id: DEFAULT_CHAT, message_id: sent.message_id })).to.equal(true);
      await expectBadRequest(api.deleteMessage({ chat_id: DEFAULT_CHAT, message_id: sent.message_id }), 'message to delete not found');
      const last = (await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries.at(-1);
      expect(last).to.include({ kind: 'deleted', message_id: sent.message_id });
    });
  });

  describe('chat actions, callback queries, commands', () => {
    it('records a chat action and refuses an unknown one', async () => {
      const api = apiFor(sim.url, TOKEN);
      expect(await api.sendChatAction({ chat_id: DEFAULT_CHAT, action: 'typing' })).to.equal(true);
      expect((await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries[0]).to.include({ kind: 'chat_action', action: 'typing' });
      await expectBadRequest(api.sendChatAction({ chat_id: DEFAULT_CHAT, action: 'dancing' as 'typing' }), 'wrong parameter action in request');
    });

    it('delivers a button tap and takes one answer to it', async () => {
      const api = apiFor(sim.url, TOKEN);
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Pick', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'pick:a' }]] } });
      const tap = await sim.client.tapButton(TOKEN, { message_id: sent.message_id, data: 'pick:a' });
      const updates = await api.getUpdates({ offset: tap.update_id! });
      const update = updates[0]!;
      if (!('callback_query' in update)) throw new Error('expected a callback_query update');
      expect(update.callback_query.data).to.equal('pick:a');
      expect(update.callback_query.id).to.equal(tap.callback_query_id);
      expect(update.callback_query.message?.message_id).to.equal(sent.message_id);

      expect(await api.answerCallbackQuery({ callback_query_id: update.callback_query.id, text: 'Picked A' })).to.equal(true);
      await expectBadRequest(
        api.answerCallbackQuery({ callback_query_id: update.callback_query.id }),
        'query is too old and response timeout expired or query ID is invalid',
      );
      expect((await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries.at(-1)).to.include({ kind: 'callback_answer', text: 'Picked A', message_id: sent.message_id });
    });

    it('delivers a command with its bot_command entity', async () => {
      const injected = await sim.client.sendCommand(TOKEN, { command: 'start', args: 'ref42' });
      const updates = await apiFor(sim.url, TOKEN).getUpdates({ offset: injected.update_id! });
      const update = updates[0]!;
      expect(textOf(update)).to.equal('/start ref42');
      if (!('message' in update)) throw new Error('expected a message update');
      expect(update.message.entities).to.deep.equal([{ type: 'bot_command', offset: 0, length: 6 }]);
    });

    it('stores commands per scope and language', async () => {
      const api = apiFor(sim.url, TOKEN);
      const commands = [{ command: 'start', description: 'Start' }, { command: 'help', description: 'Help' }];
      expect(await api.setMyCommands({ commands })).to.equal(true);
      expect(await api.getMyCommands()).to.deep.equal(commands);
      expect(await api.getMyCommands({ language_code: 'de' })).to.deep.equal([]);
      await expectBadRequest(api.setMyCommands({ commands: [{ command: 'Bad Command', description: 'x' }] }), 'BOT_COMMAND_INVALID');
    });
  });

  describe('sendDocument', () => {
    it('takes a multipart upload and records its name and size', async () => {
      const api = apiFor(sim.url, TOKEN);
      const bytes = new TextEncoder().encode('col1,col2\n1,2\n');
      const message = await api.sendDocument({
        chat_id: DEFAULT_CHAT,
        document: new InputFile(bytes, { filename: 'report.csv', contentType: 'text/csv' }),
        caption: 'Your report',
      });
      expect(message.document).to.include({ file_name: 'report.csv', file_size: bytes.length, mime_type: 'text/csv' });
      expect(message.caption).to.equal('Your report');
      const entry = (await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries[0]!;
      expect(entry).to.include({ kind: 'document', text: 'Your report', message_id: message.message_id });
      expect(entry.document).to.deep.equal({ file_name: 'report.csv', file_size: bytes.length, mime_type: 'text/csv' });

      const again = await api.sendDocument({ chat_id: DEFAULT_CHAT, document: message.document!.file_id });
      expect(again.document?.file_unique_id).to.equal(message.document?.file_unique_id);
    });

    it('refuses a request without a document and an unknown file id', async () => {
      const raw = await rawCall(`${sim.botUrl(TOKEN)}/sendDocument?chat_id=${DEFAULT_CHAT}`, { method: 'POST' });
      expect(raw.status).to.equal(400);
      expect(raw.body).to.deep.include({ description: 'Bad Request: there is no document in the request' });
      await expectBadRequest(apiFor(sim.url, TOKEN).sendDocument({ chat_id: DEFAULT_CHAT, document: 'no-such-file-id' }), 'wrong file identifier/HTTP URL specified');
    });
  });

  describe('transport', () => {
    it('answers 404 Not Found for an unknown method', async () => {
      const error = await rejection(new RawApi(TOKEN, { apiRoot: sim.url, maxRetries: 0 }).call('sendTelepathy', { chat_id: DEFAULT_CHAT }));
      expect(error.errorCode).to.equal(404);
      expect(error.description).to.equal('Not Found');
    });

    it('answers 401 Unauthorized for a token of the wrong shape', async () => {
      for (const token of ['not-a-token', '12345:short', ':AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
        const error = await rejection(apiFor(sim.url, token).getMe());
        expect(error.errorCode).to.equal(401);
        expect(error.description).to.equal('Unauthorized');
      }
    });

    it('takes GET with a query string, JSON, urlencoded bodies and any letter case of the method name', async () => {
      const base = sim.botUrl(TOKEN);
      expect((await rawCall(`${base}/getMe`)).body.ok).to.equal(true);
      const get = await rawCall(`${base}/sendMessage?chat_id=${DEFAULT_CHAT}&text=via%20get`);
      expect(get.body).to.deep.include({ ok: true });
      const json = await rawCall(`${base}/SENDMESSAGE`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ chat_id: DEFAULT_CHAT, text: 'via json' }) });
      expect(json.status).to.equal(200);
      const form = await rawCall(`${base}/sendmessage`, { method: 'POST', body: new URLSearchParams({ chat_id: String(DEFAULT_CHAT), text: 'via form' }) });
      expect(form.status).to.equal(200);
      const texts = (await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries.map((e) => e.text);
      expect(texts).to.deep.equal(['via get', 'via json', 'via form']);
    });

    it('keeps two tokens apart: updates, chats, identity and stats', async () => {
      const api = apiFor(sim.url, TOKEN);
      const other = apiFor(sim.url, OTHER_TOKEN);
      expect((await other.getMe()).id).to.equal(7102);
      expect(await other.getUpdates({ timeout: 0 })).to.deep.equal([], 'the other bot did not get this bot’s update');
      expect(await api.getUpdates({ timeout: 0 })).to.have.length(1);
      await expectBadRequest(other.sendMessage({ chat_id: DEFAULT_CHAT, text: 'hi' }), 'chat not found');

      const mine = await sim.client.sendMessage(OTHER_TOKEN, { text: 'for the other bot' });
      expect(mine.update_id).to.equal(1, 'update ids count per token');
      expect((await sim.client.stats(TOKEN)).getUpdatesCalls).to.equal(1);
      expect((await sim.client.stats(OTHER_TOKEN)).getUpdatesCalls).to.equal(1);
    });
  });
});
