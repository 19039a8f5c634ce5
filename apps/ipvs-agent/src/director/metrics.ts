import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { IpvsDump } from '@fulcrum/netlink';
import { describeDestination, describeKey } from '@fulcrum/netlink';
import type { IpvsStats } from '@fulcrum/schemas';

// /metrics for the director: the kernel's counters per service and real server (refreshed from
// every full dump: at start and at each drift check), and the agent's own writes and pass times.

type StatName = 'conns' | 'inPackets' | 'outPackets' | 'inBytes' | 'outBytes';
const STATS: [StatName, string, string][] = [
  ['conns', 'connections', 'connections scheduled'],
  ['inPackets', 'in_packets', 'packets in'],
  ['outPackets', 'out_packets', 'packets out'],
  ['inBytes', 'in_bytes', 'bytes in'],
  ['outBytes', 'out_bytes', 'bytes out'],
];

export class DirectorMetrics {
  private readonly service: Map<StatName, Gauge<'service'>>;
  private readonly destination: Map<StatName, Gauge<'service' | 'destination'>>;
  private readonly active: Gauge<'service' | 'destination'>;
  private readonly inactive: Gauge<'service' | 'destination'>;
  private readonly weight: Gauge<'service' | 'destination'>;
  readonly writes: Counter<'op' | 'result'>;
  readonly passes: Histogram<'kind'>;
  readonly drift: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.service = new Map(
      STATS.map(([k, name, help]) => [k, new Gauge({ name: `fulcrum_ipvs_service_${name}`, help: `Kernel counter: ${help} (per service)`, labelNames: ['service'], registers })]),
    );
    this.destination = new Map(
      STATS.map(([k, name, help]) => [
        k,
        new Gauge({ name: `fulcrum_ipvs_destination_${name}`, help: `Kernel counter: ${help} (per real server)`, labelNames: ['service', 'destination'], registers }),
      ]),
    );
    const destGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['service', 'destination'] as const, registers });
    this.active = destGauge('fulcrum_ipvs_destination_active_connections', 'Active connections of a real server');
    this.inactive = destGauge('fulcrum_ipvs_destination_inactive_connections', 'Inactive connections of a real server');
    this.weight = destGauge('fulcrum_ipvs_destination_weight', 'Weight the kernel holds for a real server');
    this.writes = new Counter({ name: 'fulcrum_ipvs_writes_total', help: 'Netlink writes by operation and result', labelNames: ['op', 'result'], registers });
    this.passes = new Histogram({
      name: 'fulcrum_ipvs_reconcile_seconds',
      help: 'Duration of reconcile passes (kind: apply or drift)',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
      registers,
    });
    this.drift = new Counter({ name: 'fulcrum_ipvs_drift_corrections_total', help: 'Kernel entries found changed by someone else and corrected', registers });
  }

  /** Replaces every per-service and per-destination series with what the dump holds. */
  updateFromDump(dump: IpvsDump): void {
    for (const g of this.service.values()) g.reset();
    for (const g of this.destination.values()) g.reset();
    this.active.reset();
    this.inactive.reset();
    this.weight.reset();
    const num = (s: IpvsStats, k: StatName) => Number(s[k]);
    for (const s of dump.services) {
      const service = describeKey(s.service.key);
      for (const [k, g] of this.service) g.set({ service }, num(s.stats, k));
      for (const d of s.destinations) {
        const labels = { service, destination: describeDestination(d.destination) };
        for (const [k, g] of this.destination) g.set(labels, num(d.stats, k));
        this.active.set(labels, d.activeConns);
        this.inactive.set(labels, d.inactiveConns);
        this.weight.set(labels, d.destination.weight);
      }
    }
  }
}
