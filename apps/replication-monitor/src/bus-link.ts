import { followDesiredState, StatusPublisher } from '@fulcrum/bus';
import type { Bus, GenerationBatch, GenerationWatch } from '@fulcrum/bus';
import type { Logger } from '@fulcrum/runtime';
import { desiredKeyFilter, makeEvent, statusKey } from '@fulcrum/schemas';
import type { DesiredObject, EventOf, ReplicationCluster } from '@fulcrum/schemas';
import type { NodeHealth } from './monitor/assess.js';
import type { HealthChange } from './monitor/cluster-monitor.js';

const MESSAGE_MAX = 500;

/** The replication event of a node's health; the message says why, and names a primary change first. */
export function replicationEventData(cluster: string, h: NodeHealth, primaryWas: string | null = null): EventOf<'replication'>['data'] {
  const lead = primaryWas !== null ? (h.role === 'primary' ? `primary changed: ${h.node} (was ${primaryWas}); ` : `primary changed (was ${primaryWas}); `) : '';
  const message = `${lead}${h.message}`;
  return {
    cluster,
    node: h.node,
    role: h.role,
    state: h.state,
    lagSeconds: h.lagSeconds,
    ioRunning: h.ioRunning,
    sqlRunning: h.sqlRunning,
    message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 1)}…` : message,
  };
}

export interface ReplicationLinkOptions {
  host: string;
  logger: Logger;
  configClusters: readonly ReplicationCluster[];
  followDesired: boolean;
  /** Receives the clusters to watch, each time they change. */
  onClusters: (clusters: ReplicationCluster[]) => void;
  refreshMs?: number;
}

/**
 * The monitor's side of NATS: a `replication` event on every change of a node's health, the latest of each node
 * in the status bucket (re-put with the current lag before it expires, deleted when no longer watched), and the
 * replication clusters of the desired state that name this host in monitorHosts.
 */
export class ReplicationLink {
  private readonly status: StatusPublisher<'replication'>;
  private watch: GenerationWatch<DesiredObject> | null = null;
  private readonly desired = new Map<string, ReplicationCluster>();
  private closed = false;

  constructor(private readonly opts: ReplicationLinkOptions) {
    this.status = new StatusPublisher('replication', {
      host: opts.host,
      logger: opts.logger,
      withoutBucket: 'replication only as events',
      ...(opts.refreshMs !== undefined ? { refreshMs: opts.refreshMs } : {}),
    });
  }

  start(): void {
    this.opts.onClusters(this.clusters());
  }

  async attach(bus: Bus): Promise<void> {
    if (this.closed) return;
    // Changes seen before NATS answered are announced late rather than never.
    await this.status.attach(bus, { republish: true });
    if (this.opts.followDesired) await this.followDesired(bus);
  }

  /** A change of health: logged, published, stored. */
  changed(c: HealthChange): void {
    const data = replicationEventData(c.cluster, c.health, c.primaryWas);
    const event = this.event(data);
    const level = c.health.state === 'ok' ? 'info' : 'warn';
    this.opts.logger[level]({ cluster: c.cluster, node: c.health.node, role: c.health.role, state: c.health.state, previous: c.previous?.state ?? null, lagSeconds: c.health.lagSeconds }, data.message ?? '');
    this.status.publish(event);
  }

  /** The current figures of a node without a change of health: kept for the next status refresh. */
  current(cluster: string, h: NodeHealth): void {
    const key = statusKey('replication', this.opts.host, cluster, h.node);
    const prev = this.status.get(key);
    // Keep the message of the change (it may name a primary change) but the current lag.
    this.status.remember(this.event({ ...replicationEventData(cluster, h), ...(prev?.data.message !== undefined && prev.data.state === h.state ? { message: prev.data.message } : {}) }));
  }

  removed(cluster: ReplicationCluster): void {
    for (const n of cluster.nodes) this.status.forget(statusKey('replication', this.opts.host, cluster.id, n.name));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.status.close();
    this.watch?.stop();
  }

  private event(data: EventOf<'replication'>['data']): EventOf<'replication'> {
    return makeEvent('replication', { service: 'replication-monitor', host: this.opts.host }, data);
  }

  private clusters(): ReplicationCluster[] {
    const out = [...this.desired.values()];
    for (const c of this.opts.configClusters) if (!this.desired.has(c.id)) out.push(c);
    return out;
  }

  private mine(obj: DesiredObject): obj is ReplicationCluster {
    return obj.kind === 'replication-cluster' && obj.monitorHosts.includes(this.opts.host);
  }

  /** The desired state generation by generation: the clusters of a commit change together, never half. */
  private async followDesired(bus: Bus): Promise<void> {
    const watch = await followDesiredState(bus, { keys: desiredKeyFilter('replication-cluster'), logger: this.opts.logger });
    this.watch = watch;
    const batches = watch[Symbol.asyncIterator]();
    const take = (batch: GenerationBatch<DesiredObject>) => {
      this.desired.clear();
      for (const e of batch.state.values()) if (this.mine(e.value)) this.desired.set(e.value.id, e.value);
      if (!this.closed) this.opts.onClusters(this.clusters());
    };
    const first = await batches.next();
    if (first.done || this.closed) return;
    take(first.value);
    void (async () => {
      for (let next = await batches.next(); !next.done; next = await batches.next()) take(next.value);
    })().catch((err: unknown) => this.opts.logger.error({ err }, 'desired-state watch ended'));
  }
}
