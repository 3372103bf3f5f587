/**
 * botvisor — the one package a user installs. Its import is the bot-writing API: `defineBot` and
 * the rest of @botvisor/runtime's public API (which ships inside this package).
 */
export * from '@botvisor/runtime';
