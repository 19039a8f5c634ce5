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

// Field by field: a no-op pass over 50,000 destinations spent most of its time in
// util.isDeepStrictEqual. table-model.spec.ts changes every field of a parsed object one at a time,
// so a field added to the schema and not compared here fails it.

/** Whether two canonical destinations are the same to the kernel. */
export function sameDestination(a: IpvsDestination, b: IpvsDestination): boolean {
  if (a === b) return true;
  if (
    a.address !== b.address ||
    a.port !== b.port ||
    a.forward !== b.forward ||
    a.weight !== b.weight ||
    a.upperThreshold !== b.upperThreshold ||
    a.lowerThreshold !== b.lowerThreshold ||
    a.tunnelType !== b.tunnelType ||
    a.tunnelPort !== b.tunnelPort ||
    a.tunnelFlags.length !== b.tunnelFlags.length
  ) {
    return false;
  }
  return a.tunnelFlags.every((f, i) => f === b.tunnelFlags[i]);
}

/** Whether two canonical services have the same key and settings (their destinations are not compared). */
export function sameService(a: IpvsService, b: IpvsService): boolean {
  if (a === b) return true;
  const ka = a.key;
  const kb = b.key;
  const sameKey =
    ka.kind === 'addr'
      ? kb.kind === 'addr' && ka.protocol === kb.protocol && ka.address === kb.address && ka.port === kb.port
      : kb.kind === 'fwmark' && ka.fwmark === kb.fwmark && ka.family === kb.family;
  const fa = a.flags;
  const fb = b.flags;
  return (
    sameKey &&
    a.scheduler === b.scheduler &&
    a.persistence === b.persistence &&
    a.persistencePrefix === b.persistencePrefix &&
    a.persistenceEngine === b.persistenceEngine &&
    fa.onePacket === fb.onePacket &&
    fa.shFallback === fb.shFallback &&
    fa.shPort === fb.shPort &&
    fa.mhFallback === fb.mhFallback &&
    fa.mhPort === fb.mhPort
  );
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
