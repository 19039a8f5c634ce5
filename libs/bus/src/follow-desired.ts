import { type DesiredObject, desiredBucket } from '@fulcrum/schemas';
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import { commitsBucket } from './commit-log.js';
import { type GenerationWatch, watchGenerations } from './generations.js';
import { openStore } from './store.js';

export interface FollowDesiredOptions {
  /** Keys or wildcards to follow, e.g. `vs.>` (all by default). */
  keys?: string | string[];
  logger: Logger;
  /** See GenerationWatchOptions.holdMs. */
  holdMs?: number;
}

/**
 * What an agent follows: the desired-state bucket, generation by generation. The bucket must exist (an error
 * otherwise, for the agent to retry); the commit log is only bound to, never created (agents may not create it).
 * The snapshot is read on the first `next()`, whose errors (NATS away, no bucket) are the caller's to retry.
 */
export async function followDesiredState(bus: Bus, opts: FollowDesiredOptions): Promise<GenerationWatch<DesiredObject>> {
  const desired = await openStore(bus, desiredBucket);
  return watchGenerations(desired, {
    openCommits: () => openStore(bus, commitsBucket, { bindOnly: true }),
    logger: opts.logger,
    link: bus,
    ...(opts.keys === undefined ? {} : { keys: opts.keys }),
    ...(opts.holdMs === undefined ? {} : { holdMs: opts.holdMs }),
  });
}
