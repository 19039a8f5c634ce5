import { isIP } from 'node:net';
import type { AddressControl, AddressOpName, InterfaceAddress, IpipTunnel, LinkState } from '../address/control.js';
import { AddressError, sysctlFile } from '../address/control.js';
import { canonicalIp } from '../ip.js';

// Links, addresses and sysctls in memory, answering like the kernel: EEXIST for an address the link
// already has, EADDRNOTAVAIL for deleting one it does not, ENODEV for a missing link, EEXIST for a
// link name in use. Starts with `lo` (down, as in a fresh namespace) unless told otherwise.

export interface InMemoryAddressesOptions {
  links?: string[];
  sysctls?: Record<string, string>;
}

interface Link extends LinkState {
  addresses: InterfaceAddress[];
  tunnel?: IpipTunnel;
}

export class InMemoryAddresses implements AddressControl {
  private readonly linkMap = new Map<string, Link>();
  private nextIndex = 1;
  /** Every write (address, link, sysctl), in order, e.g. `addAddress 10.0.0.1/32 on lo`. */
  readonly writes: string[] = [];
  readonly sysctls = new Map<string, string>();
  closed = false;

  constructor(opts: InMemoryAddressesOptions = {}) {
    for (const name of opts.links ?? ['lo']) this.addLink(name);
    for (const [k, v] of Object.entries(opts.sysctls ?? {})) this.sysctls.set(k, v);
  }

  /** Adds a link as if created outside (a veth, a dummy). */
  addLink(name: string): void {
    this.linkMap.set(name, { index: this.nextIndex++, name, up: false, mtu: name === 'lo' ? 65536 : 1500, addresses: [] });
  }

  get writeCount(): number {
    return this.writes.length;
  }

  private get(op: AddressOpName, name: string): Link {
    const l = this.linkMap.get(name);
    if (!l) throw new AddressError('ENODEV', op, name, { message: `${op} ${name}: no such link` });
    return l;
  }

  async links(): Promise<LinkState[]> {
    return [...this.linkMap.values()].map(({ index, name, up, mtu }) => ({ index, name, up, mtu }));
  }
  async link(name: string): Promise<LinkState | null> {
    return (await this.links()).find((l) => l.name === name) ?? null;
  }
  async linkUp(name: string): Promise<void> {
    this.get('linkUp', name).up = true;
    this.writes.push(`linkUp ${name}`);
  }
  async linkDown(name: string): Promise<void> {
    this.get('linkDown', name).up = false;
    this.writes.push(`linkDown ${name}`);
  }

  async addresses(link?: string): Promise<InterfaceAddress[]> {
    if (link !== undefined) return this.get('addresses', link).addresses.map((a) => ({ ...a }));
    return [...this.linkMap.values()].flatMap((l) => l.addresses.map((a) => ({ ...a })));
  }

  private check(op: AddressOpName, link: string, address: string, prefix: number): InterfaceAddress {
    const v = isIP(address);
    const max = v === 6 ? 128 : 32;
    if (v === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new AddressError('EINVAL', op, `${address}/${prefix} on ${link}`);
    }
    return { link, address: canonicalIp(address), prefix, family: v === 6 ? 'inet6' : 'inet' };
  }

  async addAddress(link: string, address: string, prefix: number): Promise<void> {
    const a = this.check('addAddress', link, address, prefix);
    const l = this.get('addAddress', link);
    const object = `${a.address}/${prefix} on ${link}`;
    this.writes.push(`addAddress ${object}`);
    // The kernel matches IPv4 on address+prefix and IPv6 on address alone.
    if (l.addresses.some((x) => x.address === a.address && (a.family === 'inet6' || x.prefix === prefix))) {
      throw new AddressError('EEXIST', 'addAddress', object);
    }
    l.addresses.push(a);
  }

  async deleteAddress(link: string, address: string, prefix: number): Promise<void> {
    const a = this.check('deleteAddress', link, address, prefix);
    const l = this.get('deleteAddress', link);
    const object = `${a.address}/${prefix} on ${link}`;
    this.writes.push(`deleteAddress ${object}`);
    const i = l.addresses.findIndex((x) => x.address === a.address && x.prefix === prefix);
    if (i === -1) throw new AddressError('EADDRNOTAVAIL', 'deleteAddress', object);
    l.addresses.splice(i, 1);
  }

  async createIpipTunnel(t: IpipTunnel): Promise<void> {
    this.writes.push(`createIpipTunnel ${t.name}`);
    if (this.linkMap.has(t.name)) throw new AddressError('EEXIST', 'createIpipTunnel', t.name);
    this.addLink(t.name);
    const l = this.linkMap.get(t.name) as Link;
    l.mtu = 1480;
    l.tunnel = { ...t };
  }

  /** The tunnel parameters a link was created with, or null. */
  tunnel(name: string): IpipTunnel | null {
    return this.linkMap.get(name)?.tunnel ?? null;
  }

  async deleteLink(name: string): Promise<void> {
    this.get('deleteLink', name);
    this.writes.push(`deleteLink ${name}`);
    this.linkMap.delete(name);
  }

  async readSysctl(path: string): Promise<string> {
    sysctlFile(path);
    const v = this.sysctls.get(path);
    if (v === undefined) throw new AddressError('ENOENT', 'readSysctl', path);
    return v;
  }

  async writeSysctl(path: string, value: string | number): Promise<void> {
    sysctlFile(path, 'writeSysctl');
    this.writes.push(`writeSysctl ${path}=${value}`);
    this.sysctls.set(path, String(value));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
