import type { EventOf, ReplicationCluster } from '@fulcrum/schemas';

// Replication as an overlay on the weights, from what the replication-monitor observes (never from the roles
// configured in the cluster, which are only where a cluster starts):
// - read pool: a node the monitor reports as a replica that is lagging, broken or unreachable gets weight 0;
// - write pool: every node but the observed primary gets weight 0, so writes follow a failover or promotion.
// A real server is the pool's real server with the node's address and port. Reports are ordered by event time,
// newest wins, so a stale status entry read at start never overrides a newer event (and monitors on several data
// hosts agree on the latest word).

export interface ZeroWeightServer {
  virtualService: string;
  address: string;
  port: number;
  /** lagging: a replica not fit for reads; not-primary: a node in the write pool that is not the primary. */
  reason: 'lagging' | 'not-primary';
}

type Report = Pick<EventOf<'replication'>['data'], 'role' | 'state'> & { at: number };

/** What the overlay needs of a replication event. */
export type ReplicationReport = Pick<EventOf<'replication'>, 'time'> & { data: Pick<EventOf<'replication'>['data'], 'cluster' | 'node' | 'role' | 'state'> };

export class ReplicationOverlay {
  private readonly clusters = new Map<string, ReplicationCluster>();
  private readonly reports = new Map<string, Report>();

  setCluster(cluster: ReplicationCluster): void {
    this.clusters.set(cluster.id, cluster);
  }

  deleteCluster(id: string): void {
    this.clusters.delete(id);
  }

  /**
   * Records a replication event (or a status entry); returns whether the weights may have changed, i.e. the node's
   * role or state did. A report older than the one already held is ignored.
   */
  report(event: ReplicationReport): boolean {
    const { cluster, node, role, state } = event.data;
    const at = Date.parse(event.time);
    const key = `${cluster}|${node}`;
    const before = this.reports.get(key);
    if (before && before.at > at) return false;
    this.reports.set(key, { role, state, at });
    return before?.role !== role || before.state !== state;
  }

  /**
   * The primary the monitor observes: the node whose newest report says primary (the newest such report when
   * two say so, during a switch); the configured primary while no node has reported as one.
   */
  primaryOf(cluster: ReplicationCluster): string | null {
    let best: { node: string; at: number } | null = null;
    for (const n of cluster.nodes) {
      const r = this.reports.get(`${cluster.id}|${n.name}`);
      if (r?.role === 'primary' && (!best || r.at > best.at)) best = { node: n.name, at: r.at };
    }
    return best?.node ?? cluster.nodes.find((n) => n.role === 'primary')?.name ?? null;
  }

  /** Every real server the replication state puts at weight 0. */
  zeroWeight(): ZeroWeightServer[] {
    const out: ZeroWeightServer[] = [];
    for (const c of this.clusters.values()) {
      const primary = this.primaryOf(c);
      for (const n of c.nodes) {
        const r = this.reports.get(`${c.id}|${n.name}`);
        const isPrimary = n.name === primary;
        if (c.readPool && !isPrimary && r !== undefined && r.state !== 'ok') {
          out.push({ virtualService: c.readPool.virtualService, address: n.address, port: n.port, reason: 'lagging' });
        }
        if (c.writePool && !isPrimary) out.push({ virtualService: c.writePool.virtualService, address: n.address, port: n.port, reason: 'not-primary' });
      }
    }
    return out;
  }
}
