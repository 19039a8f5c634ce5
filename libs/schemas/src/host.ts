import { z } from 'zod';
import { ipAddr, ipPrefix, slug } from './primitives.js';

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
    /**
     * The networks the host is attached to (its interfaces' prefixes, as `ip -br addr` shows them). A director
     * that lists them has each direct-routing real server checked against them: DR rewrites only the MAC
     * address, so a real server must sit on a segment of every director. Absent: not checked.
     */
    networks: z.array(ipPrefix).min(1, { message: 'lists no network: leave it out instead' }).max(64).optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (new Set(h.roles).size !== h.roles.length) ctx.addIssue({ code: 'custom', path: ['roles'], message: 'lists a role twice' });
    const seen = new Set<string>();
    h.networks?.forEach((n, i) => {
      if (seen.has(n)) ctx.addIssue({ code: 'custom', path: ['networks', i], message: `${n} is listed twice` });
      seen.add(n);
    });
  });
export type Host = z.infer<typeof host>;
