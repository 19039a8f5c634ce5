import { serviceConfig } from '@fulcrum/runtime';
import { replicationCluster, slug } from '@fulcrum/schemas';
import { z } from 'zod';

/** replication-monitor's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9706;

export const HEARTBEAT_DEFAULTS = { intervalMs: 500, table: 'fulcrum.heartbeat', redisKeyPrefix: 'fulcrum:heartbeat:' } as const;

const sentinel = z
  .object({
    masterName: z.string().min(1).max(200).describe('the name Sentinel monitors the master under'),
    nodes: z.array(z.object({ address: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).min(1),
    password: z.string().min(1).max(512).optional(),
  })
  .strict();

export const configSchema = serviceConfig({ statusPort: STATUS_PORT }).extend({
  clusters: z
    .array(z.preprocess((v) => (v && typeof v === 'object' && !('kind' in v) ? { kind: 'replication-cluster', ...v } : v), replicationCluster))
    .default([])
    .describe('replication clusters to watch without the bus (same fields as the desired state; the KV store overrides an id it also has)'),
  desiredState: z.boolean().default(true).describe('also watch the replication clusters of the desired-state KV store that list this host in monitorHosts'),
  heartbeat: z
    .object({
      intervalMs: z.number().int().min(0).max(60_000).default(HEARTBEAT_DEFAULTS.intervalMs).describe('heartbeat write interval on each primary (0: no heartbeat)'),
      table: z.string().regex(/^[A-Za-z0-9_$]{1,64}\.[A-Za-z0-9_$]{1,64}$/, 'must be db.table').default(HEARTBEAT_DEFAULTS.table).describe('MySQL/MariaDB heartbeat table'),
      redisKeyPrefix: z.string().min(1).max(200).default(HEARTBEAT_DEFAULTS.redisKeyPrefix).describe('Redis heartbeat key prefix'),
    })
    .strict()
    .default({ ...HEARTBEAT_DEFAULTS }),
  sentinels: z.record(slug, sentinel).default({}).describe('Redis clusters (by id) whose topology Sentinel decides, when the cluster does not name its own `sentinel` group'),
});
export type ReplicationMonitorConfig = z.infer<typeof configSchema>;
export type SentinelConfig = z.infer<typeof sentinel>;
export type HeartbeatConfig = ReplicationMonitorConfig['heartbeat'];
