/**
 * A quantile of handler durations from the bots' cumulative histogram buckets (upper bounds in
 * HANDLER_SECONDS_BUCKETS), the way Prometheus' histogram_quantile estimates it: find the bucket
 * holding the rank, interpolate linearly inside it. Past the last bound, the last bound is all
 * that is known.
 */
import { HANDLER_SECONDS_BUCKETS } from '@botvisor/core';

/** `q` (0–1) of the observations in `buckets` (cumulative counts per bound) out of `count`, in ms; null without observations. */
export function histogramQuantileMs(q: number, buckets: readonly number[], count: number, bounds: readonly number[] = HANDLER_SECONDS_BUCKETS): number | null {
  if (count <= 0) return null;
  const rank = q * count;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upTo = buckets[i] ?? below;
    if (upTo >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] as number);
      const upper = bounds[i] as number;
      const inBucket = upTo - below;
      const share = inBucket > 0 ? (rank - below) / inBucket : 1;
      return (lower + (upper - lower) * share) * 1000;
    }
    below = upTo;
  }
  return (bounds[bounds.length - 1] as number) * 1000;
}
