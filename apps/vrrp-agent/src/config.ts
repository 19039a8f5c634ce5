import { serviceConfig } from '@fulcrum/runtime';
import { interfaceName, slug, vrrpInstance } from '@fulcrum/schemas';
import { z } from 'zod';

/** vrrp-agent's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9702;

const ms = (description: string, min: number, max: number, dflt: number) =>
  z.number().min(min).max(max).default(dflt).describe(`${description} (seconds)`);

export const announceConfig = z
  .object({
    count: z.number().int().min(1).max(100).default(5).describe('gratuitous ARPs per burst after becoming master (garp_master_repeat)'),
    interval: ms('between the ARPs of a burst (garp_interval)', 0, 1, 0),
    repeatDelay: ms('a second burst this long after the first, 0 = none (garp_master_delay)', 0, 1000, 5),
    refresh: ms('a burst every this long while master, 0 = never (garp_master_refresh)', 0, 86_400, 0),
  })
  .strict();

/** IPVS connection sync follows one instance: master = sync master, else sync backup (through ipvs-agent). */
export const ipvsSyncConfig = z
  .object({
    instance: slug.describe('the VRRP instance whose state drives the IPVS sync daemon role'),
    interface: interfaceName.optional().describe("interface of the sync daemon; default the instance's"),
    syncId: z.number().int().min(0).max(255).default(0).describe('sync id (--syncid); the same on both directors'),
  })
  .strict();

export const configSchema = serviceConfig({ statusPort: STATUS_PORT }).extend({
  instances: z
    .array(z.preprocess((v) => (v && typeof v === 'object' && !('kind' in v) ? { kind: 'vrrp-instance', ...v } : v), vrrpInstance))
    .default([])
    .describe('VRRP instances to run at once, without the bus (same fields as the desired state; the KV store overrides an id it also has)'),
  desiredState: z.boolean().default(true).describe('also take the instances for this host from the desired-state KV store (when NATS is reachable)'),
  announce: announceConfig.prefault({}),
  linkResyncInterval: ms('link states (down or no carrier = fault) follow rtnetlink notifications; all are also re-read this often', 0.1, 3600, 10),
  ipvsSync: ipvsSyncConfig.optional(),
  startupHold: ms(
    "after the agent starts, an instance whose VIPs carry virtual services stays in fault until this host's IPVS table holds them, at most this long; 0 = no hold",
    0,
    3600,
    30,
  ),
});
export type VrrpAgentConfig = z.infer<typeof configSchema>;
