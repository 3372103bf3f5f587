/**
 * Bot tokens: which strings the sim accepts as a token and the bot id inside one. Any token of
 * the right shape is a valid bot here; the sim has no BotFather. Tokens never appear in log
 * lines or error descriptions: callers refer to a bot by its id.
 */

/** `<bot id>:<secret>`; real secrets are 35 characters, the sim accepts 30 or more to be lenient. */
const TOKEN_SHAPE = /^(\d{1,20}):[A-Za-z0-9_-]{30,}$/;

export function isTokenShaped(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** The numeric bot id a token starts with, or undefined for a token of the wrong shape. */
export function botIdOf(token: string): number | undefined {
  const match = TOKEN_SHAPE.exec(token);
  return match === null ? undefined : Number(match[1]);
}
