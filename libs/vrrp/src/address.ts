import { VrrpConfigError } from './errors.js';

export type AddressFamily = 'ipv4' | 'ipv6';

/** The VRRP multicast groups (RFC 3768 5.2.2, RFC 5798 5.1.1.2 / 5.1.2.2). */
export const VRRP_MULTICAST_IPV4 = '224.0.0.18';
export const VRRP_MULTICAST_IPV6 = 'ff02::12';

export const addressLength = (family: AddressFamily): 4 | 16 => (family === 'ipv4' ? 4 : 16);

const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Dotted-quad IPv4 to 4 bytes, or null when `text` is not one. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i += 1) {
    const p = parts[i] as string;
    if (!IPV4_PART.test(p)) return null;
    out[i] = Number(p);
  }
  return out;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** IPv6 text (with `::` and an optional trailing dotted quad; no zone) to 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const words = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i += 1) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (HEXTET.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = words(halves[0] as string);
  const tail = halves.length === 2 ? words(halves[1] as string) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero words as `::`. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i += 1) w.push(((bytes[offset + 2 * i] as number) << 8) | (bytes[offset + 2 * i + 1] as number));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j += 1;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

export function parseAddress(family: AddressFamily, text: string): Uint8Array | null {
  return family === 'ipv4' ? parseIpv4(text) : parseIpv6(text);
}

export function formatAddress(family: AddressFamily, bytes: Uint8Array, offset = 0): string {
  return family === 'ipv4' ? formatIpv4(bytes, offset) : formatIpv6(bytes, offset);
}

/** Parses an address that must be valid (configuration); throws a VrrpConfigError naming `field`. */
export function requireAddress(family: AddressFamily, text: string, field: string): Uint8Array {
  const bytes = parseAddress(family, text);
  if (!bytes) throw new VrrpConfigError(field, `${JSON.stringify(text)} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
  return bytes;
}

/** The canonical text of an address (so that `fd00::0001` and `fd00::1` compare equal), or null. */
export function canonicalAddress(family: AddressFamily, text: string): string | null {
  const bytes = parseAddress(family, text);
  return bytes ? formatAddress(family, bytes) : null;
}

/**
 * Numeric order of two addresses of one family, as keepalived compares them for the VRRP tie break
 * (RFC 5798 6.4.3: equal priority, the higher primary address wins): -1, 0 or 1.
 */
export function compareAddressBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d > 0 ? 1 : -1;
  }
  return a.length === b.length ? 0 : a.length > b.length ? 1 : -1;
}
