import { isIP } from 'node:net';
import { z } from 'zod';

// The kernel's IPVS table as data: what `ipvsadm-save -n` prints and what the netlink dump returns.
// This is the *effective* table (after health, drain and other overlays), not the desired state.

export const IPVS_SCHEDULERS = [
  'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos',
] as const;
export const ipvsScheduler = z.enum(IPVS_SCHEDULERS);
export type IpvsScheduler = z.infer<typeof ipvsScheduler>;

export const ipvsProtocol = z.enum(['tcp', 'udp', 'sctp']);
export type IpvsProtocol = z.infer<typeof ipvsProtocol>;

export const addressFamily = z.enum(['inet', 'inet6']);
export type AddressFamily = z.infer<typeof addressFamily>;

/** masq = NAT (-m), route = DR (-g), tunnel = TUN (-i), local = the director itself. */
export const ipvsForward = z.enum(['masq', 'route', 'tunnel', 'local']);
export type IpvsForward = z.infer<typeof ipvsForward>;

export const tunnelType = z.enum(['ipip', 'gue', 'gre']);
export type TunnelType = z.infer<typeof tunnelType>;

export const ipAddress = z.string().refine((s) => isIP(s) !== 0, { message: 'not an IPv4 or IPv6 address' });
export const port = z.number().int().min(0).max(65535);

export const familyOf = (address: string): AddressFamily => (isIP(address) === 6 ? 'inet6' : 'inet');

/** A service is identified either by protocol + VIP + port or by a firewall mark (+ family). */
export const ipvsServiceKey = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('addr'), protocol: ipvsProtocol, address: ipAddress, port }).strict(),
  z.object({ kind: z.literal('fwmark'), fwmark: z.number().int().min(1).max(0xffffffff), family: addressFamily }).strict(),
]);
export type IpvsServiceKey = z.infer<typeof ipvsServiceKey>;

export const ipvsServiceFlags = z
  .object({
    onePacket: z.boolean().default(false),
    shFallback: z.boolean().default(false),
    shPort: z.boolean().default(false),
    mhFallback: z.boolean().default(false),
    mhPort: z.boolean().default(false),
  })
  .strict();
export type IpvsServiceFlags = z.infer<typeof ipvsServiceFlags>;

export const ipvsDestination = z
  .object({
    address: ipAddress,
    port,
    forward: ipvsForward,
    weight: z.number().int().min(0).max(65535),
    upperThreshold: z.number().int().min(0).max(0xffffffff).default(0),
    lowerThreshold: z.number().int().min(0).max(0xffffffff).default(0),
    tunnelType: tunnelType.default('ipip'),
    tunnelPort: port.default(0),
    /** GUE/GRE checksum options as ipvsadm names them: 'csum', 'remcsum' (none = []). */
    tunnelFlags: z.array(z.enum(['csum', 'remcsum'])).default([]),
  })
  .strict();
export type IpvsDestination = z.infer<typeof ipvsDestination>;

export const ipvsService = z
  .object({
    key: ipvsServiceKey,
    scheduler: ipvsScheduler,
    flags: ipvsServiceFlags.default({ onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false }),
    /** Persistence timeout in seconds; 0 = not persistent. */
    persistence: z.number().int().min(0).max(0xffffffff).default(0),
    /** Persistence granularity as a prefix length (32 / 128 = per client address). */
    persistencePrefix: z.number().int().min(0).max(128).optional(),
    /** Persistence engine, e.g. 'sip'. */
    persistenceEngine: z.string().min(1).max(15).optional(),
    destinations: z.array(ipvsDestination).default([]),
  })
  .strict();
export type IpvsService = z.infer<typeof ipvsService>;

export const ipvsTable = z.object({ services: z.array(ipvsService) }).strict();
export type IpvsTable = z.infer<typeof ipvsTable>;

/** Counters and rates of a service or destination (64-bit counters as bigint). */
export interface IpvsStats {
  conns: bigint;
  inPackets: bigint;
  outPackets: bigint;
  inBytes: bigint;
  outBytes: bigint;
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
  outBps: bigint;
}

/** Timeouts in seconds, as `ipvsadm --set tcp tcpfin udp`; 0 leaves a value unchanged on set. */
export const ipvsTimeouts = z.object({ tcp: z.number().int().min(0), tcpFin: z.number().int().min(0), udp: z.number().int().min(0) }).strict();
export type IpvsTimeouts = z.infer<typeof ipvsTimeouts>;

/** A stable identity string for a service, e.g. `tcp|10.0.0.1|80` or `fwmark|inet|1`. */
export function serviceId(key: IpvsServiceKey): string {
  return key.kind === 'addr' ? `${key.protocol}|${key.address}|${key.port}` : `fwmark|${key.family}|${key.fwmark}`;
}

/** A stable identity string for a destination within its service. */
export function destinationId(d: Pick<IpvsDestination, 'address' | 'port'>): string {
  return `${d.address}|${d.port}`;
}

/**
 * One change to an IPVS table: one netlink write, or one ipvsadm command. The kernel library applies
 * these, the formats library prints and parses them, and the ipvs-agent's diff produces them.
 */
export type IpvsOp =
  | { op: 'addService'; service: IpvsService }
  | { op: 'editService'; service: IpvsService }
  | { op: 'deleteService'; key: IpvsServiceKey }
  | { op: 'addDestination'; key: IpvsServiceKey; destination: IpvsDestination }
  | { op: 'editDestination'; key: IpvsServiceKey; destination: IpvsDestination }
  | { op: 'deleteDestination'; key: IpvsServiceKey; destination: Pick<IpvsDestination, 'address' | 'port'> }
  /** Zero the counters of one service or of all; no change to the table itself. */
  | { op: 'zero'; key?: IpvsServiceKey }
  /** `ipvsadm -C`: remove every service. */
  | { op: 'flush' }
  /** `ipvsadm --set tcp tcpfin udp`; not part of the table either. */
  | { op: 'setTimeouts'; timeouts: IpvsTimeouts };
