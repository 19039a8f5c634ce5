import { z } from 'zod';
import { ipAddr, slug } from './primitives.js';

// The host inventory: which machine plays which role. Host names are slugs because they are NATS subject tokens.

export const HOST_ROLES = ['director', 'realserver', 'data'] as const;
export const hostRole = z.enum(HOST_ROLES);
export type HostRole = z.infer<typeof hostRole>;

export const host = z
  .object({
    kind: z.literal('host'),
    name: slug,
    description: z.string().max(200).optional(),
    roles: z.array(hostRole).min(1, { message: 'needs at least one role: director, realserver or data' }),
    /** The host's management address, for operators and tooling. */
    address: ipAddr.optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (new Set(h.roles).size !== h.roles.length) ctx.addIssue({ code: 'custom', path: ['roles'], message: 'lists a role twice' });
  });
export type Host = z.infer<typeof host>;
