/**
 * Watches the getUpdates calls open at the in-process simulator for one token, to tell the longest
 * stretch in a time window with nobody fetching: the poll gap of a hand-over.
 */
import type { SimHandle } from '@botvisor/bot-api-sim';

export interface PollGapWatch {
  /** The longest time (ms) within [from, to] (performance.now()) with no getUpdates open. */
  longestGap(from: number, to: number): number;
}

export function watchPollGaps(sim: SimHandle, token: string): PollGapWatch {
  const stats = sim.simulator.bot(token).stats;
  const changes: Array<[number, number]> = [];
  const arrived = stats.pollerArrived.bind(stats);
  const answered = stats.pollerAnswered.bind(stats);
  stats.pollerArrived = () => {
    arrived();
    changes.push([performance.now(), stats.snapshot().pendingPollers]);
  };
  stats.pollerAnswered = () => {
    answered();
    changes.push([performance.now(), stats.snapshot().pendingPollers]);
  };
  return {
    longestGap(from, to) {
      let open = 0;
      let idleSince: number | undefined;
      let gap = 0;
      for (const [t, n] of changes) {
        if (t < from) {
          open = n;
          if (n === 0) idleSince = t;
          continue;
        }
        if (t > to) break;
        if (open === 0 && n > 0) gap = Math.max(gap, t - Math.max(idleSince ?? from, from));
        if (open > 0 && n === 0) idleSince = t;
        open = n;
      }
      if (open === 0) gap = Math.max(gap, to - Math.max(idleSince ?? from, from));
      return gap;
    },
  };
}
