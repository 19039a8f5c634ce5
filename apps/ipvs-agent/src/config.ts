import { serviceConfig } from '@fulcrum/runtime';
import { ipAddr } from '@fulcrum/schemas';
import { z } from 'zod';

/** ipvs-agent's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9701;

export const ROLES = ['director', 'realserver'] as const;
export type Role = (typeof ROLES)[number];

/** A name under /run/netns. */
const netnsName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a network namespace name (letters, digits, . _ -)');

const seconds = (description: string, min: number, max: number, dflt: number) =>
  z.number().min(min).max(max).default(dflt).describe(`${description} (seconds)`);

export const directorConfig = z
  .object({
    netns: netnsName.optional().describe('network namespace whose IPVS table to program (/run/netns/NAME); default this process\'s'),
    driftCheckInterval: seconds('dump the kernel table and repair changes made by hand this often, 0 = never', 0, 86_400, 10),
    drainTime: seconds('a real server removed from the desired state stays at weight 0 this long before it is deleted', 0, 86_400, 0),
    coalesce: seconds('desired-state changes this close together are applied in one pass', 0, 10, 0.02),
    retryInterval: seconds('retry after the kernel refused writes or IPVS was unavailable', 0.1, 3_600, 5),
  })
  .strict();

export const realServerConfig = z
  .object({
    addresses: z
      .array(ipAddr)
      .default([])
      .describe("this host's real-server addresses; empty = the addresses of its interfaces other than lo"),
    statePath: z
      .string()
      .min(1)
      .default('/var/lib/fulcrum/ipvs-agent-realserver.json')
      .describe('where the agent records the addresses and sysctls it changed, so it undoes only those'),
    netns: netnsName.optional().describe("network namespace to configure; default this process's"),
  })
  .strict();

export const configSchema = serviceConfig({ statusPort: STATUS_PORT }).extend({
  role: z.enum(ROLES).default('director').describe('director: program IPVS; realserver: VIPs on lo and ARP sysctls for DR/TUN'),
  director: directorConfig.prefault({}),
  realServer: realServerConfig.prefault({}),
});
export type IpvsAgentConfig = z.infer<typeof configSchema>;
