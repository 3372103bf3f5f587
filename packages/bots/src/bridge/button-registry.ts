/**
 * Inline keyboard buttons and their handlers, checked against each other at start-up: a button
 * whose callback data no handler matches is a "ghost button" (the seed report's audit found
 * them: the user taps, the spinner turns, nothing happens). Each button is declared with an
 * example of its callback data; every example must be matched by a handler, or start-up fails.
 */

export interface ButtonDeclaration {
  name: string;
  /** A concrete callback_data this button produces, e.g. `bridge:stop:12`. */
  example: string;
}

export class GhostButtonError extends Error {
  override readonly name = 'GhostButtonError';
}

export class ButtonRegistry {
  private readonly buttons: ButtonDeclaration[] = [];
  private readonly handlers: RegExp[] = [];

  declare(button: ButtonDeclaration): void {
    if (button.example.length > 64) throw new GhostButtonError(`button "${button.name}": callback data "${button.example}" is over Telegram's 64-byte limit`);
    this.buttons.push(button);
  }

  /** A handler for callback data matching `pattern` (also registered on the bot by the caller). */
  handles(pattern: RegExp): RegExp {
    this.handlers.push(pattern);
    return pattern;
  }

  /** Throws for the first declared button that no handler would answer. */
  verify(): void {
    for (const b of this.buttons) {
      if (!this.handlers.some((h) => h.test(b.example))) {
        throw new GhostButtonError(`ghost button "${b.name}": its callback data "${b.example}" matches no handler; register one or remove the button`);
      }
    }
  }
}
