import type { IpvsDestination, IpvsScheduler, IpvsService, IpvsServiceKey, IpvsStats, IpvsTimeouts } from '@fulcrum/schemas';
import { IPVS_SCHEDULERS, destinationId, familyOf, serviceId } from '@fulcrum/schemas';
import { canonicalIp } from '../ip.js';
import type { DumpedDestination, DumpedService, IpvsDaemon, IpvsInfo } from '../ipvs/codec.js';
import { canonicalDestination, canonicalService, serviceFamily, zeroStats } from '../ipvs/codec.js';
import type { IpvsControl, IpvsDump, IpvsOp, IpvsOpResult } from '../ipvs/control.js';
import { ipvsErrorFor } from '../ipvs/control.js';
import { IpvsError } from '../ipvs/errors.js';
import { ApplyBackedIpvs, describeDaemon } from '../ipvs/apply-backed.js';

// An IPVS table in memory that answers like ip_vs_ctl.c: EEXIST for a service or destination that
// is already there, ESRCH for any command on a service that is not, ENOENT for a destination that
// is not (edit/delete) or a scheduler the "kernel" lacks, ERANGE for thresholds the wrong way round,
// EINVAL for GUE without a port, EEXIST/ESRCH for daemons already running / not running. It counts
// every write the way the kernel would see it, so a spec can assert "no writes on restart".

/** Debian 6.1's schedulers: every one in the schema but `twos` (added in Linux 6.2). */
export const KERNEL_6_1_SCHEDULERS: readonly IpvsScheduler[] = IPVS_SCHEDULERS.filter((s) => s !== 'twos');

export interface InMemoryIpvsOptions {
  schedulers?: readonly IpvsScheduler[];
  persistenceEngines?: readonly string[];
  /** What SchedulerUnavailableError names as the kernel (default '6.1.0-fake'). */
  kernel?: string;
  connTableSize?: number;
}

interface Dest {
  destination: IpvsDestination;
  stats: IpvsStats;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
}
interface Svc {
  service: IpvsService;
  stats: IpvsStats;
  dests: Map<string, Dest>;
}

export class InMemoryIpvs extends ApplyBackedIpvs implements IpvsControl {
  private readonly services = new Map<string, Svc>();
  private readonly daemons = new Map<IpvsDaemon['state'], IpvsDaemon>();
  private timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  private readonly schedulers: Set<string>;
  private readonly engines: Set<string>;
  private readonly kernel: string;
  private readonly connTableSize: number;
  /** Every write the kernel would have received, in order (failed ones included). */
  readonly writes: IpvsOp[] = [];
  /** Number of dump() / info() / getTimeouts() / listDaemons() calls. */
  reads = 0;
  closed = false;

  constructor(opts: InMemoryIpvsOptions = {}) {
    super();
    this.schedulers = new Set(opts.schedulers ?? KERNEL_6_1_SCHEDULERS);
    this.engines = new Set(opts.persistenceEngines ?? ['sip']);
    this.kernel = opts.kernel ?? '6.1.0-fake';
    this.connTableSize = opts.connTableSize ?? 4096;
  }

  /** Number of writes so far (the agent's specs assert on deltas of this). */
  get writeCount(): number {
    return this.writes.length;
  }

  /** Sets counters as if traffic had flowed (destination omitted: the service's own counters). */
  setStats(key: IpvsServiceKey, stats: Partial<IpvsStats>, destination?: Pick<IpvsDestination, 'address' | 'port'>): void {
    const svc = this.services.get(serviceId(canonicalKey(key)));
    if (!svc) throw new Error(`setStats: no service ${serviceId(key)}`);
    const target = destination ? svc.dests.get(destinationId(canonicalDestinationKey(destination))) : svc;
    if (!target) throw new Error(`setStats: no destination ${destinationId(destination ?? { address: '?', port: 0 })}`);
    target.stats = { ...target.stats, ...stats };
  }

  /** Sets connection counts of a destination. */
  setConnections(key: IpvsServiceKey, destination: Pick<IpvsDestination, 'address' | 'port'>, c: { active?: number; inactive?: number; persistent?: number }): void {
    const d = this.services.get(serviceId(canonicalKey(key)))?.dests.get(destinationId(canonicalDestinationKey(destination)));
    if (!d) throw new Error(`setConnections: no destination ${destinationId(destination)} in ${serviceId(key)}`);
    if (c.active !== undefined) d.activeConns = c.active;
    if (c.inactive !== undefined) d.inactiveConns = c.inactive;
    if (c.persistent !== undefined) d.persistentConns = c.persistent;
  }

  /** The table as it stands (canonical form, same as a dump). */
  table(): IpvsService[] {
    return [...this.services.values()].map((s) => ({ ...structuredClone(s.service), destinations: [...s.dests.values()].map((d) => structuredClone(d.destination)) }));
  }

  private errno(op: IpvsOp, errno: string): IpvsError {
    return ipvsErrorFor(op, errno, this.kernel);
  }

  /** Applies one write; returns the errno name the kernel would return, or null. */
  private write(op: IpvsOp): string | null {
    this.writes.push(op);
    switch (op.op) {
      case 'flush':
        this.services.clear();
        return null;
      case 'setTimeouts': {
        const t = op.timeouts;
        this.timeouts = { tcp: t.tcp || this.timeouts.tcp, tcpFin: t.tcpFin || this.timeouts.tcpFin, udp: t.udp || this.timeouts.udp };
        return null;
      }
      case 'zero':
        if (!op.key) {
          for (const s of this.services.values()) zeroService(s);
          return null;
        }
        break;
      default:
        break;
    }
    const key = op.op === 'addService' || op.op === 'editService' ? op.service.key : op.key;
    if (!key) return 'EINVAL';
    const id = serviceId(canonicalKey(key));
    const svc = this.services.get(id);
    if (op.op === 'addService') {
      if (svc) return 'EEXIST';
      const bad = this.checkService(op.service);
      if (bad) return bad;
      const service = canonicalService({ ...op.service, destinations: [] });
      this.services.set(id, { service, stats: zeroStats(), dests: new Map() });
      return null;
    }
    if (!svc) return 'ESRCH';
    switch (op.op) {
      case 'editService': {
        const bad = this.checkService(op.service);
        if (bad) return bad;
        svc.service = canonicalService({ ...op.service, destinations: [] });
        return null;
      }
      case 'deleteService':
        this.services.delete(id);
        return null;
      case 'zero':
        zeroService(svc);
        return null;
      case 'addDestination':
      case 'editDestination': {
        const d = op.destination;
        if (d.lowerThreshold > d.upperThreshold) return 'ERANGE';
        if (d.forward === 'tunnel' && d.tunnelType === 'gue' && d.tunnelPort === 0) return 'EINVAL';
        // Mixed families are only allowed for tunnel forwarding (ip_vs_genl_set_cmd).
        if (familyOf(d.address) !== serviceFamily(svc.service.key) && d.forward !== 'tunnel') return 'EINVAL';
        const did = destinationId(canonicalDestinationKey(d));
        const existing = svc.dests.get(did);
        if (op.op === 'addDestination') {
          if (existing) return 'EEXIST';
          svc.dests.set(did, { destination: canonicalDestination(d), stats: zeroStats(), activeConns: 0, inactiveConns: 0, persistentConns: 0 });
        } else {
          if (!existing) return 'ENOENT';
          existing.destination = canonicalDestination(d);
        }
        return null;
      }
      case 'deleteDestination': {
        const did = destinationId(canonicalDestinationKey(op.destination));
        if (!svc.dests.delete(did)) return 'ENOENT';
        return null;
      }
    }
    return 'EINVAL';
  }

  private checkService(s: IpvsService): string | null {
    if (!this.schedulers.has(s.scheduler)) return 'ENOENT';
    if (s.persistenceEngine && !this.engines.has(s.persistenceEngine)) return 'ENOENT';
    return null;
  }

  async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    return ops.map((op) => {
      const errno = this.write(op);
      return errno ? { op, ok: false, error: this.errno(op, errno) } : { op, ok: true };
    });
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    this.reads += 1;
    return { ...this.timeouts };
  }

  async info(): Promise<IpvsInfo> {
    this.reads += 1;
    return { version: '1.2.1', versionCode: 0x010201, connTableSize: this.connTableSize };
  }

  async startDaemon(daemon: IpvsDaemon): Promise<void> {
    this.daemonWrites += 1;
    if (this.daemons.has(daemon.state)) {
      throw new IpvsError('EEXIST', 'startDaemon', describeDaemon(daemon));
    }
    this.daemons.set(daemon.state, { ...daemon });
  }

  async stopDaemon(state: IpvsDaemon['state']): Promise<void> {
    this.daemonWrites += 1;
    if (!this.daemons.delete(state)) throw new IpvsError('ESRCH', 'stopDaemon', describeDaemon({ state }));
  }

  /** Daemon starts and stops (kept apart from table writes). */
  daemonWrites = 0;

  async listDaemons(): Promise<IpvsDaemon[]> {
    this.reads += 1;
    return [...this.daemons.values()].map((d) => ({ ...d }));
  }

  async dump(): Promise<IpvsDump> {
    this.reads += 1;
    const services: DumpedService[] = [...this.services.values()].map((s) => {
      const destinations: DumpedDestination[] = [...s.dests.values()].map((d) => ({
        destination: structuredClone(d.destination),
        activeConns: d.activeConns,
        inactiveConns: d.inactiveConns,
        persistentConns: d.persistentConns,
        stats: { ...d.stats },
      }));
      return {
        service: { ...structuredClone(s.service), destinations: destinations.map((d) => structuredClone(d.destination)) },
        stats: { ...s.stats },
        destinations,
      };
    });
    return { services };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function zeroService(s: Svc): void {
  s.stats = zeroStats();
  for (const d of s.dests.values()) d.stats = zeroStats();
}

function canonicalKey(key: IpvsServiceKey): IpvsServiceKey {
  return key.kind === 'addr' ? { ...key, address: canonicalIp(key.address) } : key;
}

function canonicalDestinationKey(d: Pick<IpvsDestination, 'address' | 'port'>): Pick<IpvsDestination, 'address' | 'port'> {
  return { address: canonicalIp(d.address), port: d.port };
}
