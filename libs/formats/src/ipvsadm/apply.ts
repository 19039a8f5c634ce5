import { destinationId, serviceId, type IpvsDestination, type IpvsService, type IpvsServiceKey, type IpvsTable } from '@fulcrum/schemas';
import type { IpvsadmIssue } from './errors.js';
import { describeServiceKey } from './describe.js';
import type { IpvsadmOperation, LocatedOperation, SourcePosition } from './operation.js';

// Replays operations on a table the way the kernel would: the same refusals (ipvsadm's wording
// first, then what it was about), and a refused operation changes nothing.

export interface ApplyResult {
  table: IpvsTable;
  issues: IpvsadmIssue[];
}

/** Apply operations in order to a copy of `start`; every refused operation is reported, none stops the rest. */
export function applyIpvsadmOperations(start: IpvsTable, operations: readonly LocatedOperation[]): ApplyResult {
  const services = new Map<string, IpvsService>();
  const addedAt = new Map<string, number>();
  for (const s of start.services) services.set(serviceId(s.key), cloneService(s));
  const issues: IpvsadmIssue[] = [];

  for (const located of operations) {
    const problem = applyOne(services, addedAt, located.operation, located.at.line);
    if (problem) {
      const at: SourcePosition = (problem.about === 'server' ? located.serverAt : located.serviceAt) ?? located.at;
      issues.push({ line: at.line, column: at.column, token: at.token, message: problem.message });
    }
  }
  return { table: { services: [...services.values()] }, issues };
}

interface Problem {
  about: 'service' | 'server';
  message: string;
}

function applyOne(services: Map<string, IpvsService>, addedAt: Map<string, number>, op: IpvsadmOperation, line: number): Problem | null {
  const where = (key: IpvsServiceKey) => {
    const l = addedAt.get(serviceId(key));
    return l === undefined ? '' : ` (added on line ${l})`;
  };
  switch (op.op) {
    case 'flush':
      services.clear();
      addedAt.clear();
      return null;
    case 'setTimeouts':
      return null;
    case 'zero':
      if (op.key && !services.has(serviceId(op.key))) return { about: 'service', message: `No such service: ${describeServiceKey(op.key)}` };
      return null;
    case 'addService': {
      const id = serviceId(op.service.key);
      if (services.has(id)) return { about: 'service', message: `Service already exists: ${describeServiceKey(op.service.key)}${where(op.service.key)}` };
      services.set(id, { ...cloneSettings(op.service), destinations: [] });
      addedAt.set(id, line);
      return null;
    }
    case 'editService': {
      const current = services.get(serviceId(op.service.key));
      if (!current) return { about: 'service', message: `No such service: ${describeServiceKey(op.service.key)}` };
      services.set(serviceId(op.service.key), { ...cloneSettings(op.service), destinations: current.destinations });
      return null;
    }
    case 'deleteService': {
      const id = serviceId(op.key);
      if (!services.delete(id)) return { about: 'service', message: `No such service: ${describeServiceKey(op.key)}` };
      addedAt.delete(id);
      return null;
    }
    case 'addDestination':
    case 'editDestination': {
      const svc = services.get(serviceId(op.key));
      if (!svc) return { about: 'service', message: `Service not defined: ${describeServiceKey(op.key)}` };
      const d = op.destination;
      if (d.lowerThreshold > d.upperThreshold) {
        return {
          about: 'server',
          message: `Numerical result out of range: lower threshold (-y ${d.lowerThreshold}) is higher than upper threshold (-x ${d.upperThreshold})`,
        };
      }
      const index = svc.destinations.findIndex((x) => destinationId(x) === destinationId(d));
      if (op.op === 'addDestination') {
        if (index !== -1) return { about: 'server', message: `Destination already exists: ${describeDestination(d)} in ${describeServiceKey(op.key)}` };
        svc.destinations.push(cloneDestination(d));
      } else {
        if (index === -1) return { about: 'server', message: `No such destination: ${describeDestination(d)} in ${describeServiceKey(op.key)}` };
        svc.destinations[index] = cloneDestination(d);
      }
      return null;
    }
    case 'deleteDestination': {
      const svc = services.get(serviceId(op.key));
      if (!svc) return { about: 'service', message: `Service not defined: ${describeServiceKey(op.key)}` };
      const index = svc.destinations.findIndex((x) => destinationId(x) === destinationId(op.destination));
      if (index === -1) return { about: 'server', message: `No such destination: ${describeDestination(op.destination)} in ${describeServiceKey(op.key)}` };
      svc.destinations.splice(index, 1);
      return null;
    }
  }
}

function describeDestination(d: Pick<IpvsDestination, 'address' | 'port'>): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

function cloneSettings<T extends Omit<IpvsService, 'destinations'>>(s: T): Omit<IpvsService, 'destinations'> {
  const out: Omit<IpvsService, 'destinations'> = { key: { ...s.key }, scheduler: s.scheduler, flags: { ...s.flags }, persistence: s.persistence };
  if (s.persistencePrefix !== undefined) out.persistencePrefix = s.persistencePrefix;
  if (s.persistenceEngine !== undefined) out.persistenceEngine = s.persistenceEngine;
  return out;
}

function cloneDestination(d: IpvsDestination): IpvsDestination {
  return { ...d, tunnelFlags: [...d.tunnelFlags] };
}

function cloneService(s: IpvsService): IpvsService {
  return { ...cloneSettings(s), destinations: s.destinations.map(cloneDestination) };
}
