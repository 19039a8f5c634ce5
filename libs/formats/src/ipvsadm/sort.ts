import type { IpvsDestination, IpvsService } from '@fulcrum/schemas';
import { addressWords, parseAddress } from './inet.js';

// ipvsadm sorts services and destinations with qsort() and comparators that subtract unsigned
// 32-bit values and keep the result as a signed int. The difference wraps, so 10.0.0.1 sorts
// *after* 192.168.0.1 (0x0a000001 - 0xc0a80001 is positive as an int) and the order is not even
// transitive. To print the same order byte for byte, both the comparators and glibc's qsort
// (a top-down merge sort for arrays this size) are reproduced here.

/** `a - b` of two unsigned 32-bit values, read back as a C int. */
function cDiff32(a: number, b: number): number {
  return ((a - b) | 0);
}

function compareWords(a: number[], b: number[], count: number): number {
  let r = 0;
  for (let i = 0; r === 0 && i < count; i++) r = cDiff32(a[i] ?? 0, b[i] ?? 0);
  return r;
}

const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO = { tcp: 6, udp: 17, sctp: 132 } as const;

interface ServiceSortKey {
  fwmark: number;
  af: number;
  protocol: number;
  words: number[];
  port: number;
}

function serviceSortKey(s: Pick<IpvsService, 'key'>): ServiceSortKey {
  if (s.key.kind === 'fwmark') {
    // ipvsadm adds fwmark services as TCP with a zero address.
    return { fwmark: s.key.fwmark >>> 0, af: s.key.family === 'inet6' ? AF_INET6 : AF_INET, protocol: IPPROTO.tcp, words: [0, 0, 0, 0], port: 0 };
  }
  const family = parseAddress(s.key.address)?.family;
  return { fwmark: 0, af: family === 'inet6' ? AF_INET6 : AF_INET, protocol: IPPROTO[s.key.protocol], words: addressWords(s.key.address), port: s.key.port };
}

function compareServices(a: ServiceSortKey, b: ServiceSortKey): number {
  let r = cDiff32(a.fwmark, b.fwmark);
  if (r !== 0) return r;
  r = a.af - b.af;
  if (r !== 0) return r;
  r = a.protocol - b.protocol;
  if (r !== 0) return r;
  r = compareWords(a.words, b.words, a.af === AF_INET6 ? 4 : 1);
  if (r !== 0) return r;
  return a.port - b.port;
}

interface DestinationSortKey {
  v6: boolean;
  words: number[];
  port: number;
}

function destinationSortKey(d: Pick<IpvsDestination, 'address' | 'port'>): DestinationSortKey {
  const words = addressWords(d.address);
  // The kernel's address union is zero beyond an IPv4 address; only d1's family picks the width.
  return { v6: words.length === 4, words: [...words, 0, 0, 0].slice(0, 4), port: d.port };
}

function compareDestinations(a: DestinationSortKey, b: DestinationSortKey): number {
  const r = compareWords(a.words, b.words, a.v6 ? 4 : 1);
  if (r !== 0) return r;
  return a.port - b.port;
}

/** glibc's msort: split n/2 | n - n/2, sort both halves, merge taking the left on `<= 0`. */
function glibcMergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items.slice();
  const n1 = Math.floor(items.length / 2);
  const left = glibcMergeSort(items.slice(0, n1), cmp);
  const right = glibcMergeSort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    if (cmp(left[i] as T, right[j] as T) <= 0) out.push(left[i++] as T);
    else out.push(right[j++] as T);
  }
  while (i < left.length) out.push(left[i++] as T);
  while (j < right.length) out.push(right[j++] as T);
  return out;
}

/** Services in the order `ipvsadm -Ln` / `ipvsadm-save -n` print them. */
export function sortServicesLikeIpvsadm<S extends Pick<IpvsService, 'key'>>(services: readonly S[]): S[] {
  const keyed = services.map((s) => ({ s, k: serviceSortKey(s) }));
  return glibcMergeSort(keyed, (a, b) => compareServices(a.k, b.k)).map((x) => x.s);
}

/** Destinations in the order ipvsadm prints them within a service. */
export function sortDestinationsLikeIpvsadm<D extends Pick<IpvsDestination, 'address' | 'port'>>(destinations: readonly D[]): D[] {
  const keyed = destinations.map((d) => ({ d, k: destinationSortKey(d) }));
  return glibcMergeSort(keyed, (a, b) => compareDestinations(a.k, b.k)).map((x) => x.d);
}
