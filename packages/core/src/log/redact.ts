/**
 * Token redaction: the one place that knows what a secret looks like in text.
 *
 * Telegram bot tokens have a fixed shape (`<bot id>:<30+ url-safe chars>`), so any string that
 * reaches a log line is scrubbed by pattern, including URLs such as `…/bot<token>/getUpdates`
 * that HTTP clients embed in their error messages and stacks. The pattern covers every token the
 * config accepts (config/tokens.ts's TOKEN_SHAPE: bot ids of 1 to 20 digits). Secrets of other
 * shapes (a bearer token, a simulator token), and every configured token with its secret part on
 * its own (which survives URL-encoding of the colon), are registered explicitly and scrubbed by
 * exact match.
 */

/** A Telegram bot token: numeric bot id, a colon, then the secret part. Same bounds as TOKEN_SHAPE. */
export const TELEGRAM_TOKEN_PATTERN = /(?<![0-9])(\d{1,20}):[A-Za-z0-9_-]{30,}/g;

const registeredSecrets = new Set<string>();

/** Marks an exact string as secret for every logger in this process. Short strings are refused: redacting "a" would mangle every line. */
export function registerSecret(secret: string): void {
  if (secret.length < 8) throw new Error('registerSecret: refusing a secret shorter than 8 characters; it would mangle log lines');
  registeredSecrets.add(secret);
}

/** Registers a bot token as a secret: the whole token and its secret part, which can appear without the `<id>:` (`123%3A…` in a query string). */
export function registerBotToken(token: string): void {
  registerSecret(token);
  const secret = token.slice(token.indexOf(':') + 1);
  if (secret.length >= 8 && secret !== token) registerSecret(secret);
}

/** Replaces every token-shaped substring and every registered secret in `text`. The bot id stays: it is public and helps to tell bots apart. */
export function redact(text: string): string {
  let out = text.replace(TELEGRAM_TOKEN_PATTERN, '$1:<redacted>');
  for (const secret of registeredSecrets) {
    if (out.includes(secret)) out = out.split(secret).join('<redacted>');
  }
  return out;
}
