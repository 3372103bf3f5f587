/** botvisor's import is @botvisor/runtime's public API: `defineBot` and its types. */
export * from '@botvisor/runtime';
