/**
 * File-system conventions shared by every package: the modes of what botvisor writes.
 */
export { makePrivateDir, makePrivateDirSync, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-paths.js';
