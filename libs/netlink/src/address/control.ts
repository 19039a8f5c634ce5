import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { AddressFamily } from '@fulcrum/schemas';
import type { RtNetlinkSocket, rt } from 'netlink';
import { FlagsNew, createRtNetlink } from 'netlink';
import { AttrWriter } from '../ipvs/attrs.js';
import { bytesToIp, canonicalIp, ipToBytes } from '../ip.js';
import { inNetns } from '../netns.js';

// Addresses, links and sysctls of one network namespace: what a director needs for its VIPs and
// what a real server needs for DR/TUN (VIP /32 or /128 on lo, arp_ignore/arp_announce, an ipip
// tunnel device). Built on the `netlink` package's rtnetlink requests.

export interface LinkState {
  index: number;
  name: string;
  up: boolean;
  mtu: number;
}

export interface InterfaceAddress {
  link: string;
  /** Canonical text form. */
  address: string;
  prefix: number;
  family: AddressFamily;
}

export interface IpipTunnel {
  name: string;
  /** Outer source address; absent = any. */
  local?: string;
  /** Outer destination; absent = accept from any peer (what a TUN real server wants). */
  remote?: string;
}

export type AddressOpName =
  | 'links'
  | 'link'
  | 'linkUp'
  | 'linkDown'
  | 'addresses'
  | 'addAddress'
  | 'deleteAddress'
  | 'createIpipTunnel'
  | 'deleteLink'
  | 'readSysctl'
  | 'writeSysctl';

/** The kernel refused an address, link or sysctl operation; `errno` is the errno name. */
export class AddressError extends Error {
  override name = 'AddressError';
  constructor(
    readonly errno: string,
    readonly op: AddressOpName,
    readonly object: string,
    options?: { cause?: unknown; message?: string },
  ) {
    super(options?.message ?? `${op} ${object}: ${errno}`, { cause: options?.cause });
  }
}

export interface AddressControl {
  links(): Promise<LinkState[]>;
  /** null when there is no such link. */
  link(name: string): Promise<LinkState | null>;
  linkUp(name: string): Promise<void>;
  linkDown(name: string): Promise<void>;
  /** Addresses of one link, or of all links. */
  addresses(link?: string): Promise<InterfaceAddress[]>;
  /** EEXIST when the link already has it. */
  addAddress(link: string, address: string, prefix: number): Promise<void>;
  /** EADDRNOTAVAIL when the link does not have it. */
  deleteAddress(link: string, address: string, prefix: number): Promise<void>;
  createIpipTunnel(tunnel: IpipTunnel): Promise<void>;
  deleteLink(name: string): Promise<void>;
  /** A sysctl under /proc/sys by its slash path, e.g. `net/ipv4/conf/lo/arp_ignore`; trimmed. */
  readSysctl(path: string): Promise<string>;
  writeSysctl(path: string, value: string | number): Promise<void>;
  close(): Promise<void>;
}

/** Checks a sysctl path and returns its /proc/sys file; no '..', no absolute paths, no odd characters. */
export function sysctlFile(path: string, op: AddressOpName = 'readSysctl'): string {
  const parts = path.split('/');
  if (parts.length < 2 || parts.some((p) => !/^[A-Za-z0-9_.:@-]+$/.test(p) || p === '.' || p === '..')) {
    throw new AddressError('EINVAL', op, path, {
      message: `sysctl path '${path}' is not of the form net/ipv4/conf/<if>/<name> (slash-separated plain names)`,
    });
  }
  return `/proc/sys/${parts.join('/')}`;
}

const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_IPTUN_LOCAL = 2;
const IFLA_IPTUN_REMOTE = 3;
const AF_INET = 2;
const AF_INET6 = 10;

function errnoOf(err: unknown): string {
  const m = err instanceof Error ? /Request rejected: (\w+)/.exec(err.message) : null;
  return m?.[1] === 'ENOTSUP' ? 'EOPNOTSUPP' : (m?.[1] ?? 'EIO');
}

export interface RtnetlinkAddressesOptions {
  /** Named network namespace (/run/netns/<name>); default: the caller's. */
  netns?: string;
}

/** AddressControl on rtnetlink and /proc/sys. */
export class RtnetlinkAddresses implements AddressControl {
  private readonly sock: RtNetlinkSocket;
  private readonly netns: string | undefined;

  constructor(opts: RtnetlinkAddressesOptions = {}) {
    this.netns = opts.netns;
    this.sock = opts.netns ? inNetns(opts.netns, () => createRtNetlink()) : createRtNetlink();
  }

  private async call<T>(op: AddressOpName, object: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AddressError) throw err;
      throw new AddressError(errnoOf(err), op, object, { cause: err });
    }
  }

  private toLink(m: rt.LinkMessage): LinkState {
    return { index: m.data.index ?? 0, name: m.attrs.ifname ?? '', up: m.data.flags?.up === true, mtu: m.attrs.mtu ?? 0 };
  }

  async links(): Promise<LinkState[]> {
    return this.call('links', 'all links', async () => (await this.sock.getLinks()).map((m) => this.toLink(m)));
  }

  async link(name: string): Promise<LinkState | null> {
    return (await this.links()).find((l) => l.name === name) ?? null;
  }

  private async index(op: AddressOpName, name: string): Promise<number> {
    const l = await this.link(name);
    if (!l) throw new AddressError('ENODEV', op, name, { message: `${op} ${name}: no such link` });
    return l.index;
  }

  async linkUp(name: string): Promise<void> {
    const index = await this.index('linkUp', name);
    await this.call('linkUp', name, () => this.sock.setLink({ index, flags: { up: true }, change: { up: true } }));
  }

  async linkDown(name: string): Promise<void> {
    const index = await this.index('linkDown', name);
    await this.call('linkDown', name, () => this.sock.setLink({ index, flags: {}, change: { up: true } }));
  }

  async addresses(link?: string): Promise<InterfaceAddress[]> {
    const links = await this.links();
    const names = new Map(links.map((l) => [l.index, l.name]));
    if (link !== undefined && !links.some((l) => l.name === link)) {
      throw new AddressError('ENODEV', 'addresses', link, { message: `addresses ${link}: no such link` });
    }
    const msgs = await this.call('addresses', link ?? 'all links', () => this.sock.getAddresses());
    const out: InterfaceAddress[] = [];
    for (const m of msgs) {
      const family: AddressFamily | null = m.data.family === AF_INET ? 'inet' : m.data.family === AF_INET6 ? 'inet6' : null;
      const raw = family === 'inet' ? (m.attrs.local ?? m.attrs.address) : m.attrs.address;
      if (!family || !raw) continue;
      const name = names.get(m.data.index ?? -1) ?? `#${m.data.index}`;
      if (link !== undefined && name !== link) continue;
      out.push({ link: name, address: bytesToIp(raw, family), prefix: m.data.prefixlen ?? 0, family });
    }
    return out;
  }

  private addressRequest(op: AddressOpName, link: string, address: string, prefix: number): { data: rt.Address; attrs: rt.AddressAttrs } {
    const v = isIP(address);
    const max = v === 6 ? 128 : 32;
    if (v === 0) throw new AddressError('EINVAL', op, `${address}/${prefix} on ${link}`, { message: `${op}: '${address}' is not an IP address` });
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new AddressError('EINVAL', op, `${address}/${prefix} on ${link}`, { message: `${op}: prefix ${prefix} is not within 0..${max}` });
    }
    const bytes = ipToBytes(address);
    return v === 6
      ? { data: { family: AF_INET6, prefixlen: prefix, flags: { nodad: true } }, attrs: { address: bytes } }
      : { data: { family: AF_INET, prefixlen: prefix }, attrs: { local: bytes, address: bytes } };
  }

  async addAddress(link: string, address: string, prefix: number): Promise<void> {
    const object = `${canonicalIp(address)}/${prefix} on ${link}`;
    const req = this.addressRequest('addAddress', link, address, prefix);
    const index = await this.index('addAddress', link);
    await this.call('addAddress', object, () =>
      this.sock.newAddress({ ...req.data, index }, req.attrs, { flags: FlagsNew.CREATE | FlagsNew.EXCL }),
    );
  }

  async deleteAddress(link: string, address: string, prefix: number): Promise<void> {
    const object = `${canonicalIp(address)}/${prefix} on ${link}`;
    const req = this.addressRequest('deleteAddress', link, address, prefix);
    const index = await this.index('deleteAddress', link);
    await this.call('deleteAddress', object, () => this.sock.delAddress({ ...req.data, index }, req.attrs));
  }

  async createIpipTunnel(t: IpipTunnel): Promise<void> {
    for (const a of [t.local, t.remote]) {
      if (a !== undefined && isIP(a) !== 4) {
        throw new AddressError('EINVAL', 'createIpipTunnel', t.name, { message: `createIpipTunnel ${t.name}: '${a}' is not an IPv4 address` });
      }
    }
    const info = new AttrWriter()
      .string(IFLA_INFO_KIND, 'ipip')
      .nested(IFLA_INFO_DATA, (d) => {
        if (t.local) d.bytes(IFLA_IPTUN_LOCAL, ipToBytes(t.local));
        if (t.remote) d.bytes(IFLA_IPTUN_REMOTE, ipToBytes(t.remote));
      })
      .toBuffer();
    await this.call('createIpipTunnel', t.name, () =>
      this.sock.newLink({}, { ifname: t.name, linkinfo: info }, { flags: FlagsNew.CREATE | FlagsNew.EXCL }),
    );
  }

  async deleteLink(name: string): Promise<void> {
    const index = await this.index('deleteLink', name);
    await this.call('deleteLink', name, () => this.sock.delLink({ index }));
  }

  private inside<T>(fn: () => T): T {
    return this.netns ? inNetns(this.netns, fn) : fn();
  }

  async readSysctl(path: string): Promise<string> {
    const file = sysctlFile(path);
    try {
      return this.inside(() => readFileSync(file, 'utf8')).trim();
    } catch (err) {
      throw new AddressError((err as NodeJS.ErrnoException).code ?? 'EIO', 'readSysctl', path, { cause: err });
    }
  }

  async writeSysctl(path: string, value: string | number): Promise<void> {
    const file = sysctlFile(path, 'writeSysctl');
    try {
      this.inside(() => writeFileSync(file, `${value}\n`));
    } catch (err) {
      throw new AddressError((err as NodeJS.ErrnoException).code ?? 'EIO', 'writeSysctl', `${path}=${value}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.sock.socket.close();
  }
}
