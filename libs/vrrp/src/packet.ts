import {
  addressLength,
  formatAddress,
  parseAddress,
  requireAddress,
  VRRP_MULTICAST_IPV4,
  VRRP_MULTICAST_IPV6,
} from './address.js';
import type { AddressFamily } from './address.js';
import { finishChecksum, IPPROTO_VRRP, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { VrrpConfigError } from './errors.js';

export type VrrpVersion = 2 | 3;

/** VRRPv2 authentication (RFC 3768 5.3.6). Type 2 (IP AH) is refused, as RFC 3768 deprecates it. */
export type VrrpAuth = { readonly type: 'none' } | { readonly type: 'pass'; readonly data: Uint8Array };

/** The fields of a VRRP advertisement that mean something to a router. */
export interface VrrpAdvert {
  readonly version: VrrpVersion;
  readonly vrid: number;
  /** 0 = the master is leaving, 255 = the address owner. */
  readonly priority: number;
  /** Advertisement interval in ms: whole seconds for v2, centiseconds for v3 (Max Adver Int). */
  readonly intervalMs: number;
  /** The virtual addresses, as canonical text of the packet's family. */
  readonly addresses: readonly string[];
  /** v2 only. */
  readonly auth?: VrrpAuth;
}

export const VRRP_TTL = 255;
export const VRRP_HEADER_LENGTH = 8;
export const VRRP_AUTH_LENGTH = 8;
const VRRP_TYPE_ADVERT = 1;
const IPPROTO_AH = 51;
const IPV4_HEADER_LENGTH = 20;
/** keepalived sends its IPv4 adverts with TOS 0xc0 ("internetwork control"). */
export const VRRP_IPV4_TOS = 0xc0;

export const multicastGroup = (family: AddressFamily): string =>
  family === 'ipv4' ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6;

/** An 8-byte VRRPv2 PASS password, NUL padded as keepalived stores `auth_pass`. */
export function passwordAuth(password: string): VrrpAuth {
  const bytes = new TextEncoder().encode(password);
  if (bytes.length === 0) throw new VrrpConfigError('auth.password', 'must not be empty');
  if (bytes.length > VRRP_AUTH_LENGTH) {
    throw new VrrpConfigError(
      'auth.password',
      `is ${bytes.length} bytes; VRRPv2 simple passwords are at most ${VRRP_AUTH_LENGTH} (keepalived silently keeps only the first ${VRRP_AUTH_LENGTH})`,
    );
  }
  const data = new Uint8Array(VRRP_AUTH_LENGTH);
  data.set(bytes);
  return { type: 'pass', data };
}

/** Length of the VRRP message (no IP header) for a version, family and address count. */
export function vrrpMessageLength(version: VrrpVersion, family: AddressFamily, count: number): number {
  return VRRP_HEADER_LENGTH + count * addressLength(family) + (version === 2 ? VRRP_AUTH_LENGTH : 0);
}

export interface EncodeContext {
  readonly family: AddressFamily;
  /** The sender's primary address: in the v3 checksum's pseudo-header. */
  readonly srcAddr?: string;
  /** Where the advert goes; the VRRP multicast group unless unicast. In the v3 pseudo-header. */
  readonly dstAddr?: string;
  /**
   * v3 over IPv4 to a unicast peer: put 224.0.0.18 instead of the peer in the pseudo-header, as
   * keepalived 1.3.6 and older did (keepalived switches to this when it receives such a packet).
   */
  readonly checksumCompat?: boolean;
}

function checkAdvertFields(advert: VrrpAdvert, family: AddressFamily): Uint8Array[] {
  const { version, vrid, priority, intervalMs, addresses } = advert;
  if (version !== 2 && version !== 3) throw new VrrpConfigError('version', `must be 2 or 3, got ${String(version)}`);
  if (version === 2 && family !== 'ipv4') throw new VrrpConfigError('version', 'VRRPv2 (RFC 3768) is IPv4 only; use version 3 for IPv6');
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new VrrpConfigError('vrid', `must be an integer 1..255, got ${vrid}`);
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
    throw new VrrpConfigError('priority', `must be an integer 0..255, got ${priority}`);
  }
  checkInterval(version, intervalMs, 'intervalMs');
  if (addresses.length > 255) throw new VrrpConfigError('addresses', `at most 255 fit in an advert, got ${addresses.length}`);
  if (version === 2 && advert.auth?.type === 'pass' && advert.auth.data.length !== VRRP_AUTH_LENGTH) {
    throw new VrrpConfigError('auth.data', `must be ${VRRP_AUTH_LENGTH} bytes (use passwordAuth), got ${advert.auth.data.length}`);
  }
  return addresses.map((a, i) => requireAddress(family, a, `addresses[${i}]`));
}

/** Refuses an interval the wire cannot carry: v2 whole seconds 1..255, v3 centiseconds 1..4095. */
export function checkInterval(version: VrrpVersion, intervalMs: number, field: string): void {
  if (version === 2) {
    if (!Number.isInteger(intervalMs) || intervalMs % 1000 !== 0 || intervalMs < 1000 || intervalMs > 255_000) {
      throw new VrrpConfigError(field, `VRRPv2 carries whole seconds 1..255, got ${intervalMs} ms`);
    }
  } else if (!Number.isInteger(intervalMs) || intervalMs % 10 !== 0 || intervalMs < 10 || intervalMs > 40_950) {
    throw new VrrpConfigError(field, `VRRPv3 carries centiseconds 10..40950 ms, got ${intervalMs} ms`);
  }
}

/**
 * The VRRP message (no IP header) of an advertisement, checksum filled in: over the message alone
 * for v2, with the IPv4/IPv6 pseudo-header for v3. Throws a VrrpConfigError on fields the wire
 * cannot carry.
 */
export function encodeAdvert(advert: VrrpAdvert, ctx: EncodeContext): Buffer {
  const { family } = ctx;
  const addrs = checkAdvertFields(advert, family);
  const alen = addressLength(family);
  const length = vrrpMessageLength(advert.version, family, addrs.length);
  const buf = Buffer.alloc(length);
  buf[0] = (advert.version << 4) | VRRP_TYPE_ADVERT;
  buf[1] = advert.vrid;
  buf[2] = advert.priority;
  buf[3] = addrs.length;
  if (advert.version === 2) {
    buf[4] = advert.auth?.type === 'pass' ? 1 : 0;
    buf[5] = advert.intervalMs / 1000;
  } else {
    buf.writeUInt16BE((advert.intervalMs / 10) & 0x0fff, 4); // 4 reserved bits stay zero
  }
  addrs.forEach((a, i) => buf.set(a, VRRP_HEADER_LENGTH + i * alen));
  if (advert.version === 2) {
    if (advert.auth?.type === 'pass') buf.set(advert.auth.data, length - VRRP_AUTH_LENGTH);
    buf.writeUInt16BE(finishChecksum(onesComplementSum(buf)), 6);
  } else {
    if (ctx.srcAddr === undefined) throw new VrrpConfigError('srcAddr', 'VRRPv3 needs the source address for its checksum');
    const src = requireAddress(family, ctx.srcAddr, 'srcAddr');
    const dst = ctx.checksumCompat
      ? requireAddress(family, multicastGroup(family), 'dstAddr')
      : requireAddress(family, ctx.dstAddr ?? multicastGroup(family), 'dstAddr');
    const initial = pseudoHeaderSum(family, src, dst, length);
    buf.writeUInt16BE(finishChecksum(onesComplementSum(buf, 0, length, initial)), 6);
  }
  return buf;
}

export interface Ipv4PacketOptions {
  readonly srcAddr: string;
  readonly dstAddr?: string;
  readonly ttl?: number;
  /** IP identification; keepalived counts up from 1. */
  readonly id?: number;
  readonly checksumCompat?: boolean;
}

/** A whole IPv4 packet (header as keepalived builds it with IP_HDRINCL: TOS 0xc0, TTL 255, no DF). */
export function encodeIpv4Packet(advert: VrrpAdvert, opts: Ipv4PacketOptions): Buffer {
  const dstAddr = opts.dstAddr ?? VRRP_MULTICAST_IPV4;
  const vrrp = encodeAdvert(advert, { family: 'ipv4', srcAddr: opts.srcAddr, dstAddr, checksumCompat: opts.checksumCompat });
  const ip = Buffer.alloc(IPV4_HEADER_LENGTH + vrrp.length);
  ip[0] = 0x45;
  ip[1] = VRRP_IPV4_TOS;
  ip.writeUInt16BE(ip.length, 2);
  ip.writeUInt16BE((opts.id ?? 0) & 0xffff, 4);
  ip[8] = opts.ttl ?? VRRP_TTL;
  ip[9] = IPPROTO_VRRP;
  ip.set(requireAddress('ipv4', opts.srcAddr, 'srcAddr'), 12);
  ip.set(requireAddress('ipv4', dstAddr, 'dstAddr'), 16);
  ip.writeUInt16BE(finishChecksum(onesComplementSum(ip, 0, IPV4_HEADER_LENGTH)), 10);
  vrrp.copy(ip, IPV4_HEADER_LENGTH);
  return ip;
}

/** How the packet reached us: with its IPv4 header (raw IPv4 socket), or the bare VRRP message. */
export type DecodeContext =
  | {
      readonly family: 'ipv4';
      readonly hasIpHeader: true;
      /** Unicast peers: accept only unicast destinations, and no TTL 255 check (keepalived). */
      readonly unicast?: boolean;
    }
  | {
      readonly family: 'ipv4' | 'ipv6';
      readonly hasIpHeader?: false;
      readonly srcAddr: string;
      readonly dstAddr: string;
      /** IPv4 TTL or IPv6 hop limit (from IPV6_HOPLIMIT ancillary data); unchecked when absent. */
      readonly ttl?: number;
      /** Unicast peers: accept only unicast destinations, and no TTL 255 check (keepalived). */
      readonly unicast?: boolean;
    };

export type DecodeDropReason =
  | 'truncated'
  | 'length'
  | 'ip-header'
  | 'protocol'
  | 'ttl'
  | 'version'
  | 'type'
  | 'family'
  | 'auth-type'
  | 'checksum'
  | 'interval'
  | 'destination';

export interface PacketInfo {
  readonly family: AddressFamily;
  readonly srcAddr: string;
  readonly dstAddr: string;
  readonly ttl: number | null;
  readonly checksum: number;
  /** The v3 checksum only matched with 224.0.0.18 in the pseudo-header (keepalived <= 1.3.6 unicast). */
  readonly checksumCompat: boolean;
}

export type DecodeResult =
  | { readonly ok: true; readonly advert: VrrpAdvert; readonly packet: PacketInfo }
  | { readonly ok: false; readonly reason: DecodeDropReason; readonly detail: string };

const drop = (reason: DecodeDropReason, detail: string): DecodeResult => ({ ok: false, reason, detail });

/**
 * Parses and verifies a received VRRP packet, with keepalived's receive rules (vrrp_check_packet) for
 * everything that does not depend on the local instance: exact length, TTL/hop limit 255 (unless
 * unicast), version 2 or 3, type advertisement, v2 auth type, checksum, multicast or unicast
 * destination as the socket expects. The instance-specific
 * checks (VRID, configured version, password, interval, address list) are `checkAdvert`.
 * Never throws on any buffer; a context that is not usable throws a VrrpConfigError.
 */
export function decodePacket(buf: Uint8Array, ctx: DecodeContext): DecodeResult {
  const family = ctx.family;
  let msgStart = 0;
  let src: Uint8Array;
  let dst: Uint8Array;
  let ttl: number | null;
  if (ctx.hasIpHeader) {
    if (buf.length < IPV4_HEADER_LENGTH) return drop('truncated', `${buf.length} bytes, shorter than an IPv4 header`);
    const version = (buf[0] as number) >> 4;
    const ihl = ((buf[0] as number) & 0x0f) * 4;
    if (version !== 4 || ihl < IPV4_HEADER_LENGTH) return drop('ip-header', `IP version ${version}, header length ${ihl}`);
    if (buf.length < ihl + VRRP_HEADER_LENGTH) return drop('truncated', `${buf.length} bytes, shorter than IP + VRRP headers (${ihl + VRRP_HEADER_LENGTH})`);
    const protocol = buf[9] as number;
    if (protocol === IPPROTO_AH) return drop('auth-type', 'IPsec AH authentication is not supported');
    if (protocol !== IPPROTO_VRRP) return drop('protocol', `IP protocol ${protocol}, not ${IPPROTO_VRRP}`);
    const totalLength = ((buf[2] as number) << 8) | (buf[3] as number);
    if (totalLength !== buf.length) return drop('length', `IP total length ${totalLength}, received ${buf.length}`);
    msgStart = ihl;
    src = buf.subarray(12, 16);
    dst = buf.subarray(16, 20);
    ttl = buf[8] as number;
  } else {
    const s = parseAddress(family, ctx.srcAddr);
    const d = parseAddress(family, ctx.dstAddr);
    if (!s) throw new VrrpConfigError('srcAddr', `${JSON.stringify(ctx.srcAddr)} is not an ${family} address`);
    if (!d) throw new VrrpConfigError('dstAddr', `${JSON.stringify(ctx.dstAddr)} is not an ${family} address`);
    src = s;
    dst = d;
    ttl = ctx.ttl ?? null;
    if (buf.length < VRRP_HEADER_LENGTH) return drop('truncated', `${buf.length} bytes, shorter than the VRRP header`);
  }

  const msg = buf.subarray(msgStart);
  const version = (msg[0] as number) >> 4;
  const type = (msg[0] as number) & 0x0f;
  const count = msg[3] as number;
  const alen = addressLength(family);
  if (version !== 2 && version !== 3) return drop('version', `VRRP version ${version}`);
  if (version === 2 && family === 'ipv6') return drop('family', 'VRRPv2 over IPv6');
  const expected = vrrpMessageLength(version, family, count);
  if (msg.length !== expected) {
    return drop(msg.length < expected ? 'truncated' : 'length', `${msg.length} bytes of VRRP, ${count} addresses need ${expected}`);
  }
  if (!ctx.unicast && ttl !== null && ttl !== VRRP_TTL) return drop('ttl', `TTL/hop limit ${ttl}, not ${VRRP_TTL}`);
  let auth: VrrpAuth | undefined;
  if (version === 2) {
    const authType = msg[4] as number;
    if (authType === 0) auth = { type: 'none' };
    else if (authType === 1) auth = { type: 'pass', data: Uint8Array.from(msg.subarray(expected - VRRP_AUTH_LENGTH)) };
    else if (authType === 2) return drop('auth-type', 'VRRPv2 IP AH authentication is not supported');
    else return drop('auth-type', `unknown VRRPv2 auth type ${authType}`);
  }
  if (type !== VRRP_TYPE_ADVERT) return drop('type', `VRRP packet type ${type}, not ${VRRP_TYPE_ADVERT} (advertisement)`);

  const checksum = ((msg[6] as number) << 8) | (msg[7] as number);
  let checksumCompat = false;
  if (version === 2) {
    if (finishChecksum(onesComplementSum(msg)) !== 0) return drop('checksum', `VRRPv2 checksum 0x${hex16(checksum)} does not match`);
  } else if (finishChecksum(onesComplementSum(msg, 0, expected, pseudoHeaderSum(family, src, dst, expected))) !== 0) {
    const group = parseAddress(family, multicastGroup(family)) as Uint8Array;
    const legacy = family === 'ipv4' && !bytesEqual(dst, group);
    if (legacy && finishChecksum(onesComplementSum(msg, 0, expected, pseudoHeaderSum(family, src, group, expected))) === 0) {
      checksumCompat = true;
    } else {
      return drop('checksum', `VRRPv3 checksum 0x${hex16(checksum)} does not match the pseudo-header and message`);
    }
  }

  // keepalived: a multicast instance takes only multicast adverts, a unicast one only unicast.
  const multicast = family === 'ipv4' ? ((dst[0] as number) & 0xf0) === 0xe0 : dst[0] === 0xff;
  if (multicast === Boolean(ctx.unicast)) {
    return drop('destination', `${multicast ? 'multicast' : 'unicast'} advert to ${formatAddress(family, dst)}, this socket expects ${ctx.unicast ? 'unicast' : 'multicast'}`);
  }

  let intervalMs: number;
  if (version === 2) {
    intervalMs = (msg[5] as number) * 1000;
  } else {
    intervalMs = ((((msg[4] as number) << 8) | (msg[5] as number)) & 0x0fff) * 10;
  }
  if (intervalMs === 0) return drop('interval', 'advertisement interval 0');

  const addresses: string[] = [];
  for (let i = 0; i < count; i += 1) addresses.push(formatAddress(family, msg, VRRP_HEADER_LENGTH + i * alen));
  const advert: VrrpAdvert = {
    version,
    vrid: msg[1] as number,
    priority: msg[2] as number,
    intervalMs,
    addresses,
    ...(auth ? { auth } : {}),
  };
  return {
    ok: true,
    advert,
    packet: { family, srcAddr: formatAddress(family, src), dstAddr: formatAddress(family, dst), ttl, checksum, checksumCompat },
  };
}

const hex16 = (n: number) => n.toString(16).padStart(4, '0');

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
