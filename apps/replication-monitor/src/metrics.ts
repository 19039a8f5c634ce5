import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { NodeState } from './monitor/assess.js';
import type { RoundReport } from './monitor/cluster-monitor.js';

const STATES: NodeState[] = ['ok', 'lagging', 'broken', 'unreachable'];

/** Per-node replication metrics on the service's registry. */
export class ReplicationMetrics {
  private readonly lag: Gauge;
  private readonly behind: Gauge;
  private readonly bytes: Gauge;
  private readonly state: Gauge;
  private readonly primary: Gauge;
  private readonly io: Gauge;
  private readonly sql: Gauge;
  private readonly queries: Counter;
  private readonly events: Counter;
  private readonly poll: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['cluster', 'node'];
    this.lag = new Gauge({ name: 'fulcrum_replication_lag_seconds', help: 'Seconds a replica is behind its primary (heartbeat, else Seconds_Behind_Master)', labelNames, registers });
    this.behind = new Gauge({ name: 'fulcrum_replication_seconds_behind_master', help: 'Seconds_Behind_Master as the replica reports it', labelNames, registers });
    this.bytes = new Gauge({ name: 'fulcrum_replication_offset_lag_bytes', help: 'Redis: bytes of the primary stream a replica has not processed', labelNames, registers });
    this.state = new Gauge({ name: 'fulcrum_replication_node_state', help: '1 for the state each node is in', labelNames: [...labelNames, 'state'], registers });
    this.primary = new Gauge({ name: 'fulcrum_replication_primary', help: '1 for the node observed as the primary', labelNames, registers });
    this.io = new Gauge({ name: 'fulcrum_replication_io_running', help: 'Replica IO thread (Redis: link) running', labelNames, registers });
    this.sql = new Gauge({ name: 'fulcrum_replication_sql_running', help: 'Replica SQL thread running', labelNames, registers });
    this.queries = new Counter({ name: 'fulcrum_replication_queries_total', help: 'Statements or commands sent to a node by polls', labelNames, registers });
    this.events = new Counter({ name: 'fulcrum_replication_events_total', help: 'Health changes reported', labelNames: ['cluster', 'state'], registers });
    this.poll = new Histogram({
      name: 'fulcrum_replication_poll_seconds',
      help: 'Duration of one poll round of a cluster',
      labelNames: ['cluster'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  round(r: RoundReport): void {
    this.poll.observe({ cluster: r.cluster }, r.durationMs / 1000);
    for (const s of r.samples.values()) this.queries.inc({ cluster: r.cluster, node: s.node }, s.queries);
    for (const h of r.view.nodes.values()) {
      const l = { cluster: r.cluster, node: h.node };
      for (const st of STATES) this.state.set({ ...l, state: st }, h.state === st ? 1 : 0);
      this.primary.set(l, h.role === 'primary' ? 1 : 0);
      setOrRemove(this.lag, l, h.lagSeconds);
      setOrRemove(this.bytes, l, h.offsetLagBytes);
      setOrRemove(this.io, l, h.ioRunning === null ? null : Number(h.ioRunning));
      setOrRemove(this.sql, l, h.sqlRunning === null ? null : Number(h.sqlRunning));
      setOrRemove(this.behind, l, r.samples.get(h.node)?.replica?.secondsBehind ?? null);
    }
  }

  event(cluster: string, state: NodeState): void {
    this.events.inc({ cluster, state });
  }

  /** A cluster no longer watched: its series go. */
  forget(cluster: string, nodes: readonly string[]): void {
    for (const node of nodes) {
      const l = { cluster, node };
      for (const g of [this.lag, this.behind, this.bytes, this.primary, this.io, this.sql]) g.remove(l);
      for (const st of STATES) this.state.remove({ ...l, state: st });
    }
  }
}

function setOrRemove(g: Gauge, labels: Record<string, string>, v: number | null): void {
  if (v === null) g.remove(labels);
  else g.set(labels, v);
}
