/**
 * `doctor`'s checks of what the machine offers the supervisor, as opposed to what the config
 * says: whether the control socket's path fits the kernel's limit (or where it moves), and which
 * guarantee holds that a bot's descendants end with it (a cgroup v2 group, or the tree cookie only).
 */
import type { ControlConfig } from '@botvisor/core';
import { MAX_SOCKET_PATH_BYTES, planSocketPath, treeContainment } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';

export interface PlatformCheck {
  verdict: 'ok' | 'warn' | 'fail';
  what: string;
}

export function checkSocketPath(found: FoundConfig<ControlConfig>): PlatformCheck {
  const plan = planSocketPath(found.config.dataDir);
  if (!plan.relocated) return { verdict: 'ok', what: `control socket ${plan.path}` };
  if (!plan.fits) {
    return { verdict: 'fail', what: `the control socket path ${plan.natural} is longer than ${MAX_SOCKET_PATH_BYTES} bytes and so is the short one (${plan.path}); choose a shorter "dataDir"` };
  }
  return { verdict: 'ok', what: `the data dir is too deep for a socket path (${Buffer.byteLength(plan.natural)} bytes > ${MAX_SOCKET_PATH_BYTES}); the control socket is ${plan.path}` };
}

export function checkContainment(): PlatformCheck {
  const containment = treeContainment();
  return { verdict: containment.contained ? 'ok' : 'warn', what: containment.describe() };
}

export function platformChecks(found: FoundConfig<ControlConfig>): PlatformCheck[] {
  return [checkSocketPath(found), checkContainment()];
}
