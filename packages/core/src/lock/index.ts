export {
  acquireOwnedLock,
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
