import type { AddressFamily } from './address.js';

/** IP protocol number of VRRP (RFC 5798 5.1.1.4). */
export const IPPROTO_VRRP = 112;

/** One's-complement sum of `bytes[start, end)` as 16-bit big-endian words, added to `sum` (not folded). */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let s = sum;
  let i = start;
  for (; i + 1 < end; i += 2) s += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (i < end) s += (bytes[i] as number) << 8; // odd length: pad with a zero byte
  // Fold now and then so the sum stays a small integer whatever the length.
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The Internet checksum (RFC 1071) of a one's-complement sum: folded and inverted. */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Sum of the pseudo-header VRRPv3 puts in its checksum: RFC 768 style for IPv4 (src, dst, zero,
 * protocol, length) and RFC 8200 8.1 for IPv6 (src, dst, 32-bit length, 24 zero bits, next header).
 */
export function pseudoHeaderSum(family: AddressFamily, src: Uint8Array, dst: Uint8Array, length: number): number {
  let s = onesComplementSum(src);
  s = onesComplementSum(dst, 0, dst.length, s);
  if (family === 'ipv4') {
    s += IPPROTO_VRRP + (length & 0xffff);
  } else {
    s += ((length >>> 16) & 0xffff) + (length & 0xffff) + IPPROTO_VRRP;
  }
  return onesComplementSum(new Uint8Array(0), 0, 0, s);
}
