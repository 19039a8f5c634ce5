import type { IpvsDestination, IpvsService, RealServer, SorryServer, VirtualService } from '@fulcrum/schemas';
import { destinationId, healthChecksOf, serviceId, toIpvsDestination, toIpvsService } from '@fulcrum/schemas';
import { canonicalDestination, canonicalIp, canonicalService } from '@fulcrum/netlink';
import type { ModelService, TableModel } from './table-model.js';

// Desired virtual services + what is observed about their real servers (health, operator drain,
// replication lag) -> the table the kernel should hold. Pure: the quorum state of the previous
// pass comes in and the new one goes out, because keepalived's hysteresis depends on it.

/** A real server of a virtual service, as the overlays name it: `<vs id>|<address>|<port>`. */
export const realServerKey = (virtualService: string, address: string, port: number): string =>
  `${virtualService}|${canonicalIp(address)}|${port}`;

export interface HealthState {
  state: 'up' | 'down';
  /** Weight the checks ask for (dynamic weight); absent = the configured one. */
  weight?: number | undefined;
}

export interface Overlays {
  /** Latest health per real server key; absent = not checked yet. */
  health: ReadonlyMap<string, HealthState>;
  /** Drained by an operator: weight 0, entry kept so existing connections finish. */
  drained: ReadonlySet<string>;
  /** Replicas too far behind their primary: weight 0. */
  lagging: ReadonlySet<string>;
}

export const noOverlays = (): Overlays => ({ health: new Map(), drained: new Set(), lagging: new Set() });

/** Why a real server has the weight it has (for logs and the dry-run). */
export type WeightReason = 'configured' | 'health-weight' | 'down' | 'drained' | 'lagging' | 'quorum-lost';

export interface EffectiveResult {
  table: TableModel;
  /** Quorum state per virtual service id (true = up), for the next pass. */
  quorum: Map<string, boolean>;
  /** Virtual services left out because another one already has their kernel key. */
  conflicts: { virtualService: string; sameKeyAs: string }[];
  /** The kernel service id each virtual service in `table` produced. */
  owners: Map<string, string>;
}

/** A real server is alive unless its checks say down, or it has checks, `alpha` is set and none reported yet. */
function isAlive(vs: VirtualService, rs: RealServer, health: HealthState | undefined): boolean {
  if (health) return health.state === 'up';
  return !(vs.alpha && healthChecksOf(vs, rs).length > 0);
}

/**
 * keepalived's quorum: up while the live weight is at least `quorum`; once up it is lost only below
 * quorum - hysteresis, and once lost it comes back only at quorum + hysteresis.
 */
export function quorumUp(liveWeight: number, vs: Pick<VirtualService, 'quorum' | 'hysteresis'>, previous: boolean | undefined): boolean {
  if (previous === undefined) return liveWeight >= vs.quorum;
  if (previous) return liveWeight >= vs.quorum - vs.hysteresis;
  return liveWeight >= vs.quorum + vs.hysteresis;
}

function sorryDestination(vs: VirtualService, s: SorryServer, weight: number): IpvsDestination {
  return toIpvsDestination(vs, { address: s.address, port: s.port, forwarding: s.forwarding, tunnel: s.tunnel, weight, upperThreshold: 0, lowerThreshold: 0 }, weight);
}

/** The destinations of one virtual service and whether its quorum holds. */
export function effectiveDestinations(
  vs: VirtualService,
  overlays: Overlays,
  previousQuorum: boolean | undefined,
): { destinations: IpvsDestination[]; quorum: boolean; liveWeight: number } {
  const live: IpvsDestination[] = [];
  let liveWeight = 0;
  for (const rs of vs.realServers) {
    const key = realServerKey(vs.id, rs.address, rs.port);
    const health = overlays.health.get(key);
    if (!isAlive(vs, rs, health)) {
      if (vs.inhibitOnFailure) live.push(toIpvsDestination(vs, rs, 0));
      continue;
    }
    const weight = overlays.drained.has(key) || overlays.lagging.has(key) ? 0 : (health?.weight ?? rs.weight);
    liveWeight += weight;
    live.push(toIpvsDestination(vs, rs, weight));
  }
  const quorum = quorumUp(liveWeight, vs, previousQuorum);
  const sorry = vs.sorryServer;
  if (!sorry) return { destinations: live, quorum, liveWeight };
  if (!quorum) return { destinations: [sorryDestination(vs, sorry, 1)], quorum, liveWeight };
  // Back above quorum: the sorry server goes, or stays at weight 0 when it is inhibited.
  return { destinations: sorry.inhibit ? [...live, sorryDestination(vs, sorry, 0)] : live, quorum, liveWeight };
}

interface CachedEffective {
  vs: VirtualService;
  service: IpvsService;
  id: string;
  /** What the quorum is computed from; the destinations depend on the quorum, not on how it came about. */
  liveWeight: number;
  /** The table entry (service + destinations), shared by every pass that reuses it; never changed. */
  model: ModelService;
  quorum: boolean;
}

/**
 * What effectiveTable computed for each virtual service, reused while the VirtualService object is
 * the same one (they are never changed in place) and its quorum comes out the same: a full pass over a
 * table where nothing changed then costs lookups, not 50,000 destinations rebuilt. The overlays
 * are not compared: whoever changes one calls `forget(id)` for that virtual service, or `clear()`.
 */
export class EffectiveCache {
  private readonly entries = new Map<string, CachedEffective>();

  forget(virtualService: string): void {
    this.entries.delete(virtualService);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** For effectiveTable: the entry of this very object. */
  entry(vs: VirtualService): CachedEffective | undefined {
    const e = this.entries.get(vs.id);
    return e?.vs === vs ? e : undefined;
  }

  /** For effectiveTable. */
  keep(e: CachedEffective): void {
    this.entries.set(e.vs.id, e);
  }
}

function canonicalDestinations(destinations: IpvsDestination[]): Map<string, IpvsDestination> {
  const dests = new Map<string, IpvsDestination>();
  for (const d of destinations) {
    const c = canonicalDestination(d);
    dests.set(destinationId(c), c);
  }
  return dests;
}

/**
 * The whole effective table, in canonical form, ready for diff(). When two virtual services have
 * the same kernel key, the one that had it in the previous pass (`previousOwners`) keeps it, else
 * the first by id: a new, conflicting service never takes a running one's place. With a `cache`,
 * unchanged virtual services reuse their last result (see EffectiveCache).
 */
export function effectiveTable(
  services: Iterable<VirtualService>,
  overlays: Overlays,
  previousQuorum: ReadonlyMap<string, boolean> = new Map(),
  previousOwners: ReadonlyMap<string, string> = new Map(),
  cache?: EffectiveCache,
): EffectiveResult {
  const table: TableModel = new Map();
  const owner = new Map<string, string>();
  const quorum = new Map<string, boolean>();
  const conflicts: EffectiveResult['conflicts'] = [];
  const owners = new Map<string, string>();
  const keyed = [...services].map((vs) => {
    const hit = cache?.entry(vs);
    const service = hit?.service ?? canonicalService(toIpvsService(vs, []));
    const id = hit?.id ?? serviceId(service.key);
    return { vs, service, id, hit, rank: previousOwners.get(vs.id) === id ? 0 : 1 };
  });
  keyed.sort((a, b) => a.rank - b.rank || (a.vs.id < b.vs.id ? -1 : a.vs.id > b.vs.id ? 1 : 0));
  for (const { vs, service, id, hit } of keyed) {
    const before = previousQuorum.get(vs.id);
    let e = hit && quorumUp(hit.liveWeight, vs, before) === hit.quorum ? hit : undefined;
    if (!e) {
      const r = effectiveDestinations(vs, overlays, before);
      e = { vs, service, id, liveWeight: r.liveWeight, model: { service, dests: canonicalDestinations(r.destinations) }, quorum: r.quorum };
      cache?.keep(e);
    }
    quorum.set(vs.id, e.quorum);
    const first = owner.get(id);
    if (first !== undefined) {
      conflicts.push({ virtualService: vs.id, sameKeyAs: first });
      continue;
    }
    owner.set(id, vs.id);
    owners.set(vs.id, id);
    table.set(id, e.model);
  }
  return { table, quorum, conflicts, owners };
}
