import { type DesiredObject, desiredBucket } from '@fulcrum/schemas';
import type { Logger } from 'pino';
import { type Bus, NatsBus } from './bus.js';
import { commitsBucket } from './commit-log.js';
import { type GenerationWatch, watchGenerations } from './generations.js';
import { openStore } from './store.js';

export interface FollowDesiredOptions {
  /** Keys or wildcards to follow, e.g. `vs.>` (all by default). */
  keys?: string | string[];
  logger: Logger;
  /** See GenerationWatchOptions.holdMs; default 5 s, or 2 x the bus's timeoutMs when that is longer (a slow host). */
  holdMs?: number;
}

/**
 * What an agent follows: the desired-state bucket, generation by generation. The bucket must exist (an error
 * otherwise, for the agent to retry); the commit log is only bound to, never created (agents may not create it).
 * The snapshot is read on the first `next()`, whose errors (NATS away, no bucket) are the caller's to retry.
 */
export async function followDesiredState(bus: Bus, opts: FollowDesiredOptions): Promise<GenerationWatch<DesiredObject>> {
  const desired = await openStore(bus, desiredBucket);
  // A commit's next write may take up to a KV timeout to arrive: holding less would split commits on a slow host.
  const holdMs = opts.holdMs ?? Math.max(5000, bus instanceof NatsBus ? 2 * bus.timeoutMs : 0);
  return watchGenerations(desired, {
    holdMs,
    openCommits: () => openStore(bus, commitsBucket, { bindOnly: true }),
    logger: opts.logger,
    link: bus,
    ...(opts.keys === undefined ? {} : { keys: opts.keys }),
  });
}
