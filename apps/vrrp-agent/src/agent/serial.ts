import type { AddressControl } from '@fulcrum/netlink';

/**
 * One rtnetlink socket answers one request at a time (a second one in flight gets EBUSY or a torn
 * multipart reply), so every call on an AddressControl goes through this queue.
 */
export function serialized(inner: AddressControl): AddressControl {
  let tail: Promise<unknown> = Promise.resolve();
  const queue = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    links: () => queue(() => inner.links()),
    link: (name) => queue(() => inner.link(name)),
    linkUp: (name) => queue(() => inner.linkUp(name)),
    linkDown: (name) => queue(() => inner.linkDown(name)),
    addresses: (link) => queue(() => inner.addresses(link)),
    addAddress: (link, address, prefix) => queue(() => inner.addAddress(link, address, prefix)),
    deleteAddress: (link, address, prefix) => queue(() => inner.deleteAddress(link, address, prefix)),
    createIpipTunnel: (t) => queue(() => inner.createIpipTunnel(t)),
    deleteLink: (name) => queue(() => inner.deleteLink(name)),
    readSysctl: (path) => queue(() => inner.readSysctl(path)),
    writeSysctl: (path, value) => queue(() => inner.writeSysctl(path, value)),
    close: () => queue(() => inner.close()),
  };
}
