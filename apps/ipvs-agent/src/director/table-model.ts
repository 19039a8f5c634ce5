import type { IpvsDestination, IpvsService, IpvsTable } from '@fulcrum/schemas';
import { destinationId, serviceId } from '@fulcrum/schemas';
import type { IpvsOp } from '@fulcrum/netlink';
import { canonicalDestination, canonicalService } from '@fulcrum/netlink';

// The IPVS table keyed for lookups: service id -> service (settings only) + destinations by id.
// Both sides of a diff use it, so a 50,000-destination comparison is map lookups, not scans.

export interface ModelService {
  /** The service's settings; `destinations` is always [] here (they live in `dests`). */
  service: IpvsService;
  dests: Map<string, IpvsDestination>;
}
export type TableModel = Map<string, ModelService>;

/** The table in canonical form (as a kernel dump returns it), keyed by service and destination id. */
export function toModel(table: IpvsTable): TableModel {
  const model: TableModel = new Map();
  for (const s of table.services) {
    const c = canonicalService(s);
    const dests = new Map<string, IpvsDestination>();
    for (const d of c.destinations) dests.set(destinationId(d), d);
    model.set(serviceId(c.key), { service: { ...c, destinations: [] }, dests });
  }
  return model;
}

export function toTable(model: TableModel): IpvsTable {
  return { services: [...model.values()].map((m) => ({ ...m.service, destinations: [...m.dests.values()] })) };
}

export function countDestinations(model: TableModel): number {
  let n = 0;
  for (const s of model.values()) n += s.dests.size;
  return n;
}

/** Applies ops the kernel accepted to the cached copy of its table, so the next diff needs no dump. */
export function applyToModel(model: TableModel, op: IpvsOp): void {
  switch (op.op) {
    case 'addService':
    case 'editService': {
      const id = serviceId(op.service.key);
      const c = canonicalService({ ...op.service, destinations: [] });
      const existing = model.get(id);
      if (existing) existing.service = c;
      else model.set(id, { service: c, dests: new Map() });
      return;
    }
    case 'deleteService':
      model.delete(serviceId(op.key));
      return;
    case 'addDestination':
    case 'editDestination':
      model.get(serviceId(op.key))?.dests.set(destinationId(op.destination), canonicalDestination(op.destination));
      return;
    case 'deleteDestination':
      model.get(serviceId(op.key))?.dests.delete(destinationId(op.destination));
      return;
    case 'flush':
      model.clear();
      return;
    case 'zero':
    case 'setTimeouts':
      return;
  }
}
