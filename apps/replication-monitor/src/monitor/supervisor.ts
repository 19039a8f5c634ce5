import type { Logger } from '@fulcrum/runtime';
import type { ReplicationCluster } from '@fulcrum/schemas';
import type { HeartbeatConfig, SentinelConfig } from '../config.js';
import { MysqlNode } from '../mysql/mysql-node.js';
import { RedisNode } from '../redis/redis-node.js';
import { SentinelView } from '../redis/sentinel.js';
import { ClusterMonitor } from './cluster-monitor.js';
import type { HealthChange, RoundReport } from './cluster-monitor.js';
import type { NodeProbe } from './probe.js';

export interface SupervisorOptions {
  host: string;
  heartbeat: HeartbeatConfig;
  sentinels: Readonly<Record<string, SentinelConfig>>;
  logger: Logger;
  onChange: (change: HealthChange) => void;
  onRound?: (report: RoundReport) => void;
  /** A cluster no longer watched (removed or replaced). */
  onRemoved?: (cluster: ReplicationCluster) => void;
}

/** Statement budget: a poll must not run into the next one, and 2 s is plenty on a healthy network. */
export const timeoutFor = (checkIntervalSeconds: number): number => Math.min(2000, Math.max(100, checkIntervalSeconds * 1000));

/** Probes for each node of a cluster, with this monitor's heartbeat row or key. */
export function probesFor(c: ReplicationCluster, host: string, hb: HeartbeatConfig): NodeProbe[] {
  const timeoutMs = timeoutFor(c.checkInterval);
  const hbId = `${host}:${c.id}`;
  return c.nodes.map((n): NodeProbe => {
    if (c.engine === 'redis') {
      return new RedisNode({
        node: n.name,
        address: n.address,
        port: n.port,
        user: c.credentials?.user,
        password: c.credentials?.password,
        timeoutMs,
        heartbeatKey: hb.intervalMs > 0 ? `${hb.redisKeyPrefix}${hbId}` : undefined,
      });
    }
    return new MysqlNode({
      node: n.name,
      engine: c.engine,
      address: n.address,
      port: n.port,
      user: c.credentials?.user ?? '',
      password: c.credentials?.password,
      timeoutMs,
      heartbeat: hb.intervalMs > 0 ? { table: hb.table, id: hbId } : undefined,
    });
  });
}

/**
 * The Sentinels that decide a Redis cluster's primary: the cluster's own `sentinel` group, else the monitor
 * config's `sentinels.<cluster id>` (the older way to name it); none for MySQL/MariaDB.
 */
export function sentinelFor(c: ReplicationCluster, configured: Readonly<Record<string, SentinelConfig>>): SentinelConfig | undefined {
  if (c.engine !== 'redis') return undefined;
  if (c.sentinel) return { masterName: c.sentinel.masterName, nodes: c.sentinel.sentinels, password: c.sentinel.sentinelPassword };
  return configured[c.id];
}

/** Runs one ClusterMonitor per watched cluster, and replaces it when the cluster's definition changes. */
export class ReplicationSupervisor {
  private readonly running = new Map<string, { def: string; cluster: ReplicationCluster; monitor: ClusterMonitor; sentinel: SentinelView | null }>();

  constructor(private readonly opts: SupervisorOptions) {}

  get clusters(): string[] {
    return [...this.running.keys()];
  }

  monitor(id: string): ClusterMonitor | undefined {
    return this.running.get(id)?.monitor;
  }

  async setClusters(clusters: readonly ReplicationCluster[]): Promise<void> {
    const wanted = new Map(clusters.map((c) => [c.id, c]));
    for (const [id, r] of this.running) {
      const next = wanted.get(id);
      if (next && JSON.stringify(next) === r.def) continue;
      await this.remove(id);
    }
    for (const c of clusters) if (!this.running.has(c.id)) this.add(c);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.remove(id)));
  }

  private add(c: ReplicationCluster): void {
    const log = this.opts.logger.child({ cluster: c.id });
    const s = sentinelFor(c, this.opts.sentinels);
    const sentinel = s ? new SentinelView({ ...s, timeoutMs: timeoutFor(c.checkInterval) }) : null;
    const monitor = new ClusterMonitor({
      id: c.id,
      shape: c,
      probes: probesFor(c, this.opts.host, this.opts.heartbeat),
      intervalMs: c.checkInterval * 1000,
      heartbeatMs: this.opts.heartbeat.intervalMs,
      logger: log,
      onChange: this.opts.onChange,
      ...(this.opts.onRound ? { onRound: this.opts.onRound } : {}),
      ...(sentinel
        ? {
            sentinelPrimary: async () => {
              const m = await sentinel.master();
              return m ? (c.nodes.find((n) => n.address === m.address && n.port === m.port)?.name ?? null) : null;
            },
          }
        : {}),
    });
    this.running.set(c.id, { def: JSON.stringify(c), cluster: c, monitor, sentinel });
    log.info({ engine: c.engine, nodes: c.nodes.length, checkInterval: c.checkInterval, sentinel: sentinel !== null }, 'watching');
    monitor.start();
  }

  private async remove(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    r.sentinel?.close();
    await r.monitor.stop();
    this.opts.onRemoved?.(r.cluster);
  }
}
