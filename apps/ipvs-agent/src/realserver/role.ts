import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import type { AddressControl } from '@fulcrum/netlink';
import { AddressError, canonicalIp } from '@fulcrum/netlink';
import type { VirtualService } from '@fulcrum/schemas';
import { forwardingOf } from '@fulcrum/schemas';
import type { Logger } from '@fulcrum/runtime';

// The real-server role: what the seeds' `realserver` init script does by hand, kept true.
// For every VIP this host serves by direct routing or an IPv4 tunnel: the VIP as /32 (/128) on lo,
// arp_ignore=1 and arp_announce=2 on all and lo (the host must not answer ARP for the VIP), and
// for TUN the ipip device tunl0 up with reverse-path filtering off for it (see rpFilterSysctls).
// The agent records what it changed (addresses it added, sysctls with their previous values,
// tunl0 brought up) in a state file, and undoes only that when the VIP leaves the desired state;
// a restart reads the file, so applying the same desired state again changes nothing.

export const TUNNEL_DEVICE = 'tunl0';

export interface ServedVip {
  /** Canonical address. */
  address: string;
  prefix: 32 | 128;
  /** Reached through an ipip tunnel (TUN) rather than direct routing. */
  tunnel: boolean;
}

/** The VIPs of DR/TUN services that have one of `hostAddresses` as a real (or sorry) server. */
export function vipsServedBy(services: Iterable<VirtualService>, hostAddresses: Iterable<string>): Map<string, ServedVip> {
  const mine = new Set([...hostAddresses].map(canonicalIp));
  const vips = new Map<string, ServedVip>();
  for (const vs of services) {
    if (vs.match.kind !== 'address') continue; // a firewall mark names no VIP to hold
    const address = canonicalIp(vs.match.address);
    const servers = vs.sorryServer ? [...vs.realServers, vs.sorryServer] : vs.realServers;
    for (const rs of servers) {
      const method = forwardingOf(vs, rs);
      if (method === 'nat' || !mine.has(canonicalIp(rs.address))) continue;
      const tunnel = method === 'tun';
      const prev = vips.get(address);
      vips.set(address, { address, prefix: isIP(address) === 6 ? 128 : 32, tunnel: tunnel || (prev?.tunnel ?? false) });
    }
  }
  return vips;
}

interface RoleState {
  /** VIPs the agent added to lo ("address/prefix"). */
  addresses: string[];
  /** Sysctls the agent changed, with the value they had before. */
  sysctls: Record<string, string>;
  /** The agent brought tunl0 up (or created it). */
  tunnelUp: boolean;
}

const emptyState = (): RoleState => ({ addresses: [], sysctls: {}, tunnelUp: false });

export class RealServerStateError extends Error {
  override name = 'RealServerStateError';
}

const ARP_SYSCTLS: Record<string, string> = {
  'net/ipv4/conf/all/arp_ignore': '1',
  'net/ipv4/conf/lo/arp_ignore': '1',
  'net/ipv4/conf/all/arp_announce': '2',
  'net/ipv4/conf/lo/arp_announce': '2',
};
const rpFilter = (device: string) => `net/ipv4/conf/${device}/rp_filter`;
const RP_FILTER_ALL = rpFilter('all');

export interface RealServerRoleOptions {
  addresses: AddressControl;
  logger: Logger;
  /** Where the agent records what it changed (survives restarts). */
  statePath: string;
}

export class RealServerRole {
  private state: RoleState | undefined;

  constructor(private readonly opts: RealServerRoleOptions) {}

  private async load(): Promise<RoleState> {
    if (this.state) return this.state;
    try {
      const parsed = JSON.parse(await readFile(this.opts.statePath, 'utf8')) as Partial<RoleState>;
      this.state = { ...emptyState(), ...parsed };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new RealServerStateError(`state file ${this.opts.statePath} is unreadable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      this.state = emptyState();
    }
    return this.state;
  }

  private async save(state: RoleState): Promise<void> {
    await mkdir(dirname(this.opts.statePath), { recursive: true });
    const tmp = `${this.opts.statePath}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
    await rename(tmp, this.opts.statePath);
  }

  /**
   * The packets of a TUN service come out of tunl0 with the client as their source. tunl0 holds no
   * address, and for a device without one the kernel drops every packet that reverse-path
   * filtering applies to, loose mode included (__fib_validate_source; seen in the lab as
   * TcpExtIPReversePathFilter). The filter in force is max(all, device), so both all and tunl0
   * go to 0. Every other device keeps the filter it had: its own value is raised to at least the
   * old `all` before `all` is lowered. `default` is left alone: writing it also rewrites every
   * device never written explicitly (seen in the lab), so a device created while `all` is 0 gets
   * only the default's filter.
   */
  private async rpFilterSysctls(state: RoleState): Promise<Record<string, string>> {
    const a = this.opts.addresses;
    const allBefore = Number(state.sysctls[RP_FILTER_ALL] ?? (await a.readSysctl(RP_FILTER_ALL)));
    const wanted: Record<string, string> = {};
    if (allBefore > 0) {
      // lo is left out: the kernel never reverse-path checks what it receives on loopback.
      const devices = (await a.links()).map((l) => l.name).filter((n) => n !== TUNNEL_DEVICE && n !== 'lo');
      for (const device of devices) {
        const own = await a.readSysctl(rpFilter(device)).catch((err: unknown) => {
          // A device without IPv4 configuration (or gone meanwhile) has nothing to keep.
          if (err instanceof AddressError) return null;
          throw err;
        });
        if (own !== null) wanted[rpFilter(device)] = String(Math.max(allBefore, Number(own)));
      }
    }
    wanted[rpFilter(TUNNEL_DEVICE)] = '0';
    wanted[RP_FILTER_ALL] = '0';
    return wanted;
  }

  /** Makes the host serve exactly these VIPs; returns what it changed (empty when nothing). */
  async apply(vips: ReadonlyMap<string, ServedVip>): Promise<string[]> {
    const a = this.opts.addresses;
    const state = await this.load();
    const changes: string[] = [];
    const tunnels = [...vips.values()].some((v) => v.tunnel && v.prefix === 32);
    try {
      // Sysctls before addresses: the VIP must never be on lo while the host still answers ARP for it.
      const wanted: Record<string, string> = vips.size > 0 ? { ...ARP_SYSCTLS } : {};
      if (tunnels) {
        if (!(await a.link(TUNNEL_DEVICE))) {
          await a.createIpipTunnel({ name: TUNNEL_DEVICE }).catch((err: unknown) => {
            // Loading the ipip module creates tunl0 itself; it may have appeared meanwhile.
            if (!(err instanceof AddressError && err.errno === 'EEXIST')) throw err;
          });
          changes.push(`created ${TUNNEL_DEVICE}`);
        }
        const link = await a.link(TUNNEL_DEVICE);
        if (link && !link.up) {
          await a.linkUp(TUNNEL_DEVICE);
          state.tunnelUp = true;
          changes.push(`${TUNNEL_DEVICE} up`);
        }
        Object.assign(wanted, await this.rpFilterSysctls(state));
      }
      for (const [path, value] of Object.entries(wanted)) {
        const now = await a.readSysctl(path);
        if (now === value) continue;
        if (!(path in state.sysctls)) state.sysctls[path] = now;
        await a.writeSysctl(path, value);
        changes.push(`${path}=${value} (was ${now})`);
      }

      const onLo = new Set((await a.addresses('lo')).map((x) => `${x.address}/${x.prefix}`));
      const want = new Set([...vips.values()].map((v) => `${v.address}/${v.prefix}`));
      for (const entry of want) {
        if (onLo.has(entry)) continue;
        const [address, prefix] = entry.split('/') as [string, string];
        await a.addAddress('lo', address, Number(prefix));
        if (!state.addresses.includes(entry)) state.addresses.push(entry);
        changes.push(`added ${entry} on lo`);
      }
      for (const entry of [...state.addresses]) {
        if (want.has(entry)) continue;
        const [address, prefix] = entry.split('/') as [string, string];
        if (onLo.has(entry)) {
          await a.deleteAddress('lo', address, Number(prefix));
          changes.push(`removed ${entry} from lo`);
        }
        state.addresses = state.addresses.filter((x) => x !== entry);
      }

      // Undo, after the addresses are gone: sysctls nobody needs any more (newest first, so the
      // old `all` rp_filter is back before a device's own lower value is), then the tunnel.
      for (const [path, before] of Object.entries(state.sysctls).reverse()) {
        if (path in wanted) continue;
        await a.writeSysctl(path, before).catch((err: unknown) => {
          // tunl0 may be gone (module unloaded): nothing left to restore there.
          if (!(err instanceof AddressError)) throw err;
        });
        delete state.sysctls[path];
        changes.push(`${path}=${before} (restored)`);
      }
      if (!tunnels && state.tunnelUp) {
        if (await a.link(TUNNEL_DEVICE)) await a.linkDown(TUNNEL_DEVICE);
        state.tunnelUp = false;
        changes.push(`${TUNNEL_DEVICE} down`);
      }
    } finally {
      if (changes.length > 0) await this.save(state);
    }
    if (changes.length > 0) this.opts.logger.info({ vips: [...vips.keys()], changes }, 'real-server addresses and sysctls updated');
    return changes;
  }
}
