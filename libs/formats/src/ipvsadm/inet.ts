// Numeric IPv4/IPv6 text forms as ipvsadm reads and prints them. Printing follows glibc's
// inet_ntop (what ipvsadm calls), which is not what Node prints for every IPv6 address
// (e.g. `::0.2.0.3`), so the byte-for-byte output of ipvsadm-save needs its own formatter.

export type InetFamily = 'inet' | 'inet6';

export interface ParsedAddress {
  family: InetFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

/**
 * A strict dotted quad: four decimal octets 0-255 without leading zeros. ipvsadm's inet_aton would
 * also take `10.1`, `0x0a000001` or `010.0.0.1` (octal 8); those are refused because they rarely
 * mean what they look like.
 */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

/** RFC 4291 text form as glibc's inet_pton accepts it (hex groups, one `::`, a trailing dotted quad). */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45) return null;
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon !== -1 && text.includes('.', lastColon)) {
    // A trailing dotted quad stands for the last two groups.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return null;
    const hi = (((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16);
    const lo = (((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16);
    head = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const maxWords = 8;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!left || !right) return null;
  let words: number[];
  if (halves.length === 2) {
    const fill = maxWords - left.length - right.length;
    if (fill < 1) return null;
    words = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    if (left.length !== maxWords) return null;
    words = left;
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

export function parseAddress(text: string): ParsedAddress | null {
  const v4 = parseIpv4(text);
  if (v4) return { family: 'inet', bytes: v4 };
  const v6 = parseIpv6(text);
  if (v6) return { family: 'inet6', bytes: v6 };
  return null;
}

export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** glibc inet_ntop for AF_INET6: longest zero run (first on ties, at least two words) as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) [bestBase, bestLen] = [curBase, curLen];
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // IPv4-compatible and IPv4-mapped addresses end in a dotted quad.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIpv4(bytes.subarray(12, 16));
      break;
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function formatAddressBytes(a: ParsedAddress): string {
  return a.family === 'inet' ? formatIpv4(a.bytes) : formatIpv6(a.bytes);
}

/** The canonical (ipvsadm-printed) form of a numeric address, or null if it is not one. */
export function canonicalAddress(text: string): string | null {
  const a = parseAddress(text);
  return a ? formatAddressBytes(a) : null;
}

/** `10.0.0.1:80` or `[2001:db8::1]:80`, the way ipvsadm prints a numeric address and port. */
export function formatAddressPort(address: string, port: number): string {
  const a = parseAddress(address);
  if (!a) throw new TypeError(`not a numeric IP address: ${address}`);
  return a.family === 'inet' ? `${formatIpv4(a.bytes)}:${port}` : `[${formatIpv6(a.bytes)}]:${port}`;
}

/** The address as 32-bit words in host order (one word for IPv4, four for IPv6), for sorting. */
export function addressWords(address: string): number[] {
  const a = parseAddress(address);
  if (!a) throw new TypeError(`not a numeric IP address: ${address}`);
  const words: number[] = [];
  for (let i = 0; i < a.bytes.length; i += 4) {
    words.push((((a.bytes[i] ?? 0) << 24) | ((a.bytes[i + 1] ?? 0) << 16) | ((a.bytes[i + 2] ?? 0) << 8) | (a.bytes[i + 3] ?? 0)) >>> 0);
  }
  return words;
}

/** Prefix length of a contiguous dotted IPv4 mask (`255.255.255.0` -> 24), or null. */
export function ipv4MaskToPrefix(text: string): number | null {
  const b = parseIpv4(text);
  if (!b) return null;
  const n = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
  const inverted = ~n >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return null; // ones must be contiguous from the top
  return 32 - Math.log2(inverted + 1);
}

export function ipv4PrefixToMask(prefix: number): string {
  const n = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
