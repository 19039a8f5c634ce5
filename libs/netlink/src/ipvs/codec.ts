import type {
  AddressFamily,
  IpvsDestination,
  IpvsForward,
  IpvsProtocol,
  IpvsScheduler,
  IpvsService,
  IpvsServiceFlags,
  IpvsServiceKey,
  IpvsStats,
  IpvsTimeouts,
  TunnelType,
} from '@fulcrum/schemas';
import { IPVS_SCHEDULERS, familyOf } from '@fulcrum/schemas';
import { bytesToIp, canonicalIp, ipToBytes, maskToPrefix, prefixToMask } from '../ip.js';
import type { AttrWriter } from './attrs.js';
import { AttrParseError, Attrs } from './attrs.js';

// Typed encode/decode of the IPVS generic-netlink attributes (linux/ip_vs.h). The numbers below are
// the header's; codec.spec.ts checks each of them against /usr/include/linux/ip_vs.h.

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const IPVS_CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

export const IPVS_CMD_ATTR = { SERVICE: 1, DEST: 2, DAEMON: 3, TIMEOUT_TCP: 4, TIMEOUT_TCP_FIN: 5, TIMEOUT_UDP: 6 } as const;

export const IPVS_SVC_ATTR = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;

export const IPVS_DEST_ATTR = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;

export const IPVS_DAEMON_ATTR = {
  STATE: 1,
  MCAST_IFN: 2,
  SYNC_ID: 3,
  SYNC_MAXLEN: 4,
  MCAST_GROUP: 5,
  MCAST_GROUP6: 6,
  MCAST_PORT: 7,
  MCAST_TTL: 8,
} as const;

export const IPVS_STATS_ATTR = {
  CONNS: 1,
  INPKTS: 2,
  OUTPKTS: 3,
  INBYTES: 4,
  OUTBYTES: 5,
  CPS: 6,
  INPPS: 7,
  OUTPPS: 8,
  INBPS: 9,
  OUTBPS: 10,
  PAD: 11,
} as const;

export const IPVS_INFO_ATTR = { VERSION: 1, CONN_TAB_SIZE: 2 } as const;

export const IP_VS_SVC_F = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;

export const IP_VS_CONN_F = { FWD_MASK: 0x0007, MASQ: 0x0000, LOCALNODE: 0x0001, TUNNEL: 0x0002, DROUTE: 0x0003 } as const;
export const IP_VS_TUNNEL_TYPE = { ipip: 0, gue: 1, gre: 2 } as const satisfies Record<TunnelType, number>;
export const IP_VS_TUNNEL_ENCAP_FLAG = { csum: 1 << 0, remcsum: 1 << 1 } as const;
export const IP_VS_STATE = { NONE: 0, MASTER: 1, BACKUP: 2 } as const;
export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;

export const AF = { inet: 2, inet6: 10 } as const satisfies Record<AddressFamily, number>;
export const IPPROTO = { tcp: 6, udp: 17, sctp: 132 } as const satisfies Record<IpvsProtocol, number>;

const FORWARD_CODE: Record<IpvsForward, number> = {
  masq: IP_VS_CONN_F.MASQ,
  local: IP_VS_CONN_F.LOCALNODE,
  tunnel: IP_VS_CONN_F.TUNNEL,
  route: IP_VS_CONN_F.DROUTE,
};

export class IpvsDecodeError extends Error {
  override name = 'IpvsDecodeError';
}

/** A sync daemon as `ipvsadm --start-daemon` configures it. */
export interface IpvsDaemon {
  state: 'master' | 'backup';
  /** Interface the sync messages go out of / come in on. */
  interface: string;
  syncId: number;
  /** UDP payload size; 0 = kernel default. */
  maxLength?: number;
  /** Multicast group (IPv4 or IPv6); kernel default 224.0.0.81 when absent. */
  group?: string;
  port?: number;
  ttl?: number;
}

export interface IpvsInfo {
  /** e.g. '1.2.1' */
  version: string;
  versionCode: number;
  connTableSize: number;
}

export interface DumpedDestination {
  destination: IpvsDestination;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  stats: IpvsStats;
}

export interface DumpedService {
  /** The service as configured, with `destinations` filled in by a full dump. */
  service: IpvsService;
  stats: IpvsStats;
  destinations: DumpedDestination[];
}

export const zeroStats = (): IpvsStats => ({
  conns: 0n,
  inPackets: 0n,
  outPackets: 0n,
  inBytes: 0n,
  outBytes: 0n,
  cps: 0n,
  inPps: 0n,
  outPps: 0n,
  inBps: 0n,
  outBps: 0n,
});

// ---------------------------------------------------------------------------------------------
// Service

const fullPrefix = (family: AddressFamily): number => (family === 'inet6' ? 128 : 32);
export const serviceFamily = (key: IpvsServiceKey): AddressFamily => (key.kind === 'fwmark' ? key.family : familyOf(key.address));

/** The identifying attributes of a service (all a delete, zero or destination command needs). */
export function writeServiceKey(w: AttrWriter, key: IpvsServiceKey): void {
  w.u16(IPVS_SVC_ATTR.AF, AF[serviceFamily(key)]);
  if (key.kind === 'fwmark') {
    w.u32(IPVS_SVC_ATTR.FWMARK, key.fwmark);
  } else {
    w.u16(IPVS_SVC_ATTR.PROTOCOL, IPPROTO[key.protocol]);
    w.padded(IPVS_SVC_ATTR.ADDR, ipToBytes(key.address), 16);
    w.u16be(IPVS_SVC_ATTR.PORT, key.port);
  }
}

export function serviceFlagBits(flags: IpvsServiceFlags, persistent: boolean): number {
  let bits = 0;
  if (persistent) bits |= IP_VS_SVC_F.PERSISTENT;
  if (flags.onePacket) bits |= IP_VS_SVC_F.ONEPACKET;
  if (flags.shFallback || flags.mhFallback) bits |= IP_VS_SVC_F.SCHED1;
  if (flags.shPort || flags.mhPort) bits |= IP_VS_SVC_F.SCHED2;
  return bits;
}

/** The netmask attribute: an IPv4 mask in network order, or an IPv6 prefix length (ip_vs_ctl.c). */
export function netmaskValue(family: AddressFamily, prefix: number | undefined): Buffer {
  const p = prefix ?? fullPrefix(family);
  const b = Buffer.alloc(4);
  if (family === 'inet') b.writeUInt32BE(prefixToMask(Math.min(p, 32)));
  else b.writeUInt32LE(p);
  return b;
}

/** IPVS_CMD_ATTR_SERVICE with every field, as NEW_SERVICE and SET_SERVICE need it. */
export function writeService(w: AttrWriter, s: IpvsService): void {
  const family = serviceFamily(s.key);
  w.nested(IPVS_CMD_ATTR.SERVICE, (n) => {
    writeServiceKey(n, s.key);
    n.string(IPVS_SVC_ATTR.SCHED_NAME, s.scheduler);
    if (s.persistenceEngine) n.string(IPVS_SVC_ATTR.PE_NAME, s.persistenceEngine);
    const flags = Buffer.alloc(8);
    flags.writeUInt32LE(serviceFlagBits(s.flags, s.persistence > 0), 0);
    flags.writeUInt32LE(0xffffffff, 4); // mask: we state every flag, none inherited from the old service
    n.bytes(IPVS_SVC_ATTR.FLAGS, flags);
    n.u32(IPVS_SVC_ATTR.TIMEOUT, s.persistence);
    n.bytes(IPVS_SVC_ATTR.NETMASK, netmaskValue(family, s.persistencePrefix));
  });
}

export function writeServiceKeyCommand(w: AttrWriter, key: IpvsServiceKey): void {
  w.nested(IPVS_CMD_ATTR.SERVICE, (n) => writeServiceKey(n, key));
}

const PROTOCOL_BY_CODE = new Map<number, IpvsProtocol>(Object.entries(IPPROTO).map(([k, v]) => [v, k as IpvsProtocol]));
const FAMILY_BY_CODE = new Map<number, AddressFamily>(Object.entries(AF).map(([k, v]) => [v, k as AddressFamily]));
const SCHEDULERS = new Set<string>(IPVS_SCHEDULERS);

function familyFrom(a: Attrs, type: number, name: string): AddressFamily {
  const code = a.u16(type, name);
  const family = FAMILY_BY_CODE.get(code);
  if (!family) throw new IpvsDecodeError(`${name} ${code} is neither AF_INET nor AF_INET6`);
  return family;
}

export function decodeServiceKey(a: Attrs): IpvsServiceKey {
  const family = familyFrom(a, IPVS_SVC_ATTR.AF, 'AF');
  if (a.has(IPVS_SVC_ATTR.FWMARK) && a.u32(IPVS_SVC_ATTR.FWMARK, 'FWMARK') !== 0) {
    return { kind: 'fwmark', fwmark: a.u32(IPVS_SVC_ATTR.FWMARK, 'FWMARK'), family };
  }
  const code = a.u16(IPVS_SVC_ATTR.PROTOCOL, 'PROTOCOL');
  const protocol = PROTOCOL_BY_CODE.get(code);
  if (!protocol) throw new IpvsDecodeError(`service protocol ${code} is not tcp, udp or sctp`);
  return {
    kind: 'addr',
    protocol,
    address: bytesToIp(a.bytes(IPVS_SVC_ATTR.ADDR, 'ADDR', family === 'inet' ? 4 : 16), family),
    port: a.u16be(IPVS_SVC_ATTR.PORT, 'PORT'),
  };
}

/** Counters: STATS64 when the kernel sends it (>= 4.x), the older 32-bit STATS otherwise. */
export function decodeStats(parent: Attrs, stats32: number, stats64: number): IpvsStats {
  if (parent.has(stats64)) {
    // No closures here (nor in the other per-destination decoders): a dump decodes one set of
    // counters per destination, and a closure per call cost more than the reads under tsx.
    const s = parent.nested(stats64, 'STATS64');
    return {
      conns: s.u64Or0(IPVS_STATS_ATTR.CONNS, 'CONNS'),
      inPackets: s.u64Or0(IPVS_STATS_ATTR.INPKTS, 'INPKTS'),
      outPackets: s.u64Or0(IPVS_STATS_ATTR.OUTPKTS, 'OUTPKTS'),
      inBytes: s.u64Or0(IPVS_STATS_ATTR.INBYTES, 'INBYTES'),
      outBytes: s.u64Or0(IPVS_STATS_ATTR.OUTBYTES, 'OUTBYTES'),
      cps: s.u64Or0(IPVS_STATS_ATTR.CPS, 'CPS'),
      inPps: s.u64Or0(IPVS_STATS_ATTR.INPPS, 'INPPS'),
      outPps: s.u64Or0(IPVS_STATS_ATTR.OUTPPS, 'OUTPPS'),
      inBps: s.u64Or0(IPVS_STATS_ATTR.INBPS, 'INBPS'),
      outBps: s.u64Or0(IPVS_STATS_ATTR.OUTBPS, 'OUTBPS'),
    };
  }
  if (!parent.has(stats32)) return zeroStats();
  const s = parent.nested(stats32, 'STATS');
  return {
    conns: s.u32AsBigOr0(IPVS_STATS_ATTR.CONNS, 'CONNS'),
    inPackets: s.u32AsBigOr0(IPVS_STATS_ATTR.INPKTS, 'INPKTS'),
    outPackets: s.u32AsBigOr0(IPVS_STATS_ATTR.OUTPKTS, 'OUTPKTS'),
    inBytes: s.u64Or0(IPVS_STATS_ATTR.INBYTES, 'INBYTES'),
    outBytes: s.u64Or0(IPVS_STATS_ATTR.OUTBYTES, 'OUTBYTES'),
    cps: s.u32AsBigOr0(IPVS_STATS_ATTR.CPS, 'CPS'),
    inPps: s.u32AsBigOr0(IPVS_STATS_ATTR.INPPS, 'INPPS'),
    outPps: s.u32AsBigOr0(IPVS_STATS_ATTR.OUTPPS, 'OUTPPS'),
    inBps: s.u32AsBigOr0(IPVS_STATS_ATTR.INBPS, 'INBPS'),
    outBps: s.u32AsBigOr0(IPVS_STATS_ATTR.OUTBPS, 'OUTBPS'),
  };
}

/** Writes a stats container the way the kernel fills it (used by fixtures and the in-memory double). */
export function writeStats64(w: AttrWriter, type: number, s: IpvsStats): void {
  w.nested(type, (n) => {
    n.u64(IPVS_STATS_ATTR.CONNS, s.conns);
    n.u64(IPVS_STATS_ATTR.INPKTS, s.inPackets);
    n.u64(IPVS_STATS_ATTR.OUTPKTS, s.outPackets);
    n.u64(IPVS_STATS_ATTR.INBYTES, s.inBytes);
    n.u64(IPVS_STATS_ATTR.OUTBYTES, s.outBytes);
    n.u64(IPVS_STATS_ATTR.CPS, s.cps);
    n.u64(IPVS_STATS_ATTR.INPPS, s.inPps);
    n.u64(IPVS_STATS_ATTR.OUTPPS, s.outPps);
    n.u64(IPVS_STATS_ATTR.INBPS, s.inBps);
    n.u64(IPVS_STATS_ATTR.OUTBPS, s.outBps);
  });
}

/**
 * Decodes the payload of IPVS_CMD_ATTR_SERVICE from a dump. Defaults are left out the way
 * `ipvsadm-save` leaves them out (no persistencePrefix when it is the full length, no engine when
 * none), so a decoded service equals `canonicalService()` of the desired one.
 */
export function decodeService(payload: Buffer): { service: IpvsService; stats: IpvsStats } {
  const a = Attrs.parse(payload, 'service');
  try {
    const key = decodeServiceKey(a);
    const family = serviceFamily(key);
    const schedName = a.string(IPVS_SVC_ATTR.SCHED_NAME, 'SCHED_NAME');
    if (!SCHEDULERS.has(schedName)) throw new IpvsDecodeError(`service ${describeKey(key)} has unknown scheduler '${schedName}'`);
    const scheduler = schedName as IpvsScheduler;
    const flagBits = a.has(IPVS_SVC_ATTR.FLAGS) ? a.bytes(IPVS_SVC_ATTR.FLAGS, 'FLAGS', 8).readUInt32LE(0) : 0;
    const mh = scheduler === 'mh';
    const flags: IpvsServiceFlags = {
      onePacket: (flagBits & IP_VS_SVC_F.ONEPACKET) !== 0,
      shFallback: !mh && (flagBits & IP_VS_SVC_F.SCHED1) !== 0,
      shPort: !mh && (flagBits & IP_VS_SVC_F.SCHED2) !== 0,
      mhFallback: mh && (flagBits & IP_VS_SVC_F.SCHED1) !== 0,
      mhPort: mh && (flagBits & IP_VS_SVC_F.SCHED2) !== 0,
    };
    const persistent = (flagBits & IP_VS_SVC_F.PERSISTENT) !== 0;
    const service: IpvsService = {
      key,
      scheduler,
      flags,
      persistence: persistent ? a.u32(IPVS_SVC_ATTR.TIMEOUT, 'TIMEOUT') : 0,
      destinations: [],
    };
    if (persistent && a.has(IPVS_SVC_ATTR.NETMASK)) {
      const raw = a.bytes(IPVS_SVC_ATTR.NETMASK, 'NETMASK', 4);
      const prefix = family === 'inet' ? maskToPrefix(raw.readUInt32BE(0)) : raw.readUInt32LE(0);
      if (prefix === null) throw new IpvsDecodeError(`service ${describeKey(key)} has a non-contiguous netmask`);
      if (prefix !== fullPrefix(family)) service.persistencePrefix = prefix;
    }
    if (a.has(IPVS_SVC_ATTR.PE_NAME)) {
      const pe = a.string(IPVS_SVC_ATTR.PE_NAME, 'PE_NAME');
      if (pe) service.persistenceEngine = pe;
    }
    return { service, stats: decodeStats(a, IPVS_SVC_ATTR.STATS, IPVS_SVC_ATTR.STATS64) };
  } catch (err) {
    if (err instanceof AttrParseError) throw new IpvsDecodeError(err.message, { cause: err });
    throw err;
  }
}

/** The service in the form a dump returns it: defaults dropped, addresses canonical, flags per scheduler. */
export function canonicalService(s: IpvsService): IpvsService {
  const family = serviceFamily(s.key);
  const key: IpvsServiceKey = s.key.kind === 'addr' ? { ...s.key, address: canonicalIp(s.key.address) } : { ...s.key };
  const mh = s.scheduler === 'mh';
  const fallback = s.flags.shFallback || s.flags.mhFallback;
  const port = s.flags.shPort || s.flags.mhPort;
  const out: IpvsService = {
    key,
    scheduler: s.scheduler,
    flags: { onePacket: s.flags.onePacket, shFallback: !mh && fallback, shPort: !mh && port, mhFallback: mh && fallback, mhPort: mh && port },
    persistence: s.persistence,
    destinations: s.destinations.map(canonicalDestination),
  };
  if (s.persistence > 0 && s.persistencePrefix !== undefined && s.persistencePrefix !== fullPrefix(family)) {
    out.persistencePrefix = s.persistencePrefix;
  }
  if (s.persistenceEngine) out.persistenceEngine = s.persistenceEngine;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Destination

export function writeDestinationKey(w: AttrWriter, d: Pick<IpvsDestination, 'address' | 'port'>): void {
  w.padded(IPVS_DEST_ATTR.ADDR, ipToBytes(d.address), 16);
  w.u16be(IPVS_DEST_ATTR.PORT, d.port);
  w.u16(IPVS_DEST_ATTR.ADDR_FAMILY, AF[familyOf(d.address)]);
}

export function tunnelFlagBits(flags: IpvsDestination['tunnelFlags']): number {
  return flags.reduce((bits, f) => bits | IP_VS_TUNNEL_ENCAP_FLAG[f], 0);
}

/** IPVS_CMD_ATTR_DEST with every field, as NEW_DEST and SET_DEST need it. */
export function writeDestination(w: AttrWriter, d: IpvsDestination): void {
  w.nested(IPVS_CMD_ATTR.DEST, (n) => {
    writeDestinationKey(n, d);
    n.u32(IPVS_DEST_ATTR.FWD_METHOD, FORWARD_CODE[d.forward]);
    n.u32(IPVS_DEST_ATTR.WEIGHT, d.weight);
    n.u32(IPVS_DEST_ATTR.U_THRESH, d.upperThreshold);
    n.u32(IPVS_DEST_ATTR.L_THRESH, d.lowerThreshold);
    if (d.forward === 'tunnel') {
      n.u8(IPVS_DEST_ATTR.TUN_TYPE, IP_VS_TUNNEL_TYPE[d.tunnelType]);
      n.u16be(IPVS_DEST_ATTR.TUN_PORT, d.tunnelPort);
      n.u16(IPVS_DEST_ATTR.TUN_FLAGS, tunnelFlagBits(d.tunnelFlags));
    }
  });
}

export function writeDestinationKeyCommand(w: AttrWriter, d: Pick<IpvsDestination, 'address' | 'port'>): void {
  w.nested(IPVS_CMD_ATTR.DEST, (n) => writeDestinationKey(n, d));
}

const FORWARD_BY_CODE = new Map<number, IpvsForward>(Object.entries(FORWARD_CODE).map(([k, v]) => [v, k as IpvsForward]));
const TUNNEL_BY_CODE = new Map<number, TunnelType>(Object.entries(IP_VS_TUNNEL_TYPE).map(([k, v]) => [v, k as TunnelType]));

function tunnelFlagNames(bits: number): IpvsDestination['tunnelFlags'] {
  const names: IpvsDestination['tunnelFlags'] = [];
  if (bits & IP_VS_TUNNEL_ENCAP_FLAG.csum) names.push('csum');
  if (bits & IP_VS_TUNNEL_ENCAP_FLAG.remcsum) names.push('remcsum');
  return names;
}

/** Decodes the payload of IPVS_CMD_ATTR_DEST; `serviceFamily` is used when the kernel omits the family. */
export function decodeDestination(payload: Buffer, fallbackFamily: AddressFamily): DumpedDestination {
  const a = Attrs.parse(payload, 'destination');
  try {
    const family = a.has(IPVS_DEST_ATTR.ADDR_FAMILY) ? familyFrom(a, IPVS_DEST_ATTR.ADDR_FAMILY, 'ADDR_FAMILY') : fallbackFamily;
    const address = bytesToIp(a.bytes(IPVS_DEST_ATTR.ADDR, 'ADDR', family === 'inet' ? 4 : 16), family);
    const fwd = a.u32(IPVS_DEST_ATTR.FWD_METHOD, 'FWD_METHOD') & IP_VS_CONN_F.FWD_MASK;
    const forward = FORWARD_BY_CODE.get(fwd);
    if (!forward) throw new IpvsDecodeError(`destination ${address} has forwarding method ${fwd}, not masq/local/tunnel/route`);
    const tunCode = a.has(IPVS_DEST_ATTR.TUN_TYPE) ? a.u8(IPVS_DEST_ATTR.TUN_TYPE, 'TUN_TYPE') : 0;
    const tunnelType = TUNNEL_BY_CODE.get(tunCode);
    if (!tunnelType) throw new IpvsDecodeError(`destination ${address} has tunnel type ${tunCode}, not ipip/gue/gre`);
    const tunFlags = a.has(IPVS_DEST_ATTR.TUN_FLAGS) ? a.u16(IPVS_DEST_ATTR.TUN_FLAGS, 'TUN_FLAGS') : 0;
    const tunnel = forward === 'tunnel';
    const destination: IpvsDestination = {
      address,
      port: a.u16be(IPVS_DEST_ATTR.PORT, 'PORT'),
      forward,
      weight: a.u32(IPVS_DEST_ATTR.WEIGHT, 'WEIGHT'),
      upperThreshold: a.u32Or0(IPVS_DEST_ATTR.U_THRESH, 'U_THRESH'),
      lowerThreshold: a.u32Or0(IPVS_DEST_ATTR.L_THRESH, 'L_THRESH'),
      tunnelType: tunnel ? tunnelType : 'ipip',
      tunnelPort: tunnel && a.has(IPVS_DEST_ATTR.TUN_PORT) ? a.u16be(IPVS_DEST_ATTR.TUN_PORT, 'TUN_PORT') : 0,
      tunnelFlags: tunnel ? tunnelFlagNames(tunFlags) : [],
    };
    return {
      destination,
      activeConns: a.u32Or0(IPVS_DEST_ATTR.ACTIVE_CONNS, 'ACTIVE_CONNS'),
      inactiveConns: a.u32Or0(IPVS_DEST_ATTR.INACT_CONNS, 'INACT_CONNS'),
      persistentConns: a.u32Or0(IPVS_DEST_ATTR.PERSIST_CONNS, 'PERSIST_CONNS'),
      stats: decodeStats(a, IPVS_DEST_ATTR.STATS, IPVS_DEST_ATTR.STATS64),
    };
  } catch (err) {
    if (err instanceof AttrParseError) throw new IpvsDecodeError(err.message, { cause: err });
    throw err;
  }
}

/** The destination as a dump returns it: canonical address, tunnel fields only for tunnel forwarding. */
export function canonicalDestination(d: IpvsDestination): IpvsDestination {
  const tunnel = d.forward === 'tunnel';
  return {
    address: canonicalIp(d.address),
    port: d.port,
    forward: d.forward,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    tunnelType: tunnel ? d.tunnelType : 'ipip',
    tunnelPort: tunnel ? d.tunnelPort : 0,
    tunnelFlags: tunnel ? (['csum', 'remcsum'] as const).filter((f) => d.tunnelFlags.includes(f)) : [],
  };
}

// ---------------------------------------------------------------------------------------------
// Daemons, timeouts, info

export function writeDaemon(w: AttrWriter, d: IpvsDaemon): void {
  w.nested(IPVS_CMD_ATTR.DAEMON, (n) => {
    n.u32(IPVS_DAEMON_ATTR.STATE, d.state === 'master' ? IP_VS_STATE.MASTER : IP_VS_STATE.BACKUP);
    n.string(IPVS_DAEMON_ATTR.MCAST_IFN, d.interface);
    n.u32(IPVS_DAEMON_ATTR.SYNC_ID, d.syncId);
    if (d.maxLength) n.u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN, d.maxLength);
    if (d.group !== undefined) {
      if (familyOf(d.group) === 'inet') n.bytes(IPVS_DAEMON_ATTR.MCAST_GROUP, ipToBytes(d.group));
      else n.bytes(IPVS_DAEMON_ATTR.MCAST_GROUP6, ipToBytes(d.group));
    }
    if (d.port) n.u16(IPVS_DAEMON_ATTR.MCAST_PORT, d.port);
    if (d.ttl) n.u8(IPVS_DAEMON_ATTR.MCAST_TTL, d.ttl);
  });
}

/** Only the state: all DEL_DAEMON needs. */
export function writeDaemonState(w: AttrWriter, state: IpvsDaemon['state']): void {
  w.nested(IPVS_CMD_ATTR.DAEMON, (n) => n.u32(IPVS_DAEMON_ATTR.STATE, state === 'master' ? IP_VS_STATE.MASTER : IP_VS_STATE.BACKUP));
}

export function decodeDaemon(payload: Buffer): IpvsDaemon {
  const a = Attrs.parse(payload, 'daemon');
  try {
    const code = a.u32(IPVS_DAEMON_ATTR.STATE, 'STATE');
    if (code !== IP_VS_STATE.MASTER && code !== IP_VS_STATE.BACKUP) throw new IpvsDecodeError(`daemon state ${code} is neither master nor backup`);
    const d: IpvsDaemon = {
      state: code === IP_VS_STATE.MASTER ? 'master' : 'backup',
      interface: a.string(IPVS_DAEMON_ATTR.MCAST_IFN, 'MCAST_IFN'),
      syncId: a.u32(IPVS_DAEMON_ATTR.SYNC_ID, 'SYNC_ID'),
    };
    if (a.has(IPVS_DAEMON_ATTR.SYNC_MAXLEN)) d.maxLength = a.u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN, 'SYNC_MAXLEN');
    if (a.has(IPVS_DAEMON_ATTR.MCAST_GROUP)) d.group = bytesToIp(a.bytes(IPVS_DAEMON_ATTR.MCAST_GROUP, 'MCAST_GROUP', 4), 'inet');
    if (a.has(IPVS_DAEMON_ATTR.MCAST_GROUP6)) d.group = bytesToIp(a.bytes(IPVS_DAEMON_ATTR.MCAST_GROUP6, 'MCAST_GROUP6', 16), 'inet6');
    if (a.has(IPVS_DAEMON_ATTR.MCAST_PORT)) d.port = a.u16(IPVS_DAEMON_ATTR.MCAST_PORT, 'MCAST_PORT');
    if (a.has(IPVS_DAEMON_ATTR.MCAST_TTL)) d.ttl = a.u8(IPVS_DAEMON_ATTR.MCAST_TTL, 'MCAST_TTL');
    return d;
  } catch (err) {
    if (err instanceof AttrParseError) throw new IpvsDecodeError(err.message, { cause: err });
    throw err;
  }
}

/** SET_CONFIG attributes; a 0 leaves that timeout unchanged, as with `ipvsadm --set`. */
export function writeTimeouts(w: AttrWriter, t: IpvsTimeouts): void {
  if (t.tcp) w.u32(IPVS_CMD_ATTR.TIMEOUT_TCP, t.tcp);
  if (t.tcpFin) w.u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin);
  if (t.udp) w.u32(IPVS_CMD_ATTR.TIMEOUT_UDP, t.udp);
}

export function decodeTimeouts(payload: Buffer): IpvsTimeouts {
  const a = Attrs.parse(payload, 'config');
  return {
    tcp: a.u32Or0(IPVS_CMD_ATTR.TIMEOUT_TCP, 'TIMEOUT_TCP'),
    tcpFin: a.u32Or0(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, 'TIMEOUT_TCP_FIN'),
    udp: a.u32Or0(IPVS_CMD_ATTR.TIMEOUT_UDP, 'TIMEOUT_UDP'),
  };
}

export function versionString(code: number): string {
  return `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`;
}

export function decodeInfo(payload: Buffer): IpvsInfo {
  const a = Attrs.parse(payload, 'info');
  try {
    const versionCode = a.u32(IPVS_INFO_ATTR.VERSION, 'VERSION');
    return { version: versionString(versionCode), versionCode, connTableSize: a.u32(IPVS_INFO_ATTR.CONN_TAB_SIZE, 'CONN_TAB_SIZE') };
  } catch (err) {
    if (err instanceof AttrParseError) throw new IpvsDecodeError(err.message, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------

/** A short human name for a service, e.g. `tcp 10.0.0.1:80` or `fwmark 7 (inet6)`. */
export function describeKey(key: IpvsServiceKey): string {
  if (key.kind === 'fwmark') return `fwmark ${key.fwmark} (${key.family})`;
  return key.address.includes(':') ? `${key.protocol} [${key.address}]:${key.port}` : `${key.protocol} ${key.address}:${key.port}`;
}

export function describeDestination(d: Pick<IpvsDestination, 'address' | 'port'>): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/** The generic-netlink header (cmd, version, reserved) followed by the attributes. */
export function genlPayload(cmd: number, attrs: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt8(cmd, 0);
  head.writeUInt8(IPVS_GENL_VERSION, 1);
  return Buffer.concat([head, attrs]);
}
