/**
 * Who is who in the sandbox: the bot's token (Telegram-shaped, so every layer treats it as real,
 * and obviously fake, so nobody mistakes it for a secret) and the simulated person talking to
 * it. The person is the simulator's default user, so a bare control-API call without a `user`
 * field speaks as them too.
 */
import { DEFAULT_USER } from '@botvisor/bot-api-sim';

export const SANDBOX_TOKEN = '1234567890:SANDBOX_fake_token_not_for_Telegram';

export interface SandboxUser {
  id: number;
  first_name: string;
}

export const SANDBOX_USER: SandboxUser = { id: DEFAULT_USER.id, first_name: DEFAULT_USER.first_name };

/** The user's private chat with the bots: on Telegram, a private chat's id is the user's id. */
export const SANDBOX_CHAT_ID = SANDBOX_USER.id;
