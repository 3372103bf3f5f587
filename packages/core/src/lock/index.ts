export { defaultLocksDir, ensureLocksDir, UnsafeLocksDirError } from './locks-dir.js';
export {
  acquireOwnedLock,
  describeLockOwner,
  type HeldLock,
  LockHeldError,
  type LockOwner,
  type OwnedLockOptions,
  ownerPathFor,
  readLockOwner,
  reclaimIfOwnerDead,
} from './owned-lock.js';
export {
  acquirePollingLock,
  POLLING_LOCK_SUBJECT,
  type PollingLockOptions,
  pollingLockOwner,
  pollingLockPath,
  tokenHash,
} from './polling-lock.js';
