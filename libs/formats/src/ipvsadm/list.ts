import { serviceId, type IpvsDestination, type IpvsService, type IpvsServiceKey, type IpvsStats, type IpvsTable } from '@fulcrum/schemas';
import { describeServiceKey } from './describe.js';
import { IpvsadmFormatError } from './errors.js';
import { formatAddressPort, ipv4PrefixToMask, parseAddress } from './inet.js';
import { schedulerFlagNames, serviceFamilyIsV6 } from './save.js';
import { sortDestinationsLikeIpvsadm, sortServicesLikeIpvsadm } from './sort.js';

// `ipvsadm -Ln` and its views (--stats, --rate, --thresholds, --persistent-conn, --tun-info,
// --exact, --nosort) as Debian's ipvsadm 1.31 prints them, column for column.

/**
 * A real server with what the kernel counts for it (zero when absent). The same shape as the
 * netlink library's dump, so a dump lists as it is.
 */
export interface ListedDestination {
  destination: IpvsDestination;
  activeConns?: number;
  inactiveConns?: number;
  persistentConns?: number;
  stats?: IpvsStats;
}

/** A service with its counters; `destinations` (not `service.destinations`) is what is listed. */
export interface ListedService {
  service: IpvsService;
  stats?: IpvsStats;
  destinations: ListedDestination[];
}

export interface ListedTable {
  services: ListedService[];
}

/** A plain table as a listing without counters. */
export function listedTable(table: IpvsTable): ListedTable {
  return { services: table.services.map((service) => ({ service, destinations: service.destinations.map((destination) => ({ destination })) })) };
}

/** Which columns: ipvsadm's `--stats`, `--rate`, `--thresholds`, `--persistent-conn`, `--tun-info`, or none. */
export type IpvsadmListView = 'default' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'tun-info';

export interface ListOptions {
  view?: IpvsadmListView;
  /** `--exact`: whole numbers instead of K/M/G/T in the stats and rate columns. */
  exact?: boolean;
  /** `--nosort`: services and destinations in the table's own order. */
  nosort?: boolean;
  /** Only this service, as `ipvsadm -Ln -t ...` (no version line). */
  service?: IpvsServiceKey;
  /** For the first line; the kernel's IPVS version and connection table size. */
  ipvsVersion?: string;
  connTableSize?: number;
}

const ZERO_STATS: IpvsStats = {
  conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n,
};

const padEnd = (s: string | number | bigint, n: number) => String(s).padEnd(n);
const padStart = (s: string | number | bigint, n: number) => String(s).padStart(n);

/** ipvsadm's print_largenum: 9 columns, K/M/G/T above 10^8 unless exact. */
export function formatLargeNumber(n: bigint, exact = false): string {
  if (exact) {
    const s = n.toString();
    return s.padStart(s.length <= 8 ? 9 : s.length + 1);
  }
  if (n < 100_000_000n) return padStart(n, 9);
  if (n < 1_000_000_000n) return `${padStart(n / 1000n, 8)}K`;
  if (n < 100_000_000_000n) return `${padStart(n / 1_000_000n, 8)}M`;
  if (n < 100_000_000_000_000n) return `${padStart(n / 1_000_000_000n, 8)}G`;
  return `${padStart(n / 1_000_000_000_000n, 8)}T`;
}

function title(view: IpvsadmListView): string {
  const prot = padEnd('Prot LocalAddress:Port', 33);
  const cols8 = (names: string[]) => `${prot}${names.map((c) => ` ${padStart(c, 8)}`).join('')}\n  -> RemoteAddress:Port\n`;
  switch (view) {
    case 'stats':
      return cols8(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes']);
    case 'rate':
      return cols8(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS']);
    case 'thresholds':
      return `${prot} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((c) => padEnd(c, 10)).join(' ')}\n  -> RemoteAddress:Port\n`;
    case 'persistent-conn':
      return `${prot} ${padEnd('Weight', 9)} ${padEnd('PersistConn', 11)} ${padEnd('ActiveConn', 10)} ${padEnd('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
    case 'tun-info':
      return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
    default:
      return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  }
}

function serviceName(s: IpvsService): string {
  if (s.key.kind === 'fwmark') return `FWM  ${s.key.fwmark | 0}${s.key.family === 'inet6' ? ' IPv6' : ''}`;
  const name = `${padEnd(s.key.protocol.toUpperCase(), 4)} ${formatAddressPort(s.key.address, s.key.port)}`;
  return serviceFamilyIsV6(s) ? name : name.slice(0, 33);
}

function serviceLine(listed: ListedService, view: IpvsadmListView, exact: boolean): string {
  const s = listed.service;
  const name = serviceName(s);
  const st = listed.stats ?? ZERO_STATS;
  if (view === 'stats') {
    return padEnd(name, 33) + [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes].map((n) => formatLargeNumber(n, exact)).join('');
  }
  if (view === 'rate') {
    return padEnd(name, 33) + [st.cps, st.inPps, st.outPps, st.inBps, st.outBps].map((n) => formatLargeNumber(n, exact)).join('');
  }
  let line = `${name} ${s.scheduler}`;
  const flags = schedulerFlagNames(s);
  if (flags !== null) line += ` (${flags})`;
  if (s.persistence > 0) {
    line += ` persistent ${s.persistence}`;
    const v6 = serviceFamilyIsV6(s);
    const prefix = s.persistencePrefix;
    if (prefix !== undefined && prefix !== (v6 ? 128 : 32)) line += v6 ? ` mask ${prefix}` : ` mask ${ipv4PrefixToMask(prefix)}`;
    if (s.persistenceEngine) line += ` pe ${s.persistenceEngine}`;
  }
  if (s.flags.onePacket) line += ' ops';
  return line;
}

const FORWARD_NAME = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route' } as const;
const TUNNEL_FLAG_NAME = (d: IpvsDestination) => (d.tunnelFlags.includes('remcsum') ? 'r+c' : d.tunnelFlags.includes('csum') ? '+c' : '-c');

function tunnelInfo(d: IpvsDestination): string {
  if (d.forward !== 'tunnel') return 'n/a';
  if (d.tunnelType === 'gue') return `gue:${d.tunnelPort}:${TUNNEL_FLAG_NAME(d)}`;
  if (d.tunnelType === 'gre') return `gre:${TUNNEL_FLAG_NAME(d)}`;
  return 'ipip';
}

function destinationLine(listed: ListedDestination, view: IpvsadmListView, exact: boolean): string {
  const d = listed.destination;
  let name = formatAddressPort(d.address, d.port);
  if (parseAddress(d.address)?.family !== 'inet6') name = name.slice(0, 28);
  const head = `  -> ${padEnd(name, 28)}`;
  const active = listed.activeConns ?? 0;
  const inactive = listed.inactiveConns ?? 0;
  const st = listed.stats ?? ZERO_STATS;
  switch (view) {
    case 'stats':
      return head + [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes].map((n) => formatLargeNumber(n, exact)).join('');
    case 'rate':
      // ipvsadm prints the connection and packet rates of destinations in full, only the byte rates shortened.
      return `${head} ${padStart(st.cps, 8)} ${padStart(st.inPps, 8)} ${padStart(st.outPps, 8)}` +
        formatLargeNumber(st.inBps, exact) + formatLargeNumber(st.outBps, exact);
    case 'thresholds':
      return `${head} ${padEnd(d.upperThreshold, 10)} ${padEnd(d.lowerThreshold, 10)} ${padEnd(active, 10)} ${padEnd(inactive, 10)}`;
    case 'persistent-conn':
      return `${head} ${padEnd(d.weight, 9)} ${padEnd(listed.persistentConns ?? 0, 11)} ${padEnd(active, 10)} ${padEnd(inactive, 10)}`;
    case 'tun-info':
      return `${head} ${padEnd(FORWARD_NAME[d.forward], 7)} ${padEnd(tunnelInfo(d), 13)} ${padEnd(d.weight, 6)} ${padEnd(active, 10)} ${padEnd(inactive, 10)}`;
    default:
      return `${head} ${padEnd(FORWARD_NAME[d.forward], 7)} ${padEnd(d.weight, 6)} ${padEnd(active, 10)} ${padEnd(inactive, 10)}`;
  }
}

/**
 * The table as `ipvsadm -Ln` (with the chosen view) prints it: a plain table (counters zero) or
 * a listing with counters, such as the netlink library's dump. Byte for byte when services and
 * destinations are in the kernel's dump order (see formatIpvsadmSave).
 */
export function formatIpvsadmList(table: IpvsTable | ListedTable, options: ListOptions = {}): string {
  const view = options.view ?? 'default';
  const exact = options.exact === true;
  let services = isListed(table) ? table.services : listedTable(table).services;
  let out = '';
  if (options.service) {
    const wanted = serviceId(options.service);
    services = services.filter((s) => serviceId(s.service.key) === wanted);
    if (services.length === 0) throw new IpvsadmFormatError(`No such service: ${describeServiceKey(options.service)}`);
  } else {
    out += `IP Virtual Server version ${options.ipvsVersion ?? '1.2.1'} (size=${options.connTableSize ?? 4096})\n`;
  }
  out += title(view);
  const ordered = options.nosort ? services : sortServicesLikeIpvsadm(services.map((s) => ({ key: s.service.key, s }))).map((x) => x.s);
  for (const s of ordered) {
    out += `${serviceLine(s, view, exact)}\n`;
    const dests = options.nosort ? s.destinations : sortDestinationsLikeIpvsadm(s.destinations.map((d) => ({ ...d.destination, d }))).map((x) => x.d);
    for (const d of dests) out += `${destinationLine(d, view, exact)}\n`;
  }
  return out;
}

function isListed(table: IpvsTable | ListedTable): table is ListedTable {
  return table.services.every((s) => 'service' in s);
}
