import { isIP } from 'node:net';

// IP addresses between their text form and the kernel's byte form. IPv6 text is always produced
// in the RFC 5952 canonical form, so a dumped address compares equal to a canonical desired one.

export class AddressFormatError extends Error {
  override name = 'AddressFormatError';
}

// A big table repeats the same VIPs and real servers thousands of times; parse each once.
const parsed = new Map<string, Buffer>();

/** The address in network byte order (4 or 16 bytes). The result is shared: do not modify it. */
export function ipToBytes(address: string): Buffer {
  const hit = parsed.get(address);
  if (hit) return hit;
  const v = isIP(address);
  let bytes: Buffer;
  if (v === 4) bytes = Buffer.from(address.split('.').map((p) => Number(p)));
  else if (v === 6) bytes = ipv6ToBytes(address);
  else throw new AddressFormatError(`'${address}' is not an IPv4 or IPv6 address`);
  if (parsed.size >= 65536) parsed.clear();
  parsed.set(address, bytes);
  return bytes;
}

function ipv6ToBytes(address: string): Buffer {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const groups: number[] = [];
  const parseGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = g.split('.').map((x) => Number(x));
        out.push(((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0));
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap === -1) {
    groups.push(...parseGroups(text));
  } else {
    const head = parseGroups(text.slice(0, gap));
    const tail = parseGroups(text.slice(gap + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  }
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}

/** Reads an address of the given family from the first 4 or 16 bytes of a buffer. */
export function bytesToIp(buf: Buffer, family: 'inet' | 'inet6'): string {
  if (family === 'inet') {
    if (buf.length < 4) throw new AddressFormatError(`IPv4 address needs 4 bytes, got ${buf.length}`);
    return `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
  }
  if (buf.length < 16) throw new AddressFormatError(`IPv6 address needs 16 bytes, got ${buf.length}`);
  const groups = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(i * 2));
  // Longest run of two or more zero groups, the first one on a tie (RFC 5952 4.2).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (best === -1) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** The canonical text of an address (IPv6 compressed and lower-case; IPv4 unchanged). */
export function canonicalIp(address: string): string {
  return isIP(address) === 6 ? bytesToIp(ipv6ToBytes(address), 'inet6') : address;
}

/** A prefix length as an IPv4 netmask in host integer form (e.g. 24 -> 0xffffff00). */
export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The prefix length of a contiguous IPv4 netmask, or null when the mask has holes. */
export function maskToPrefix(mask: number): number | null {
  const m = mask >>> 0;
  let prefix = 0;
  while (prefix < 32 && (m & (0x80000000 >>> prefix)) !== 0) prefix += 1;
  return prefixToMask(prefix) === m ? prefix : null;
}
