import { z } from 'zod';
import { endpointWithDefaultPort, ipAddr, secret, seconds, servicePort, slug } from './primitives.js';

// A replication cluster watched by the replication-monitor: MySQL/MariaDB primary/replica or Redis
// master/replica. A replica that is broken or too far behind loses its weight in the read pool's virtual service;
// the write pool's virtual service keeps weight only on the primary the monitor observes, so it follows a
// promotion (done by the DBA or by Sentinel, never by Fulcrum).

export const REPLICATION_DEFAULTS = {
  /** Seconds between checks of each node. */
  checkInterval: 5,
  /** Seconds_Behind_Master (or Redis replication lag) that is worth a warning, and that takes a replica out. */
  warnLagSeconds: 5,
  maxLagSeconds: 30,
} as const;

export const replicationNode = z
  .object({
    name: slug,
    address: ipAddr,
    port: servicePort,
    role: z.enum(['primary', 'replica']),
  })
  .strict();
export type ReplicationNode = z.infer<typeof replicationNode>;

/** A pool governed by the cluster: the virtual service whose real servers are the cluster's nodes. */
const pool = z.object({ virtualService: slug }).strict();

/** The monitored master's name in Sentinel (`sentinel monitor <name> ...`). */
export const sentinelMasterName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be a Sentinel master name (letters, digits, . _ -)' });

/** Redis only: the Sentinel group whose answer decides which node is the primary. */
export const replicationSentinel = z
  .object({
    masterName: sentinelMasterName,
    sentinels: z.array(endpointWithDefaultPort(26379)).min(1, { message: 'needs at least one sentinel' }),
    sentinelPassword: secret().optional(),
  })
  .strict();
export type ReplicationSentinel = z.infer<typeof replicationSentinel>;

export const replicationClusterObject = z
  .object({
    kind: z.literal('replication-cluster'),
    id: slug,
    description: z.string().max(200).optional(),
    engine: z.enum(['mysql', 'mariadb', 'redis']),
    nodes: z.array(replicationNode).min(2, { message: 'needs a primary and at least one replica' }),
    /** Account the monitor logs in with (MySQL needs REPLICATION CLIENT; Redis: ACL user or none). */
    credentials: z.object({ user: z.string().min(1).max(128).optional(), password: secret().optional() }).strict().optional(),
    checkInterval: seconds(0.1, 3600).default(REPLICATION_DEFAULTS.checkInterval),
    lag: z
      .object({
        warnSeconds: z.number().min(0).default(REPLICATION_DEFAULTS.warnLagSeconds),
        maxSeconds: z.number().min(0).default(REPLICATION_DEFAULTS.maxLagSeconds),
      })
      .strict()
      .default({ warnSeconds: REPLICATION_DEFAULTS.warnLagSeconds, maxSeconds: REPLICATION_DEFAULTS.maxLagSeconds }),
    /** The virtual service whose real servers are the replicas: a lagging or broken replica gets weight 0 there. */
    readPool: pool.optional(),
    /**
     * The virtual service for writes: only the primary the monitor observes keeps its weight there, every other node
     * gets weight 0, so writes follow a failover. Its real servers are nodes of the cluster (any that may be promoted).
     */
    writePool: pool.optional(),
    /** Redis: ask these Sentinels which node is the primary (`SENTINEL get-master-addr-by-name`). */
    sentinel: replicationSentinel.optional(),
    /** Data hosts that run the monitor. */
    monitorHosts: z.array(slug).min(1, { message: 'needs at least one data host to run the monitor' }),
  })
  .strict();

export const replicationCluster = replicationClusterObject.superRefine((c, ctx) => {
  const primaries = c.nodes.filter((n) => n.role === 'primary');
  if (primaries.length !== 1) {
    ctx.addIssue({ code: 'custom', path: ['nodes'], message: `needs exactly one primary (found ${primaries.length})` });
  }
  const names = new Map<string, number>();
  const endpoints = new Map<string, number>();
  c.nodes.forEach((n, i) => {
    const a = names.get(n.name);
    if (a !== undefined) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `"${n.name}" is already nodes[${a}]` });
    else names.set(n.name, i);
    const key = `${n.address}|${n.port}`;
    const b = endpoints.get(key);
    if (b !== undefined) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'address'], message: `${n.address} port ${n.port} is already nodes[${b}]` });
    else endpoints.set(key, i);
  });
  if (c.lag.warnSeconds > c.lag.maxSeconds) {
    ctx.addIssue({ code: 'custom', path: ['lag', 'warnSeconds'], message: `(${c.lag.warnSeconds}) must not exceed maxSeconds (${c.lag.maxSeconds})` });
  }
  if (c.sentinel && c.engine !== 'redis') {
    ctx.addIssue({ code: 'custom', path: ['sentinel'], message: `is for redis clusters only (engine is ${c.engine})` });
  }
  if (c.readPool && c.writePool && c.readPool.virtualService === c.writePool.virtualService) {
    ctx.addIssue({
      code: 'custom',
      path: ['writePool', 'virtualService'],
      message: `"${c.writePool.virtualService}" is the read pool too: the write pool holds the primary only, the read pool the replicas`,
    });
  }
  if (c.engine !== 'redis' && c.credentials?.user === undefined) {
    ctx.addIssue({ code: 'custom', path: ['credentials', 'user'], message: `is required to log in to ${c.engine}` });
  }
});
export type ReplicationCluster = z.infer<typeof replicationCluster>;
