import type { IpvsDestination, IpvsService, IpvsServiceKey, IpvsTimeouts } from '@fulcrum/schemas';
import type { IpvsDaemon } from './codec.js';
import type { IpvsOp, IpvsOpResult } from './control.js';

/** How a sync daemon is named in an IpvsError (start and stop, kernel and in-memory alike). */
export function describeDaemon(daemon: Pick<IpvsDaemon, 'state'> & Partial<Pick<IpvsDaemon, 'interface' | 'syncId'>>): string {
  return daemon.interface === undefined ? `${daemon.state} sync daemon` : `${daemon.state} sync daemon on ${daemon.interface} (syncid ${daemon.syncId})`;
}

/**
 * The single-operation table writes of IpvsControl, each one apply() of one op: a write gets the
 * same encoding, errno mapping and typed error (SchedulerUnavailableError, IpvsError) whether it
 * comes alone or in a batch. The kernel (NetlinkIpvs) and the double (InMemoryIpvs) differ only in apply().
 */
export abstract class ApplyBackedIpvs {
  abstract apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]>;

  private async one(op: IpvsOp): Promise<void> {
    const [r] = await this.apply([op]);
    if (r && !r.ok) throw r.error;
  }

  addService(service: IpvsService): Promise<void> {
    return this.one({ op: 'addService', service });
  }
  editService(service: IpvsService): Promise<void> {
    return this.one({ op: 'editService', service });
  }
  deleteService(key: IpvsServiceKey): Promise<void> {
    return this.one({ op: 'deleteService', key });
  }
  addDestination(key: IpvsServiceKey, destination: IpvsDestination): Promise<void> {
    return this.one({ op: 'addDestination', key, destination });
  }
  editDestination(key: IpvsServiceKey, destination: IpvsDestination): Promise<void> {
    return this.one({ op: 'editDestination', key, destination });
  }
  deleteDestination(key: IpvsServiceKey, destination: Pick<IpvsDestination, 'address' | 'port'>): Promise<void> {
    return this.one({ op: 'deleteDestination', key, destination });
  }
  zero(key?: IpvsServiceKey): Promise<void> {
    return this.one(key ? { op: 'zero', key } : { op: 'zero' });
  }
  flush(): Promise<void> {
    return this.one({ op: 'flush' });
  }
  setTimeouts(timeouts: IpvsTimeouts): Promise<void> {
    return this.one({ op: 'setTimeouts', timeouts });
  }
}
