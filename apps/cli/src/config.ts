import { LOG_LEVELS, logConfig } from '@fulcrum/runtime';
import { secret } from '@fulcrum/schemas';
import { z } from 'zod';

/** fulcrumctl reads FULCRUMCTL_* so that a service's FULCRUM_* settings on the same host do not leak in. */
export const ENV_PREFIX = 'FULCRUMCTL_';

export const configSchema = z
  .object({
    api: z
      .object({
        url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:9780').describe('config-api base URL (https needs a CA the system trusts, or NODE_EXTRA_CA_CERTS)'),
        token: secret().optional().describe('bearer token (better: FULCRUMCTL_API__TOKEN in the environment)'),
        timeoutMs: z.number().int().min(100).max(600_000).default(30_000).describe('how long one request may take'),
      })
      .strict()
      .prefault({}),
    color: z.enum(['auto', 'always', 'never']).default('auto').describe('colour output: auto = on a terminal and NO_COLOR unset'),
    log: logConfig
      .extend({ level: z.enum(LOG_LEVELS).default('warn').describe('least severe level written (to stderr)') })
      .prefault({}),
  })
  .strict();
export type CliConfig = z.infer<typeof configSchema>;
