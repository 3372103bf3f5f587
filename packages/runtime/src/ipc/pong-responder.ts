/**
 * The answer to the supervisor's `ping`: a `pong` with the same seq, carrying the bot's health
 * figures (event-loop delay, queue depth, running jobs, cumulative counters) for the watchdog
 * and /metrics.
 */
import type { BotCountersCollector } from './bot-counters.js';
import type { HealthProbe } from './health-probe.js';
import type { SupervisorLink } from './supervisor-link.js';

export interface PongFigures {
  probe: HealthProbe;
  counters: BotCountersCollector;
  /** Updates waiting for a handler. */
  queueDepth: () => number;
  /** CLI jobs running now. */
  runningJobs: () => number;
  /** CLI jobs waiting in queues. */
  queuedJobs: () => number;
}

export function answerPings(link: SupervisorLink, figures: PongFigures): void {
  link.on('ping', (m) => {
    link.send({
      type: 'pong',
      seq: m.seq,
      eventLoopDelayMs: figures.probe.takeEventLoopDelayMs(),
      queueDepth: figures.queueDepth(),
      runningJobs: figures.runningJobs(),
      counters: figures.counters.snapshot(figures.queuedJobs()),
    });
  });
}
