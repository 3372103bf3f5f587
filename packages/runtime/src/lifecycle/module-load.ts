/**
 * Loading a bot's module, and the one sentence that says why it cannot be used: the file is
 * missing, an import cannot be resolved, it does not parse, it has no `defineBot` default export,
 * or its own code threw while it loaded. The sentence names the module and what to fix; the
 * supervisor shows it as the bot's problem (see REASON_LINE_PREFIX in core's process contract).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { EXIT_CONFIG, EXIT_FAILURE } from '@botvisor/core';
import { type BotDefinition, isBotDefinition } from '../define-bot.js';

export class ModuleLoadError extends Error {
  override readonly name = 'ModuleLoadError';
  constructor(
    message: string,
    /** 78 when only a person can fix it (missing file, unresolved import, syntax, no export); 1 when the module's own code threw, which a restart may not repeat. */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The first line of an error's message: the thrown text, never its stack. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.split('\n')[0]?.trim() ?? '';
}

const UNRESOLVED = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_UNSUPPORTED_DIR_IMPORT', 'ERR_UNKNOWN_FILE_EXTENSION', 'MODULE_NOT_FOUND']);

/** Imports `modulePath` and returns its bot definition (the default export, or a named `bot`); throws ModuleLoadError saying why not. */
export async function loadBotModule(modulePath: string): Promise<BotDefinition<object>> {
  if (!existsSync(modulePath)) throw new ModuleLoadError(`the module ${modulePath} does not exist; fix "module" in the config or build the bot`, EXIT_CONFIG);
  let loaded: { default?: unknown; bot?: unknown };
  try {
    loaded = (await import(pathToFileURL(modulePath).href)) as { default?: unknown; bot?: unknown };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && UNRESOLVED.has(code)) throw new ModuleLoadError(`the module ${modulePath} imports something that cannot be found: ${firstLine(err)}; install it or fix the import`, EXIT_CONFIG);
    if (err instanceof SyntaxError) throw new ModuleLoadError(`the module ${modulePath} does not parse: ${firstLine(err)}`, EXIT_CONFIG);
    throw new ModuleLoadError(`the module ${modulePath} threw while loading: ${firstLine(err)}`, EXIT_FAILURE);
  }
  const definition = loaded.default ?? loaded.bot;
  if (isBotDefinition(definition)) return definition;
  const what = definition === undefined ? 'has no default export' : 'has a default export that is not a bot';
  throw new ModuleLoadError(`the module ${modulePath} ${what} (expected \`export default defineBot(…)\`)`, EXIT_CONFIG);
}
