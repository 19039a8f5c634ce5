import type { IpvsControl, IpvsOp } from '@fulcrum/netlink';

/** Counts the writes that reach the kernel through the agent, whatever the path. */
export class CountingIpvs {
  writes = 0;
  constructor(readonly inner: IpvsControl) {}
  control(): IpvsControl {
    const i = this.inner;
    const w = (n = 1) => void (this.writes += n);
    return {
      info: () => i.info(),
      dump: () => i.dump(),
      addService: (s) => (w(), i.addService(s)),
      editService: (s) => (w(), i.editService(s)),
      deleteService: (k) => (w(), i.deleteService(k)),
      addDestination: (k, d) => (w(), i.addDestination(k, d)),
      editDestination: (k, d) => (w(), i.editDestination(k, d)),
      deleteDestination: (k, d) => (w(), i.deleteDestination(k, d)),
      getTimeouts: () => i.getTimeouts(),
      setTimeouts: (t) => (w(), i.setTimeouts(t)),
      startDaemon: (d) => (w(), i.startDaemon(d)),
      stopDaemon: (s) => (w(), i.stopDaemon(s)),
      listDaemons: () => i.listDaemons(),
      zero: (k) => (w(), i.zero(k)),
      flush: () => (w(), i.flush()),
      apply: (ops: readonly IpvsOp[]) => (w(ops.length), i.apply(ops)),
      close: () => i.close(),
    };
  }
}
