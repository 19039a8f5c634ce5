// Replication mode: the master is the one the replication-monitor observes for a Redis replication cluster.
// The monitor's word comes as reports (its status entries at start, then its `replication` events); the node
// names in them become addresses through the cluster object of the desired state. Reports are ordered by event
// time and the newest wins, so a status entry read at start never overrides a newer event, and monitors on
// several data hosts agree on the latest word. Until a report names a primary there is no master: the cluster's
// configured roles say where it started, not where it is, so the proxy does not guess from them.
import type { EventOf, ReplicationCluster } from '@fulcrum/schemas';
import type { MasterAddress } from './upstream.js';

/** What the proxy needs of a replication event or a status entry. */
export type ReplicationReport = Pick<EventOf<'replication'>, 'time'> & {
  data: Pick<EventOf<'replication'>['data'], 'cluster' | 'node' | 'role' | 'state'>;
};

/** Receives what the feed hears about the cluster. */
export interface ReplicationSink {
  /** The cluster object (for its nodes' addresses); null when it does not exist (not yet, or deleted). */
  cluster(cluster: ReplicationCluster | null): void;
  /** A replication event or status entry; those of other clusters are ignored. */
  report(report: ReplicationReport): void;
}

/**
 * Where replication mode hears about the cluster: in production the bus (desired state, status bucket,
 * events: see replication-feed.ts); in unit specs a double that calls the sink directly.
 */
export interface ReplicationFeed {
  /** Starts delivering to `sink` (called once). */
  start(sink: ReplicationSink): void;
  close(): Promise<void> | void;
}

/** The master a cluster's reports name, and why there is none while there is none. */
export class ReplicationMaster implements ReplicationSink {
  private shape: ReplicationCluster | null = null;
  private readonly reports = new Map<string, { role: 'primary' | 'replica'; at: number }>();
  private named: { node: string; address: MasterAddress } | null = null;

  /** `onChange` is called whenever the named master changes (null: none is known any more). */
  constructor(
    readonly clusterId: string,
    private readonly onChange: (master: MasterAddress | null, node: string | null) => void = () => undefined,
  ) {}

  /** The master's address, null while none is known. */
  get master(): MasterAddress | null {
    return this.named?.address ?? null;
  }

  /** The master's node name, null while none is known. */
  get node(): string | null {
    return this.named?.node ?? null;
  }

  /** Why there is no master, in words (for errors and PROXY STATUS); null when there is one. */
  get waitingFor(): string | null {
    if (this.named) return null;
    const id = this.clusterId;
    if (!this.shape) return `replication cluster "${id}" is not in the desired state (yet)`;
    if (this.shape.engine !== 'redis') return `replication cluster "${id}" is a ${this.shape.engine} cluster, not redis`;
    const primary = this.newestPrimary();
    if (primary === null) return `the replication-monitor has not reported a primary of cluster "${id}" yet`;
    return `the replication-monitor reports "${primary}" as the primary of cluster "${id}", which is not one of its nodes`;
  }

  cluster(cluster: ReplicationCluster | null): void {
    this.shape = cluster !== null && cluster.id === this.clusterId ? cluster : null;
    this.decide();
  }

  report(r: ReplicationReport): void {
    if (r.data.cluster !== this.clusterId) return;
    const at = Date.parse(r.time);
    const before = this.reports.get(r.data.node);
    if (before && before.at > at) return;
    this.reports.set(r.data.node, { role: r.data.role, at });
    this.decide();
  }

  /** The node whose newest report says primary (the newest such report while two say so, during a switch). */
  private newestPrimary(): string | null {
    let best: { node: string; at: number } | null = null;
    for (const [node, r] of this.reports) if (r.role === 'primary' && (!best || r.at > best.at)) best = { node, at: r.at };
    return best?.node ?? null;
  }

  private decide(): void {
    const primary = this.newestPrimary();
    const n = this.shape?.engine === 'redis' ? this.shape.nodes.find((x) => x.name === primary) : undefined;
    const next = n ? { node: n.name, address: { address: n.address, port: n.port } } : null;
    const prev = this.named;
    if (prev?.node === next?.node && prev?.address.address === next?.address.address && prev?.address.port === next?.address.port) return;
    this.named = next;
    this.onChange(next?.address ?? null, next?.node ?? null);
  }
}
