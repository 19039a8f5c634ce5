import type { IpvsDestination, IpvsService, IpvsServiceKey, IpvsTable } from '@fulcrum/schemas';
import { describeServiceKey } from './describe.js';
import { IpvsadmFormatError } from './errors.js';
import { formatAddressPort, ipv4PrefixToMask, parseAddress } from './inet.js';
import { sortDestinationsLikeIpvsadm, sortServicesLikeIpvsadm } from './sort.js';

// `ipvsadm-save -n` (ipvsadm -S -n) of Debian's ipvsadm 1.31, byte for byte: services and
// destinations sorted as ipvsadm sorts them, and only what ipvsadm prints: thresholds (-x/-y)
// are not saved by ipvsadm, and local (director) destinations come out as `-g`.

export interface SaveOptions {
  /**
   * Also print `-x`/`-y` on destinations whose thresholds are set. ipvsadm-restore reads them,
   * but ipvsadm-save never prints them, so the output is no longer ipvsadm's byte for byte.
   */
  withThresholds?: boolean;
  /**
   * Print services and destinations in the table's own order instead of sorting them as ipvsadm
   * does. ipvsadm's sort is not transitive when addresses lie more than 2^31 apart, so its order
   * then depends on the kernel's dump order; a file parsed from ipvsadm-save output is printed
   * back unchanged with this.
   */
  nosort?: boolean;
}

/** The `-t 10.0.0.1:80` / `-f 7 -6` part of a command. */
export function serviceOption(key: IpvsServiceKey): string {
  if (key.kind === 'fwmark') {
    // ipvsadm 1.31 prints the mark with %d, so marks above 2^31-1 come out negative.
    const mark = key.fwmark | 0;
    return key.family === 'inet6' ? `-f ${mark} -6` : `-f ${mark}`;
  }
  const flag = key.protocol === 'tcp' ? '-t' : key.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${flag} ${formatAddressPort(key.address, key.port)}`;
}

export function serviceFamilyIsV6(s: Pick<IpvsService, 'key'>): boolean {
  return s.key.kind === 'fwmark' ? s.key.family === 'inet6' : parseAddress(s.key.address)?.family === 'inet6';
}

/** The `-s wrr -p 50 -M 255.255.255.0 --pe sip -o -b sh-fallback` part of `-A`. */
export function serviceSettingsOptions(s: Omit<IpvsService, 'destinations'>): string {
  let out = ` -s ${s.scheduler}`;
  if (s.persistence > 0) {
    out += ` -p ${s.persistence}`;
    const v6 = serviceFamilyIsV6(s);
    const prefix = s.persistencePrefix;
    if (prefix !== undefined && prefix !== (v6 ? 128 : 32)) out += v6 ? ` -M ${prefix}` : ` -M ${ipv4PrefixToMask(prefix)}`;
  }
  if (s.persistenceEngine) out += ` --pe ${s.persistenceEngine}`;
  if (s.flags.onePacket) out += ' -o';
  const flags = schedulerFlagNames(s);
  if (flags !== null) out += ` -b ${flags}`;
  return out;
}

/**
 * The scheduler flags as ipvsadm prints them, or null when no flag bit is set. The kernel keeps
 * flag bits 1 and 2 whatever the scheduler; ipvsadm names them after sh or mh, else `flag-N`.
 */
export function schedulerFlagNames(s: Pick<IpvsService, 'scheduler' | 'flags'>): string | null {
  const bit1 = s.flags.shFallback || s.flags.mhFallback;
  const bit2 = s.flags.shPort || s.flags.mhPort;
  if (!bit1 && !bit2) return null;
  const names =
    s.scheduler === 'sh' ? ['sh-fallback', 'sh-port'] : s.scheduler === 'mh' ? ['mh-fallback', 'mh-port'] : ['flag-1', 'flag-2'];
  return [bit1 ? names[0] : null, bit2 ? names[1] : null].filter((x) => x !== null).join(',');
}

export function forwardSwitch(d: Pick<IpvsDestination, 'forward'>): string {
  return d.forward === 'masq' ? '-m' : d.forward === 'tunnel' ? '-i' : '-g';
}

/** The ` --tun-type gue --tun-port 6080 --tun-nocsum` part of a tunnel destination (empty otherwise). */
export function tunnelOptions(d: IpvsDestination, where: string): string {
  if (d.forward !== 'tunnel') return '';
  if (d.tunnelType === 'ipip') return ' --tun-type ipip';
  const csum = d.tunnelFlags.includes('csum');
  const remcsum = d.tunnelFlags.includes('remcsum');
  if (csum && remcsum) throw new IpvsadmFormatError(`${where}: tunnel flags csum and remcsum together have no ipvsadm option`);
  if (d.tunnelType === 'gre' && remcsum) throw new IpvsadmFormatError(`${where}: a GRE tunnel has no remote checksum option`);
  const flag = csum ? '--tun-csum' : remcsum ? '--tun-remcsum' : '--tun-nocsum';
  return d.tunnelType === 'gue' ? ` --tun-type gue --tun-port ${d.tunnelPort} ${flag}` : ` --tun-type gre ${flag}`;
}

function destinationLine(svc: string, d: IpvsDestination, where: string, withThresholds: boolean): string {
  let line = `-a ${svc} -r ${formatAddressPort(d.address, d.port)} ${forwardSwitch(d)} -w ${d.weight}`;
  line += tunnelOptions(d, where);
  if (withThresholds) {
    if (d.upperThreshold > 0) line += ` -x ${d.upperThreshold}`;
    if (d.lowerThreshold > 0) line += ` -y ${d.lowerThreshold}`;
  }
  return line;
}

/**
 * The table as `ipvsadm-save -n` prints it (one `-A` line per service, then its `-a` lines).
 * Byte for byte when the table lists services and destinations in the kernel's dump order (as
 * a netlink dump does), and for every table whose order ipvsadm's sort fixes on its own.
 */
export function formatIpvsadmSave(table: IpvsTable, options: SaveOptions = {}): string {
  let out = '';
  const services = options.nosort ? table.services : sortServicesLikeIpvsadm(table.services);
  for (const s of services) {
    const svc = serviceOption(s.key);
    out += `-A ${svc}${serviceSettingsOptions(s)}\n`;
    for (const d of options.nosort ? s.destinations : sortDestinationsLikeIpvsadm(s.destinations)) {
      out += `${destinationLine(svc, d, `${describeServiceKey(s.key)} -> ${d.address}`, options.withThresholds === true)}\n`;
    }
  }
  return out;
}
