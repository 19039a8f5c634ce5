import { closeSync, openSync } from 'node:fs';
import koffi from 'koffi';

// Runs a synchronous function with the calling thread inside a named network namespace
// (/run/netns/<name>, as `ip netns add` creates it), then moves the thread back. Sockets
// opened inside stay bound to that namespace for their whole life, which is how one process
// drives IPVS and addresses in the lab's director and real-server namespaces.

export class NetnsError extends Error {
  override name = 'NetnsError';
}

const CLONE_NEWNET = 0x40000000;
let setnsFn: ((fd: number, nstype: number) => number) | null = null;

function setns(fd: number, what: string): void {
  if (!setnsFn) {
    const libc = koffi.load('libc.so.6');
    setnsFn = libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number;
  }
  if (setnsFn(fd, CLONE_NEWNET) !== 0) {
    throw new NetnsError(`setns into ${what} failed: errno ${koffi.errno()}`);
  }
}

export function inNetns<T>(name: string, fn: () => T): T {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new NetnsError(`network namespace name '${name}' is not a plain name`);
  }
  let target: number;
  try {
    target = openSync(`/run/netns/${name}`, 'r');
  } catch (err) {
    throw new NetnsError(`network namespace '${name}' does not exist (/run/netns/${name})`, { cause: err });
  }
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    setns(target, `network namespace '${name}'`);
    try {
      return fn();
    } finally {
      setns(home, 'the original network namespace');
    }
  } finally {
    closeSync(target);
    closeSync(home);
  }
}
