/**
 * The method table: every Bot API method the sim implements, looked up case-insensitively as
 * Telegram does. A name not here is a 404 `Not Found`.
 */
import { commandMethods } from './commands.js';
import { documentMethods } from './documents.js';
import { identityMethods } from './identity.js';
import { interactionMethods } from './interactions.js';
import { messageMethods } from './messages.js';
import type { MethodHandler } from './method.js';
import { updateMethods } from './updates.js';

export { Described, type MethodContext, type MethodHandler } from './method.js';

const groups = [identityMethods, updateMethods, messageMethods, documentMethods, interactionMethods, commandMethods];

const byLowerCaseName = new Map<string, { name: string; handler: MethodHandler }>();
for (const group of groups) {
  for (const [name, handler] of Object.entries(group)) byLowerCaseName.set(name.toLowerCase(), { name, handler });
}

/** The method called `name` (any case), with its canonical name. */
export function findMethod(name: string): { name: string; handler: MethodHandler } | undefined {
  return byLowerCaseName.get(name.toLowerCase());
}

/** Canonical names of every implemented method, for the README's table and the health route. */
export function implementedMethods(): string[] {
  return [...byLowerCaseName.values()].map((m) => m.name);
}
