import type { EventData, ReplicationCluster } from '@fulcrum/schemas';

// Replication lag as an overlay: a replica the replication-monitor reports as lagging, broken or
// unreachable gets weight 0 in its cluster's read pool (the cluster's `readPool` virtual service;
// the replica is the real server with the node's address and port). A cluster without a read
// pool, and the primary, are never touched.

export interface LaggingServer {
  virtualService: string;
  address: string;
  port: number;
}

type ReplicationState = EventData<'replication'>['state'];

export class ReplicationOverlay {
  private readonly clusters = new Map<string, ReplicationCluster>();
  private readonly states = new Map<string, ReplicationState>();

  setCluster(cluster: ReplicationCluster): void {
    this.clusters.set(cluster.id, cluster);
  }

  deleteCluster(id: string): void {
    this.clusters.delete(id);
  }

  /** Records a replication event; returns whether the lagging set may have changed. */
  report(data: Pick<EventData<'replication'>, 'cluster' | 'node' | 'state'>): boolean {
    const key = `${data.cluster}|${data.node}`;
    if (this.states.get(key) === data.state) return false;
    this.states.set(key, data.state);
    return true;
  }

  lagging(): LaggingServer[] {
    const out: LaggingServer[] = [];
    for (const c of this.clusters.values()) {
      if (!c.readPool) continue;
      for (const n of c.nodes) {
        const state = this.states.get(`${c.id}|${n.name}`);
        if (n.role === 'replica' && state !== undefined && state !== 'ok') out.push({ virtualService: c.readPool.virtualService, address: n.address, port: n.port });
      }
    }
    return out;
  }
}
