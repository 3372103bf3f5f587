/**
 * Exit codes a bot process uses to tell the supervisor what happened; defined once, in the
 * process contract of @botvisor/core, and re-exported here for bot authors.
 */
export { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART } from '@botvisor/core';
