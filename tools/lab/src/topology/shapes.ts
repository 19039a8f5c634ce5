import { parseTopology, type TopologySpec } from './spec.js';

/** Addresses of the seeds' shape (one L2 segment, LVS-DR). */
export const seedsAddresses = {
  subnet: '10.99.0.0/24',
  vip: '10.99.0.100',
  client: '10.99.0.10',
  director1: '10.99.0.11',
  director2: '10.99.0.12',
  rs1: '10.99.0.21',
  rs2: '10.99.0.22',
} as const;

export interface SeedsOptions {
  prefix?: string;
  /** Which director holds the VIP at the start (`null`: none, e.g. when a VRRP agent will add it). */
  vipOn?: 'director1' | 'director2' | null;
}

// A DR real server holds the VIP on lo and must neither answer ARP for it nor use it as the
// source of its own ARP requests; new namespaces start from the defaults, so set both here.
const realServerSysctls = {
  'net.ipv4.conf.all.arp_ignore': 1,
  'net.ipv4.conf.all.arp_announce': 2,
  'net.ipv4.conf.eth0.arp_ignore': 1,
  'net.ipv4.conf.eth0.arp_announce': 2,
};

/**
 * The seed documents' cluster: client, director1, director2, rs1 and rs2 on one segment (`lan`,
 * 10.99.0.0/24), the VIP 10.99.0.100 on director1's eth0 and on each real server's lo, with
 * arp_ignore=1 and arp_announce=2 on the real servers. Ready for LVS-DR.
 */
export function seedsTopology(opts: SeedsOptions = {}): TopologySpec {
  const a = seedsAddresses;
  const vipOn = opts.vipOn === undefined ? 'director1' : opts.vipOn;
  const host = (name: keyof typeof a, extra: string[] = []) => ({
    name,
    interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`${a[name]}/24`, ...extra] }],
  });
  const vip = `${a.vip}/32`;
  return parseTopology({
    prefix: opts.prefix ?? '',
    segments: ['lan'],
    nodes: [
      host('client'),
      host('director1', vipOn === 'director1' ? [vip] : []),
      host('director2', vipOn === 'director2' ? [vip] : []),
      { ...host('rs1'), loopback: [vip], sysctls: realServerSysctls },
      { ...host('rs2'), loopback: [vip], sysctls: realServerSysctls },
    ],
  });
}

/** Addresses of the NAT shape: a public and a private segment with the director between them. */
export const natAddresses = {
  publicSubnet: '10.99.1.0/24',
  privateSubnet: '10.99.2.0/24',
  vip: '10.99.1.100',
  client: '10.99.1.10',
  directorPublic: '10.99.1.11',
  /** The real servers' default gateway. */
  directorPrivate: '10.99.2.1',
  rs1: '10.99.2.21',
  rs2: '10.99.2.22',
} as const;

/**
 * LVS-NAT: client on `public` (10.99.1.0/24); rs1 and rs2 on `private` (10.99.2.0/24) with
 * director1 as their default gateway; director1 on both with the VIP 10.99.1.100 on its public
 * side, forwarding on and ICMP redirects off (it would otherwise redirect the real servers).
 */
export function natTopology(opts: { prefix?: string } = {}): TopologySpec {
  const a = natAddresses;
  const realServer = (name: 'rs1' | 'rs2') => ({
    name,
    interfaces: [{ name: 'eth0', segment: 'private', addresses: [`${a[name]}/24`] }],
    routes: [{ to: 'default', via: a.directorPrivate }],
  });
  return parseTopology({
    prefix: opts.prefix ?? '',
    segments: ['public', 'private'],
    nodes: [
      { name: 'client', interfaces: [{ name: 'eth0', segment: 'public', addresses: [`${a.client}/24`] }] },
      {
        name: 'director1',
        interfaces: [
          { name: 'eth0', segment: 'public', addresses: [`${a.directorPublic}/24`, `${a.vip}/32`] },
          { name: 'eth1', segment: 'private', addresses: [`${a.directorPrivate}/24`] },
        ],
        sysctls: {
          'net.ipv4.ip_forward': 1,
          'net.ipv4.conf.all.send_redirects': 0,
          'net.ipv4.conf.default.send_redirects': 0,
          'net.ipv4.conf.eth0.send_redirects': 0,
          'net.ipv4.conf.eth1.send_redirects': 0,
        },
      },
      realServer('rs1'),
      realServer('rs2'),
    ],
  });
}

/** The ready-made shapes by name, as `lab --topology <name>` knows them. */
export const topologies = {
  seeds: seedsTopology,
  nat: natTopology,
} as const;
