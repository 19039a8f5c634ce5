import { isIP } from 'node:net';
import { ipToBytes } from '../ip.js';
import { ProbeError } from './errors.js';
import { AF_INET, AF_INET6, libc } from './libc.js';

/** A socket address in the kernel's form, built once per configured check. */
export interface SockAddr {
  family: typeof AF_INET | typeof AF_INET6;
  bytes: Buffer;
}

/**
 * struct sockaddr_in / sockaddr_in6 for a numeric address (IPv6 may carry a zone: fe80::1%eth0).
 * `field` names the input in the error.
 */
export function sockaddr(address: string, port: number, field: string): SockAddr {
  const zone = address.indexOf('%');
  const host = zone === -1 ? address : address.slice(0, zone);
  const v = isIP(host);
  if (v === 0) throw new ProbeError('EINVAL', `${field} ${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProbeError('EINVAL', `${field} port ${port} is not 0-65535`);
  if (v === 4) {
    if (zone !== -1) throw new ProbeError('EINVAL', `${field} ${JSON.stringify(address)}: an IPv4 address has no zone`);
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    b.set(ipToBytes(host), 4);
    return { family: AF_INET, bytes: b };
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b.set(ipToBytes(host), 8);
  if (zone !== -1) {
    const name = address.slice(zone + 1);
    const index = /^\d+$/.test(name) ? Number(name) : /^[^\s/%]{1,15}$/.test(name) ? libc().if_nametoindex(name) : 0;
    if (index === 0) throw new ProbeError('ENODEV', `${field} ${JSON.stringify(address)}: no interface ${JSON.stringify(name)}`);
    b.writeUInt32LE(index, 24);
  }
  return { family: AF_INET6, bytes: b };
}
