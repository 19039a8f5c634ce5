import { RawSocketError, lastError } from './errors.js';
import { SOL_SOCKET, SO_RCVTIMEO, libc } from './libc.js';

// Socket set-up shared by the IPv4 and IPv6 VRRP sockets.

/** setsockopt, closing the socket and throwing a RawSocketError naming the option if it fails. */
export function setOpt(fd: number, level: number, name: number, value: Buffer, what: string, dev: string): void {
  if (libc().setsockopt(fd, level, name, value, value.length) !== 0) {
    const err = lastError('setsockopt', `${what} on ${dev}`);
    libc().close(fd);
    throw err;
  }
}

/** SO_RCVTIMEO: how long one receive waits, which bounds how long close() takes. */
export function setReceiveTimeout(fd: number, timeoutMs: number, dev: string): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
  tv.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
  setOpt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 'SO_RCVTIMEO', dev);
}

/** Checks the name and finds the interface's index. */
export function interfaceIndex(dev: string): number {
  if (!/^[^\s/]{1,15}$/.test(dev)) throw new RawSocketError('EINVAL', 'socket', `'${dev}' is not an interface name`);
  const ifindex = libc().if_nametoindex(dev);
  if (ifindex === 0) throw new RawSocketError('ENODEV', 'if_nametoindex', `VRRP socket: no interface ${dev}`);
  return ifindex;
}
