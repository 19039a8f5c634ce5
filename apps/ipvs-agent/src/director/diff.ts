import type { IpvsDestination, IpvsServiceKey } from '@fulcrum/schemas';
import { destinationId, serviceId } from '@fulcrum/schemas';
import type { IpvsOp } from '@fulcrum/netlink';
import type { ModelService, TableModel } from './table-model.js';
import { sameDestination, sameService } from './table-model.js';

// Current kernel table vs effective table -> the fewest ordered netlink writes.
// Order: new and changed services first (destinations need their service), then destination
// adds and edits, then destination removals, then service removals. A changed weight, threshold
// or forwarding method is one edit; a service whose key changed is a different service (add + delete).
//
// Gentle removal: a destination that must go while it still has weight > 0 is first set to
// weight 0 (existing connections finish, new ones go elsewhere); it is deleted on a later pass,
// once the caller's `mayRemove` says its drain time is over. A destination already at weight 0
// is deleted as soon as `mayRemove` allows.

export interface DiffOptions {
  /** Whether a destination at weight 0 that is no longer wanted may be deleted now (default: yes). */
  mayRemove?: (serviceKey: IpvsServiceKey, destination: IpvsDestination) => boolean;
  /** Set weight 0 before deleting a destination that still has weight (default: true). */
  drainBeforeRemove?: boolean;
  /**
   * Services an earlier diff found equal, with the two entries it compared. A service whose current
   * and wanted entries are still those very objects is not compared again: a full pass where
   * nothing changed costs a lookup per service. diffTables keeps this up to date; it is only for
   * callers that change a current entry in place solely by applying this diff's ops.
   */
  verified?: Map<string, { have: ModelService; want: ModelService }>;
}

export interface PendingRemoval {
  key: IpvsServiceKey;
  destination: IpvsDestination;
  /** `<service id>#<destination id>`: stable across passes, for the caller's drain clock. */
  id: string;
}

export interface TableDiff {
  ops: IpvsOp[];
  /** Destinations that are draining toward removal (weight 0 now or set to 0 by `ops`). */
  pending: PendingRemoval[];
  changes: { added: number; updated: number; removed: number };
}

export const pendingId = (key: IpvsServiceKey, d: Pick<IpvsDestination, 'address' | 'port'>): string =>
  `${serviceId(key)}#${destinationId(d)}`;

export function diffTables(current: TableModel, wanted: TableModel, opts: DiffOptions = {}): TableDiff {
  const mayRemove = opts.mayRemove ?? (() => true);
  const drainFirst = opts.drainBeforeRemove ?? true;
  const services: IpvsOp[] = [];
  const destAdds: IpvsOp[] = [];
  const destRemovals: IpvsOp[] = [];
  const serviceRemovals: IpvsOp[] = [];
  const pending: PendingRemoval[] = [];
  const changes = { added: 0, updated: 0, removed: 0 };
  const verified = opts.verified;

  for (const [id, want] of wanted) {
    const key = want.service.key;
    const have = current.get(id);
    const seen = verified?.get(id);
    if (seen && seen.have === have && seen.want === want) continue;
    const before = services.length + destAdds.length + destRemovals.length + pending.length;
    if (!have) {
      services.push({ op: 'addService', service: want.service });
      changes.added += 1;
      for (const d of want.dests.values()) destAdds.push({ op: 'addDestination', key, destination: d });
      changes.added += want.dests.size;
      verified?.delete(id);
      continue;
    }
    if (!sameService(have.service, want.service)) {
      services.push({ op: 'editService', service: want.service });
      changes.updated += 1;
    }
    for (const [did, d] of want.dests) {
      const had = have.dests.get(did);
      if (!had) {
        destAdds.push({ op: 'addDestination', key, destination: d });
        changes.added += 1;
      } else if (!sameDestination(had, d)) {
        destAdds.push({ op: 'editDestination', key, destination: d });
        changes.updated += 1;
      }
    }
    for (const [did, had] of have.dests) {
      if (want.dests.has(did)) continue;
      const p = { key, destination: { ...had, weight: 0 }, id: pendingId(key, had) };
      if (had.weight > 0 && drainFirst) {
        destAdds.push({ op: 'editDestination', key, destination: p.destination });
        changes.updated += 1;
        pending.push(p);
      } else if (mayRemove(key, had)) {
        destRemovals.push({ op: 'deleteDestination', key, destination: { address: had.address, port: had.port } });
        changes.removed += 1;
      } else {
        pending.push(p);
      }
    }
    if (!verified) continue;
    if (services.length + destAdds.length + destRemovals.length + pending.length === before) verified.set(id, { have, want });
    else verified.delete(id);
  }
  for (const [id, have] of current) {
    if (wanted.has(id)) continue;
    verified?.delete(id);
    serviceRemovals.push({ op: 'deleteService', key: have.service.key });
    changes.removed += 1;
  }
  return { ops: [...services, ...destAdds, ...destRemovals, ...serviceRemovals], pending, changes };
}
