import { LOG_LEVELS, logConfig } from '@fulcrum/runtime';
import { z } from 'zod';

/** fulcrumctl reads FULCRUMCTL_* so that a service's FULCRUM_* settings on the same host do not leak in. */
export const ENV_PREFIX = 'FULCRUMCTL_';

export const configSchema = z
  .object({
    log: logConfig
      .extend({ level: z.enum(LOG_LEVELS).default('warn').describe('least severe level written (to stderr)') })
      .prefault({}),
  })
  .strict();
export type CliConfig = z.infer<typeof configSchema>;
